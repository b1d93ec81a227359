"""Image names and tags: the OCI distribution grammar, checked before anything is written."""

from __future__ import annotations

from alba_action.errors import InputError

from alba_action.grammar import TAG_RULE, is_name, is_tag


def check_name(name: str, *, single: bool = False, flag: str = "-t") -> str:
    if not is_name(name, single):
        shape = "one path component" if single else "lower-case components separated by '/'"
        raise InputError(
            f"{flag} {name!r}: not a valid name",
            f"use {shape} of a-z, 0-9 and single '.', '_' or '-' between them (e.g. albatros)",
        )
    return name


def check_tag(tag: str, *, flag: str = "-t") -> str:
    if not is_tag(tag):
        raise InputError(f"{flag} tag {tag!r}: not a valid tag", f"use {TAG_RULE}")
    return tag


def split_ref(ref: str) -> tuple[str, str | None]:
    """'NAME:TAG' → (NAME, TAG); 'NAME' → (NAME, None). A ':' before the last '/' is a registry port."""
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        return ref[:colon], ref[colon + 1:]
    return ref, None


def parse_refs(refs: list[str], *, need_tag: bool, single: bool = False) -> tuple[str, list[str]]:
    """All -t values of one command: one name, and its tags in the order given (deduplicated)."""
    if not refs:
        raise InputError("no -t given", "add -t NAME:TAG (e.g. -t albatros:0.9)" if need_tag else "add -t NAME")
    names, tags = set(), []
    for ref in refs:
        name, tag = split_ref(ref)
        names.add(check_name(name, single=single))
        if need_tag:
            if not tag:
                raise InputError(f"-t {ref!r} has no tag", f"write -t {name}:TAG (e.g. -t {name}:0.9)")
            if check_tag(tag) not in tags:
                tags.append(tag)
        elif tag:
            raise InputError(f"-t {ref!r}: this command takes a name without a tag", f"write -t {name}")
    if len(names) > 1:
        raise InputError(
            f"-t names several images ({', '.join(sorted(names))})", "publish one name per command; repeat -t only for tags"
        )
    return names.pop(), tags
