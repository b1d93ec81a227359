"""alba: publish static binaries and multi-platform container images."""

from importlib import metadata as _metadata
from pathlib import Path as _Path

SOURCE_VERSION = "0.1.0"  # pyproject.toml's version (a unit test keeps the two equal)


def _installed_version() -> str:
    """The installed distribution's version, when this very package is the one it installed
    (not when a checkout runs beside another installed version, nor for an editable install)."""
    try:
        dist = _metadata.distribution("alba-action")
    except _metadata.PackageNotFoundError:
        return ""
    installed = _Path(str(dist.locate_file("alba_action/__init__.py"))).resolve()
    return dist.version if installed == _Path(__file__).resolve() else ""


__version__ = _installed_version() or SOURCE_VERSION
