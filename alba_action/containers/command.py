"""`alba container push|ls|rm|gc`: arguments → images and repository → publish → trace."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from alba_action.containers import manage, publish
from alba_action.containers.repository import open_repository
from alba_action.context import context_from_env
from alba_action.report.progress import Reporter


def index_annotations(version: str | None, env=None, cwd: Path | None = None) -> dict[str, str]:
    """OCI annotations from the git/CI context, where known; `created` is the commit time so
    re-runs match (never the clock: a retried pipeline must give the same digest)."""
    ctx = context_from_env(os.environ if env is None else env, cwd or Path.cwd())
    found = {
        "org.opencontainers.image.created": "" if ctx.commit_date_is_now else ctx.commit_date,
        "org.opencontainers.image.revision": ctx.head_sha or ctx.sha,
        "org.opencontainers.image.source": ctx.repo_url,
        "org.opencontainers.image.version": version or "",
    }
    return {k: v for k, v in found.items() if v}


def credentials() -> tuple[str | None, str | None]:
    return os.environ.get("ALBA_REGISTRY_USERNAME") or None, os.environ.get("ALBA_REGISTRY_PASSWORD") or None


@contextmanager
def loaded_images(src_dir: Path, reporter: Reporter, *, compression: str = "gzip", fmt: str = "oci",
                  max_uncompressed: int | None = None) -> Iterator[list]:
    """Load every platform once; the blobs live in a temporary folder until the block ends."""
    from alba_action.images.load import load_images

    with tempfile.TemporaryDirectory(prefix="alba-") as workdir:
        kwargs = {"max_uncompressed": max_uncompressed} if max_uncompressed else {}
        yield load_images(src_dir, compression=compression, fmt=fmt, workdir=Path(workdir), log=reporter.log, **kwargs)


def push_images(target: str, refs: list[str], images: list, reporter: Reporter, *, fmt: str = "oci",
                dry_run: bool = False, annotations: dict[str, str] | None = None,
                **connection) -> publish.ContainerResult:
    """Merge the loaded images into one index and publish it to one target under every tag.

    `connection`: insecure, username, password, chunked — for docker:// targets."""
    repo, tags = _open_checked(target, refs, dry_run, connection)
    return push_to(repo, tags, images, reporter, fmt, dry_run, annotations)


def _open_checked(target: str, refs: list[str], dry_run: bool, connection: dict):
    repo, tags = open_repository(target, refs, need_tag=True, **connection)
    if not dry_run:
        repo.check()  # a wrong URL or password fails before minutes of compression
    return repo, tags


def push_to(repo, tags: list[str], images: list, reporter: Reporter, fmt: str, dry_run: bool,
             annotations: dict[str, str] | None) -> publish.ContainerResult:
    """Publish loaded images to an opened (and checked) repository under `tags`."""
    from alba_action.images.manifests import build_index

    if annotations is None:
        annotations = index_annotations(tags[0] if tags else None)
    reporter.log("-- merge system images --")
    index = build_index(images, annotations, fmt)
    reporter.log(f"index {index.digest} ({len(images)} platforms: {', '.join(str(i.platform) for i in images)})")
    return publish.push(repo, tags, images, index, reporter, dry_run)


def load_and_push(target: str, refs: list[str], src_dir: Path, reporter: Reporter, *, compression: str = "gzip",
                  fmt: str = "oci", dry_run: bool = False, max_uncompressed: int | None = None,
                  **connection) -> publish.ContainerResult:
    """The whole container step for one target, as the CLI runs it."""
    repo, tags = _open_checked(target, refs, dry_run, connection)
    with loaded_images(src_dir, reporter, compression=compression, fmt=fmt, max_uncompressed=max_uncompressed) as images:
        return push_to(repo, tags, images, reporter, fmt, dry_run, None)


def run_container(args, reporter: Reporter) -> dict:
    user, password = credentials()
    if args.action == "push":
        result = load_and_push(
            args.target, args.refs, args.src_dir, reporter, compression=args.compression, fmt=args.fmt,
            dry_run=args.dry_run, max_uncompressed=args.max_uncompressed_size,
            insecure=args.insecure, username=user, password=password, chunked=args.chunked,
        )
        reporter.log("✅ dry run: nothing written" if args.dry_run else f"✅ push succeeded {result.digest}")
        return result.to_json()
    repo, tags = open_repository(args.target, args.refs, need_tag=args.action == "rm")
    if args.action == "ls":
        out = manage.ls(repo)
        if not args.json:
            for tag in out["tags"]:
                print(tag)
        return out
    if args.action == "rm":
        result = manage.rm(repo, tags, reporter, args.dry_run)
        reporter.log("✅ dry run: nothing deleted" if args.dry_run else "✅ rm succeeded")
        return result.to_json()
    result = manage.gc(repo, args.keep, args.include_releases, reporter, args.dry_run)
    reporter.log("✅ dry run: nothing deleted" if args.dry_run else
                 f"✅ gc succeeded ({len(result.removed_tags)} tags, {len(result.deleted_blobs)} blobs removed)")
    return result.to_json()
