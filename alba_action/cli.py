"""`alba …` and `python -m alba_action …`: parse the command line, build a request, call, print.

This module and action.py are the edges: the only places that read argparse or the
environment. Everything below takes a PublishRequest or explicit arguments.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from alba_action import __version__
from alba_action.errors import AlbaError, InputError
from alba_action.grammar import parse_duration, parse_size
from alba_action.names import parse_refs
from alba_action.report.progress import Reporter


def _common(p: argparse.ArgumentParser, tags: str) -> None:
    p.add_argument("-t", "--tag", dest="refs", action="append", default=[], metavar=tags,
                   help=f"{tags} (repeatable)")
    p.add_argument("--json", action="store_true", help="print the machine-readable result on stdout")
    p.add_argument("--dry-run", action="store_true", help="print what would be written or deleted; write nothing")
    p.add_argument("-q", "--quiet", action="store_true", help="only errors on stderr")


def _image_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--compression", choices=["gzip", "zstd", "none"], default="gzip",
                   help="layer compression (deterministic); gzip is read by every client")
    p.add_argument("--format", dest="fmt", choices=["oci", "docker"], default="oci",
                   help="manifest media types: OCI (default) or Docker v2 / manifest list")
    p.add_argument("--max-uncompressed-size", type=_size, default=None, metavar="SIZE",
                   help="refuse archives that expand beyond SIZE (e.g. 16G); guards against bombs")
    p.add_argument("--insecure", action="store_true", help="plain HTTP to a docker:// registry")
    p.add_argument("--chunked", action="store_true",
                   help="docker:// targets: upload blobs in 64 MiB PATCH chunks (automatic above 256 MiB)")
    p.add_argument("--cache-max-size", type=_size, default=None, metavar="SIZE",
                   help="cap the image cache (default ALBA_CACHE_MAX_SIZE or 10G); least recently used images go first")
    p.add_argument("--annotation", action="append", default=[], metavar="[index:|manifest:]KEY=VALUE",
                   help="an OCI annotation on the index (default) or on each platform manifest (repeatable)")


def _add_group(sub, kind: str, help_: str) -> None:
    group = sub.add_parser(kind, help=help_).add_subparsers(dest="action", required=True)
    push = group.add_parser("push", help=f"publish a {kind} tag to one or more targets")
    _common(push, "NAME:TAG")
    push.add_argument("src_dir", type=Path, metavar="SRC_DIR")
    push.add_argument("targets", nargs="+", metavar="TARGET", help="one or more targets, each published in turn")
    push.add_argument("--provenance", action=argparse.BooleanOptionalAction, default=None,
                      help="attach SLSA provenance (default: on in a CI — GitHub, Forgejo, Woodpecker, Drone — off locally)")
    push.add_argument("--jobs", type=int, default=None, metavar="N",
                      help="requests in flight per target (default 16; alba halves it while a store throttles)")
    push.add_argument("--latest-guard", action="store_true",
                      help="drop the tag `latest` when this version is older than a release already on a target")
    if kind == "container":
        _image_flags(push)
        push.add_argument("--sign-key", type=Path, default=None, metavar="FILE",
                          help="sign the index and every platform manifest (cosign key or PKCS#8 P-256 PEM; "
                               "password from ALBA_SIGN_PASSWORD or COSIGN_PASSWORD)")
    else:
        push.add_argument("--minisign-key", type=Path, default=None, metavar="FILE",
                          help="sign the checksums file and every file with this minisign secret key "
                               "(password from ALBA_MINISIGN_PASSWORD)")
        push.add_argument("--no-page", dest="page", action="store_false",
                          help="do not write the download pages (df-dist-v1/NAME/index.html, df-dist-v1/index.html)")
        page = group.add_parser("page", help="rewrite the download pages of a name")
        _common(page, "NAME")
        page.add_argument("target", metavar="TARGET")
    ls = group.add_parser("ls", help="list tags, newest first")
    _common(ls, "NAME")
    ls.add_argument("target", metavar="TARGET")
    rm = group.add_parser("rm", help="remove a tag")
    _common(rm, "NAME:TAG")
    rm.add_argument("target", metavar="TARGET")
    gc = group.add_parser("gc", help="remove all but the newest tags")
    _common(gc, "NAME")
    gc.add_argument("--keep", type=int, required=True, metavar="N", help="how many newest tags to keep")
    gc.add_argument("--include-releases", action="store_true",
                    help="also collect plain X.Y.Z release tags (kept otherwise)")
    gc.add_argument("--grace", type=_duration, default=None, metavar="DURATION",
                    help="keep unreferenced objects younger than this (e.g. 0, 90s, 15m, 1h; "
                         "default ALBA_GC_GRACE_SECONDS or 1h): they may belong to a push under way")
    gc.add_argument("target", metavar="TARGET")


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """`argv`: the command line about to be parsed; `alba publish`'s flags (the action's
    inputs, read from pydantic settings) are built only when it may run or show them."""
    from alba_action.publish_command import add_publish_parser

    p = argparse.ArgumentParser(prog="alba", description="Publish static binaries and container images.")
    p.add_argument("--version", action="version", version=f"alba {__version__}")
    sub = p.add_subparsers(dest="kind", required=True)
    _add_group(sub, "static", "static binaries in the df-dist-v1 layout")
    _add_group(sub, "container", "multi-platform container images")
    command = next((a for a in argv if not a.startswith("-")), None) if argv is not None else None
    add_publish_parser(sub, flags=command in (None, "publish"))
    tags = sub.add_parser("tags", help="print the tags the CI rules give for this environment")
    tags.add_argument("--tags", action="append", default=[], metavar="LINE", help="a metadata-action tag rule")
    tags.add_argument("--flavor", action="append", default=[], metavar="LINE", help="a metadata-action flavor line")
    tags.add_argument("--sep-tags", default=None, metavar="SEP",
                      help="print only the tags, joined by SEP (as metadata-action's `tags` output), instead of JSON")
    ver = sub.add_parser("verify", help="check a published release: files, manifests, blobs, checksums, signatures")
    ver.add_argument("-t", "--tag", dest="refs", action="append", default=[], metavar="NAME:TAG", required=True)
    ver.add_argument("source", metavar="SOURCE", help="the public https:// URL, s3://…, file://… or docker://…")
    ver.add_argument("--key", action="append", default=[], type=Path, metavar="FILE",
                     help="a public key (minisign .pub or PEM), recognised by its content (repeatable)")
    ver.add_argument("--insecure", action="store_true", help="plain HTTP to a docker:// registry")
    ver.add_argument("--json", action="store_true", help="print the report on stdout")
    ver.add_argument("-q", "--quiet", action="store_true", help="only the summary")
    sub.add_parser("action", help="run the CI step from INPUT_*/PLUGIN_*/ALBA_* variables (as entrypoint.py does)")
    return p


def push_request(args: argparse.Namespace, env: Mapping[str, str], cwd: Path):
    """`alba static|container push` → one PublishRequest (the step builds the same from inputs)."""
    from alba_action.context import context_from_env, image_annotations
    from alba_action.request import ImageOptions, PublishRequest, parse_annotations
    from alba_action.options import run_options

    static = args.kind == "static"
    # Static files use the context only for provenance, which a local run makes when asked.
    ctx = context_from_env(env, cwd, read_git=not static or bool(args.provenance))
    registries_only = all(t.startswith("docker://") for t in args.targets)
    if args.refs or not registries_only:
        name, tags = parse_refs(args.refs, need_tag=True, single=static)
    else:
        name, tags = "", []  # every tag comes from the docker:// URLs
    if static:
        return PublishRequest(name, tuple(tags), static_dir=args.src_dir, static_targets=tuple(args.targets),
                              dry_run=args.dry_run, options=run_options(env, parallel=args.jobs),
                              latest_guard=args.latest_guard, minisign=_minisign(args.minisign_key, env),
                              pages=args.page, provenance=args.provenance, context=ctx)
    index, manifest = parse_annotations(args.annotation)
    annotations = {**image_annotations(ctx), **index}
    image = ImageOptions(args.compression, args.fmt, args.max_uncompressed_size, args.insecure, args.chunked,
                         annotations, manifest)
    return PublishRequest(name, tuple(tags), container_dir=args.src_dir, container_targets=tuple(args.targets),
                          image=image, dry_run=args.dry_run,
                          options=run_options(env, parallel=args.jobs, cache_max_bytes=args.cache_max_size),
                          latest_guard=args.latest_guard, image_signer=_image_signer(args.sign_key, env),
                          provenance=args.provenance, context=ctx)


def _key_file(path: Path, flag: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise InputError(f"{flag} {path}: cannot read it ({err.strerror})", f"give {flag} a readable key file") from None


def _minisign(path: Path | None, env: Mapping[str, str]):
    if path is None:
        return None
    from alba_action.signing.minisign_keys import load_secret_key

    return load_secret_key(_key_file(path, "--minisign-key"), env.get("ALBA_MINISIGN_PASSWORD", ""),
                           f"--minisign-key {path}")


def _image_signer(path: Path | None, env: Mapping[str, str]):
    if path is None:
        return None
    from alba_action.signing.ecdsa_keys import load_signing_key

    password = env.get("ALBA_SIGN_PASSWORD") or env.get("COSIGN_PASSWORD", "")
    return load_signing_key(_key_file(path, "--sign-key"), password, f"--sign-key {path}")


def push(args: argparse.Namespace, reporter: Reporter, env: Mapping[str, str]) -> dict:
    from alba_action.pipeline import PlainTrace, publish

    result = publish(push_request(args, env, Path.cwd()), PlainTrace(reporter))
    done = result.static or result.containers
    if args.dry_run:
        reporter.log("✅ dry run: nothing written")
    else:
        digest = f" {done[0]['digest']}" if args.kind == "container" else ""
        reporter.log(f"✅ push succeeded{digest}" + (f" ({len(done)} targets)" if len(done) > 1 else ""))
    # One target: its result, as before; several: one result per target.
    return done[0] if len(done) == 1 else {"name": result.name, "tags": result.tags, "targets": done}


def manage(args: argparse.Namespace, reporter: Reporter, env: Mapping[str, str]) -> dict:
    """ls, rm and gc: one target each, with explicit arguments below this point."""
    from alba_action.options import run_options

    options = run_options(env, gc_grace_seconds=getattr(args, "grace", None))
    if args.kind == "static":
        from alba_action.static.command import run_static

        return run_static(args.action, args.refs, args.target, reporter, options, dry_run=args.dry_run,
                          keep=getattr(args, "keep", 0), include_releases=getattr(args, "include_releases", False),
                          quiet_json=args.json)
    from alba_action.containers.command import run_container

    return run_container(args.action, args.refs, args.target, reporter, options, dry_run=args.dry_run,
                         keep=getattr(args, "keep", 0), include_releases=getattr(args, "include_releases", False),
                         quiet_json=args.json)


def run_verify(args: argparse.Namespace, reporter: Reporter, env: Mapping[str, str]) -> dict:
    from alba_action.options import run_options
    from alba_action.verify.checks import load_keys
    from alba_action.verify.command import verify

    keys = load_keys([(str(p), _key_file(p, "--key")) for p in args.key])
    report = verify(args.source, args.refs[0], keys, reporter, run_options(env), args.insecure)
    if report.problems:
        raise VerifyFailed(report)
    return report.to_json()


class VerifyFailed(AlbaError):
    def __init__(self, report) -> None:
        super().__init__(f"{report.name}:{report.tag} at {report.source}: {len(report.problems)} problems "
                         f"(listed above)", "do not use this release; publish it again or find who changed it")
        self.report = report


def run(args: argparse.Namespace, reporter: Reporter, env: Mapping[str, str]) -> dict:
    if args.kind == "verify":
        return run_verify(args, reporter, env)
    if args.kind == "tags":
        from alba_action.tags.command import tags_command

        return tags_command(args.tags, args.flavor, env, Path.cwd())
    if args.action == "push":
        return push(args, reporter, env)
    return manage(args, reporter, env)


def console() -> int:
    """`alba` and `python -m alba_action`: main, then an exit without the interpreter's last
    garbage collections, which walk every object still alive (botocore's models: a million)
    for a fifth of a second. Frozen, they are freed with the process."""
    code = main()
    gc.freeze()
    return code


def main(argv: list[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    env = dict(os.environ if env is None else env)
    argv = sys.argv[1:] if argv is None else argv
    args = parser(argv).parse_args(argv)
    if args.kind == "action":
        from alba_action.action import main as action_main

        return action_main(env)
    if args.kind == "publish":
        from alba_action.publish_command import run_publish

        return run_publish(args, env)
    reporter = Reporter(quiet=getattr(args, "quiet", False))
    try:
        if getattr(args, "keep", 0) is not None and getattr(args, "keep", 0) < 0:
            raise InputError(f"--keep {args.keep}: must be 0 or more", "pass --keep N with N ≥ 0")
        result = run(args, reporter, env)
    except AlbaError as err:
        if isinstance(err, VerifyFailed) and args.json:
            print(json.dumps(err.report.to_json(), indent=2))
        print(f"{type(err).__name__}: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("Interrupted: nothing after the last line above was written", file=sys.stderr)
        return 130
    if args.kind == "tags" and args.sep_tags is not None:
        sep = args.sep_tags.encode().decode("unicode_escape") if "\\" in args.sep_tags else args.sep_tags
        print(sep.join(result["tags"]))
    elif getattr(args, "json", False) or args.kind == "tags":
        print(json.dumps(result, indent=2))
    return 0
