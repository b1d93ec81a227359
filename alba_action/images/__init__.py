"""Container images: archives in (docker, Nix, OCI), compression, manifests, the index."""
