"""`alba container copy` and `alba static copy` with explicit arguments (cli.py and the CI
step parse them): open every target first, read and check the whole source, then write
each target in turn, tags last. Nothing is written anywhere before the source is checked."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from alba_action.copy import graph as graph_plan
from alba_action.errors import InputError, TargetError
from alba_action.names import check_name, check_tag, split_ref
from alba_action.report.progress import Reporter, human_size
from alba_action.request import ImageOptions, RunOptions

RATE_LIMIT_FIX = ("wait for the registry's window to pass (Docker Hub: 10 pulls an hour without an account), "
                  "log in for a higher limit (docker login, or ALBA_REGISTRY_USERNAME/ALBA_REGISTRY_PASSWORD), "
                  "or raise ALBA_RETRY_BUDGET_SECONDS to wait longer; a re-run copies only what is missing")


@dataclass
class CopyResult:
    kind: str  # "container" or "static"
    name: str
    source: str
    tags: dict[str, list[str]]  # source tag → the tags written for it
    digests: dict[str, str] = field(default_factory=dict)  # source tag → digest (images)
    size: int = 0  # bytes the copied graph holds
    targets: list[dict] = field(default_factory=list)
    plan: dict[str, list[str]] = field(default_factory=dict)  # target → lines (a dry run)
    dry_run: bool = False

    def to_json(self) -> dict:
        return dict(self.__dict__)


def parse_copy_refs(refs: list[str], as_tags: list[str], *, single: bool) -> tuple[str, list[str]]:
    """-t NAME[:TAG] … → (name, tags); no tag at all means every tag (a mirror)."""
    names, tags = set(), []
    for ref in refs:
        name, tag = split_ref(ref)
        names.add(check_name(name, single=single))
        if tag:
            tags.append(check_tag(tag))
    if len(names) > 1:
        raise InputError(f"-t names several releases ({', '.join(sorted(names))})", "copy one name per command")
    if tags and len(tags) != len(refs):
        raise InputError("-t mixes NAME and NAME:TAG", "give tags for all, or -t NAME alone to copy every tag")
    for tag in as_tags:
        check_tag(tag, flag="--as")
    if as_tags and refs and not tags:
        raise InputError(f"--as {' '.join(as_tags)} without a source tag",
                         "name the tag to promote: -t NAME:TAG --as NEWTAG")
    return (names.pop() if names else ""), list(dict.fromkeys(tags))


def _no_url_tag(url: str) -> None:
    if url.startswith("docker://"):
        from alba_action.targets.registries.remote import parse_docker_url

        if parse_docker_url(url)[3]:
            raise InputError(f"TARGET {url}: a copy's target URL takes no tag",
                             "drop the :TAG; the tags come from the source or from --as")


def copy_images(refs: list[str], as_tags: list[str], source_url: str, target_urls: list[str], reporter: Reporter,
                options: RunOptions = RunOptions(), *, insecure: bool = False, referrers: bool = True,
                dry_run: bool = False) -> CopyResult:
    from alba_action.copy.images import SourceReader, source_tags
    from alba_action.copy.write import plan_lines, write_target
    from alba_action.targets.open import open_repository
    from alba_action.targets.registries.mounts import MountSources

    name, tags = parse_copy_refs(refs, as_tags, single=False)
    image, mounts = ImageOptions(insecure=insecure), MountSources()
    for url in target_urls:
        _no_url_tag(url)
    source, url_tags = open_repository(source_url, name, tags, need_tag=False, options=options, image=image,
                                       mounts=mounts)
    targets = [open_repository(u, name, [], need_tag=False, options=options, image=image, mounts=mounts)[0]
               for u in target_urls]
    for target in targets:
        target.check()  # an unknown or unwritable target fails before the source is read
    wanted = source_tags(source, url_tags)
    tag_map = graph_plan.tag_map(wanted, list(as_tags))
    reporter.log(f"-- read {source.url} ({', '.join(wanted)}) --")
    with tempfile.TemporaryDirectory(prefix="alba-copy-") as staging:
        reader = SourceReader(source, targets, reporter, Path(staging), referrers=referrers, fetch=not dry_run)
        graph = _reading(source, lambda: reader.read(wanted))
        result = CopyResult("container", source.name, source.url, tag_map, dict(graph.releases), graph.size,
                            dry_run=dry_run)
        reporter.log(f"checked {len(graph.manifests)} manifests, {len(graph.blobs)} blobs "
                     f"({human_size(graph.size)}), {len(graph.attachment_tags)} signature tags, "
                     f"{len(graph.referrers)} referrer lists")
        for i, target in enumerate(targets):
            if dry_run:
                result.plan[target.url] = plan_lines(reader, i, target, tag_map, referrers)
                for line in result.plan[target.url]:
                    reporter.log(line)
            else:
                result.targets.append(write_target(i, target, _Writer(source, reader), tag_map, reporter,
                                                   referrers).to_json())
    return result


class _Writer:
    """The reader as the writer sees it, with the rate-limit message on late reads too."""

    def __init__(self, source, reader) -> None:
        self.source, self._reader = source, reader
        self.graph, self.missing = reader.graph, reader.missing

    def stage(self, blob):
        return _reading(self.source, lambda: self._reader.stage(blob))


def _reading(source, read):
    """Run a read of the source; a source that kept answering 429 is named as rate limited."""
    try:
        return read()
    except TargetError as err:
        if "answered 429" in err.message or "answered 429" in str(err.fix):
            raise TargetError(f"the source {source.url} is rate limited (429 Too Many Requests, its pull limit): "
                              f"{err.message}", RATE_LIMIT_FIX) from None
        raise


def copy_static(refs: list[str], as_tags: list[str], source_url: str, target_urls: list[str], reporter: Reporter,
                options: RunOptions = RunOptions(), *, pages: bool = True, dry_run: bool = False) -> CopyResult:
    from alba_action.copy.static import Source, plan_lines, read_release, source_tags, write_target
    from alba_action.targets.open import open_store

    if not refs:
        raise InputError("no -t given", "add -t NAME:TAG (or -t NAME to copy every tag)")
    name, tags = parse_copy_refs(refs, as_tags, single=True)
    if source_url.startswith("docker://") or any(u.startswith("docker://") for u in target_urls):
        raise InputError("static releases live in buckets, folders and websites, not in docker:// registries",
                         "use alba container copy for images; give s3://, file:// or https:// URLs here")
    stores = [open_store(u, options) for u in target_urls]
    for store in stores:
        store.check()
    source = Source(source_url, options)
    wanted = source_tags(source, name, tags)
    tag_map = graph_plan.tag_map(wanted, list(as_tags))
    reporter.log(f"-- read {source.url} ({name}: {', '.join(wanted)}) --")
    with tempfile.TemporaryDirectory(prefix="alba-copy-") as staging:
        releases = [_reading(source, lambda t=t: read_release(source, name, t, Path(staging)))
                    for t in reversed(wanted)]
        size = sum(r.size for r in releases)
        reporter.log(f"checked {sum(len(r.objects) for r in releases)} objects of {len(releases)} tags "
                     f"({human_size(size)})")
        result = CopyResult("static", name, source.url, tag_map, size=size, dry_run=dry_run)
        for store in stores:
            if dry_run:
                result.plan[store.url] = plan_lines(name, releases, tag_map)
                for line in result.plan[store.url]:
                    reporter.log(line)
            else:
                result.targets.append(write_target(store, name, releases, tag_map, reporter, pages).to_json())
    return result
