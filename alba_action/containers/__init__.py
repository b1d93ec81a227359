"""`alba container …`: publish loaded images to a static registry or an OCI registry."""
