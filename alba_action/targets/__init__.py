"""Where things are published: one URL syntax, one storage protocol."""
