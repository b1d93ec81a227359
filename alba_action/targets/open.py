"""One way to open any target URL with the run's options: a store (s3://, file://), an OCI
registry (docker://), or an image repository on either (a static registry on a store).

Every target opened here carries the run's retry budget, timeouts and credentials, whether
it is written by a push or read by verify, ls, rm or gc.
"""

from __future__ import annotations

from alba_action.errors import InputError
from alba_action.request import ImageOptions, RunOptions
from alba_action.targets.base import ImageRepository, Store
from alba_action.targets.registries.mounts import MountSources
from alba_action.targets.registries.static import StaticRegistry
from alba_action.targets.stores.folder import LocalDirStore
from alba_action.targets.url import FileUrl, parse_target


def open_store(url: str, options: RunOptions = RunOptions()) -> Store:
    target = parse_target(url)
    if isinstance(target, FileUrl):
        return LocalDirStore(target, settle_seconds=options.settle_seconds)
    from alba_action.targets.stores.s3 import S3Store  # boto3 is imported only for s3:// targets

    return S3Store(target, options)


def open_registry(url: str, options: RunOptions = RunOptions(), *, insecure: bool = False, chunked: bool = False,
                  mounts: MountSources | None = None):
    """A docker:// URL as an OciRegistry with the run's credentials (or the Docker config)."""
    from alba_action.targets.registries.remote import OciRegistry  # oras is imported only for registries

    return OciRegistry.from_url(url, insecure=insecure, chunked=chunked, username=options.registry_username or None,
                                password=options.registry_password.value or None,
                                docker_config=options.docker_config, mounts=mounts, options=options)


def open_repository(url: str, name: str, tags: list[str] | tuple[str, ...], *, need_tag: bool,
                    options: RunOptions = RunOptions(), image: ImageOptions = ImageOptions(),
                    mounts: MountSources | None = None) -> tuple[ImageRepository, list[str]]:
    """(repository, tags). For docker:// the repository comes from the URL, and the URL's
    tag comes after the given ones; a static registry is `name` in the bucket or folder."""
    if url.startswith("docker://"):
        registry = open_registry(url, options, insecure=image.insecure, chunked=image.chunked, mounts=mounts)
        wanted = list(dict.fromkeys([*tags, *([registry.tag] if registry.tag else [])]))
        if need_tag and not wanted:
            raise InputError(f"no tag for {registry.url}", "add -t NAME:TAG or end the URL with :TAG")
        return registry, wanted
    if not name:
        raise InputError(f"no name for {url}", "add -t NAME:TAG: a bucket or folder needs the image's name")
    if need_tag and not tags:
        raise InputError(f"no tag for {name} on {url}", f"add -t {name}:TAG")
    return StaticRegistry(open_store(url, options), name), list(tags)
