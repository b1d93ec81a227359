"""Image registries: an OCI registry over the distribution API, and the static registry laid out on a store."""
