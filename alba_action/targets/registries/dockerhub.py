"""Docker Hub's several names, in one place.

Users write `docker.io/NAME`; its API answers at `registry-1.docker.io`; `docker login`
stores its credentials under `https://index.docker.io/v1/`; cosign names signatures
`index.docker.io/NAME`; and official images live under `library/`.
"""

from __future__ import annotations

API_HOST = "registry-1.docker.io"
HOSTS = frozenset({"docker.io", "index.docker.io", API_HOST, "registry.hub.docker.com"})
CONFIG_KEY = "https://index.docker.io/v1/"  # where `docker login` keeps Docker Hub's credentials


def is_hub(host: str) -> bool:
    return host.lower() in HOSTS


def api_address(host: str, repo: str) -> tuple[str, str]:
    """(host, repository) as the API wants them: `docker.io/alpine` → registry-1.docker.io, library/alpine."""
    if host in ("docker.io", "index.docker.io"):
        return API_HOST, repo if "/" in repo else f"library/{repo}"
    return host, repo


def pull_host(host: str) -> str:
    """How `docker pull` names the registry: docker.io for Docker Hub, else the host itself."""
    return "docker.io" if host == API_HOST else host


def signature_host(host: str) -> str:
    """How cosign names the registry in a signature: index.docker.io for Docker Hub."""
    return "index.docker.io" if host == API_HOST else host


def config_key(host: str) -> str:
    """The key a credentials store holds this registry's login under."""
    return CONFIG_KEY if is_hub(host) else host
