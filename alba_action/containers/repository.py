"""A target URL and the -t values become one image repository and its tags."""

from __future__ import annotations

from alba_action.errors import InputError
from alba_action.names import check_tag, parse_refs, split_ref
from alba_action.targets.open import open_store
from alba_action.targets.static_registry import StaticRegistry


def open_repository(url: str, refs: list[str], *, need_tag: bool, insecure: bool = False,
                    username: str | None = None, password: str | None = None, chunked: bool = False):
    """(repository, tags). For docker:// the repository comes from the URL; -t adds tags."""
    if url.startswith("docker://"):
        from alba_action.targets.registry import OciRegistry

        registry = OciRegistry.from_url(url, insecure=insecure, username=username, password=password,
                                        chunked=chunked)
        tags: list[str] = []
        for ref in refs:  # -t first: the first tag is the version annotation on every target
            tag = split_ref(ref)[1]
            if tag and check_tag(tag) not in tags:
                tags.append(tag)
            elif need_tag and not tag:
                raise InputError(f"-t {ref!r} has no tag", "write -t NAME:TAG, or put :TAG at the end of the docker:// URL")
        if registry.tag and registry.tag not in tags:
            tags.append(registry.tag)
        if need_tag and not tags:
            raise InputError(f"no tag for {url}", "add -t NAME:TAG or end the URL with :TAG")
        return registry, tags
    name, tags = parse_refs(refs, need_tag=need_tag)
    return StaticRegistry(open_store(url), name), tags
