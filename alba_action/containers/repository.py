"""A target URL becomes one image repository and the tags to push there."""

from __future__ import annotations

from alba_action.errors import InputError
from alba_action.request import ImageOptions, RunOptions
from alba_action.targets.base import ImageRepository
from alba_action.targets.open import open_store
from alba_action.targets.mounts import MountSources
from alba_action.targets.static_registry import StaticRegistry


def open_repository(url: str, name: str, tags: list[str] | tuple[str, ...], *, need_tag: bool,
                    options: RunOptions = RunOptions(), image: ImageOptions = ImageOptions(),
                    mounts: MountSources | None = None) -> tuple[ImageRepository, list[str]]:
    """(repository, tags). For docker:// the repository comes from the URL, and the URL's
    tag comes after the given ones; a static registry is `name` in the bucket or folder."""
    if url.startswith("docker://"):
        from alba_action.targets.registry import OciRegistry
        from alba_action.targets.retry import Timeouts

        registry = OciRegistry.from_url(
            url, insecure=image.insecure, chunked=image.chunked, username=options.registry_username or None,
            password=options.registry_password.value or None, docker_config=options.docker_config,
            retry_budget=options.retry_budget_seconds, mounts=mounts, parallel=options.parallel,
            timeouts=Timeouts(request=options.request_timeout_seconds))
        wanted = list(dict.fromkeys([*tags, *([registry.tag] if registry.tag else [])]))
        if need_tag and not wanted:
            raise InputError(f"no tag for {registry.url}", "add -t NAME:TAG or end the URL with :TAG")
        return registry, wanted
    if not name:
        raise InputError(f"no name for {url}", "add -t NAME:TAG: a bucket or folder needs the image's name")
    if need_tag and not tags:
        raise InputError(f"no tag for {name} on {url}", f"add -t {name}:TAG")
    return StaticRegistry(open_store(url, options), name), list(tags)
