"""alba: publish static binaries and multi-platform container images."""

__version__ = "0.1.0"
