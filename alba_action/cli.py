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
from alba_action.errors import AlbaError
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
    push.add_argument("--part", action="store_true",
                      help="publish these platforms as a part of --release-id: content only, no tag (see assemble)")
    push.add_argument("--release-id", default="", metavar="ID",
                      help="the release the parts belong to (default: the CI run's id; required outside a CI)")
    push.add_argument("--provenance", action=argparse.BooleanOptionalAction, default=None,
                      help="attach SLSA provenance (default: on in a CI — GitHub, Forgejo, Woodpecker, Drone — off locally)")
    push.add_argument("--jobs", type=int, default=None, metavar="N",
                      help="requests in flight per target (default 16; alba halves it while a store throttles)")
    push.add_argument("--latest-guard", action="store_true",
                      help="drop the tag `latest` when this version is older than a release already on a target")
    push.add_argument("--no-sbom", dest="sbom", action="store_false",
                      help="make no SBOM where the build left none (a build's own <os>.<arch>.spdx.json is still attached)")
    push.add_argument("--sbom-format", choices=["spdx", "cyclonedx"], default="spdx",
                      help="the format of the SBOMs alba makes: SPDX 2.3 JSON (default) or CycloneDX 1.5 JSON")
    push.add_argument("--licenses", default="", metavar="SPDX-EXPRESSION",
                      help="the release's licenses (e.g. MIT): in alba's SBOMs and, for images, an annotation")
    push.add_argument("--description", default="", metavar="TEXT",
                      help="a one-line description: in alba's SBOMs and, for images, an annotation")
    if kind == "container":
        _image_flags(push)
        push.add_argument("--source", default="", metavar="URL",
                          help="org.opencontainers.image.source (default: the repository's URL from the CI or git)")
        push.add_argument("--revision", default="", metavar="SHA",
                          help="org.opencontainers.image.revision (default: the commit)")
        push.add_argument("--sign-key", type=Path, default=None, metavar="FILE",
                          help="sign the index and every platform manifest (cosign key or PKCS#8 P-256 PEM; "
                               "password from ALBA_SIGN_PASSWORD or COSIGN_PASSWORD)")
    else:
        push.add_argument("--minisign-key", type=Path, default=None, metavar="FILE",
                          help="sign the checksums file and every file with this minisign secret key "
                               "(password from ALBA_MINISIGN_PASSWORD)")
        push.add_argument("--no-platform-check", dest="platform_check", action="store_false",
                          help="publish files whose header names another platform than their folder")
        push.add_argument("--no-page", dest="page", action="store_false",
                          help="do not write the download pages (df-dist-v1/NAME/index.html, df-dist-v1/index.html)")
        page = group.add_parser("page", help="rewrite the download pages of a name")
        _common(page, "NAME")
        page.add_argument("target", metavar="TARGET")
    _assemble_parser(group, kind, push)
    _copy_parser(group, kind)
    ls = group.add_parser("ls", help="list tags, newest first")
    _common(ls, "NAME")
    ls.add_argument("target", metavar="TARGET")
    rm = group.add_parser("rm", help="remove a tag")
    _common(rm, "NAME:TAG")
    rm.add_argument("target", metavar="TARGET")
    gc = group.add_parser("gc", help="remove the tags no retention rule keeps, and what only they reach")
    _common(gc, "NAME")
    gc.add_argument("--keep", type=int, default=None, metavar="N", help="keep the N newest tags")
    gc.add_argument("--keep-per-major", type=int, default=None, metavar="K",
                    help="keep the K highest semver tags of each major line (pre-releases rank below)")
    gc.add_argument("--keep-per-minor", type=int, default=None, metavar="K",
                    help="keep the K highest semver tags of each major.minor line")
    gc.add_argument("--older-than", type=_duration, default=None, metavar="DURATION",
                    help="keep tags published less than DURATION ago (e.g. 30d, 12h); tags with no "
                         "publication record are kept")
    gc.add_argument("--protect", action="append", default=[], metavar="GLOB",
                    help="keep tags matching this glob, e.g. 'stable-*' (repeatable)")
    gc.add_argument("--include-releases", action="store_true",
                    help="also collect plain X.Y.Z release tags (kept otherwise)")
    gc.add_argument("--grace", type=_duration, default=None, metavar="DURATION",
                    help="keep unreferenced objects younger than this (e.g. 0, 90s, 15m, 1h; "
                         "default ALBA_GC_GRACE_SECONDS or 1h): they may belong to a push under way")
    gc.add_argument("target", metavar="TARGET")


def _assemble_parser(group, kind: str, push: argparse.ArgumentParser) -> None:
    """`assemble`: push's options (keys, SBOMs, annotations…) without SRC_DIR, with --platforms."""
    p = group.add_parser("assemble", help=f"publish a {kind} release from the parts its jobs pushed (--part)")
    for action in push._actions:  # shared, as argparse's own `parents=` shares them
        if action.option_strings and action.dest not in ("help", "part"):
            p._add_action(action)
    p.add_argument("--platforms", required=True, metavar="OS/ARCH[/VARIANT],…",
                   help="every platform of the release: each target must hold each one's part")
    p.add_argument("targets", nargs="+", metavar="TARGET", help="one or more targets, each checked, then written")


def _copy_parser(group, kind: str) -> None:
    copy = group.add_parser("copy", help=f"copy, promote or mirror {kind} releases with their signatures and attestations")
    _common(copy, "NAME[:TAG]")
    copy.add_argument("--as", dest="as_tags", action="append", default=[], metavar="TAG",
                      help="publish under this tag instead of the source's (promotion; repeatable)")
    if kind == "container":
        copy.add_argument("--no-referrers", dest="referrers", action="store_false",
                          help="leave signatures, attestations and SBOMs behind")
        copy.add_argument("--insecure", action="store_true", help="plain HTTP to docker:// registries")
    else:
        copy.add_argument("--no-page", dest="page", action="store_false", help="do not write the download pages")
    copy.add_argument("source", metavar="SOURCE", help="docker://…, s3://…, file://… (static: also https://)")
    copy.add_argument("targets", nargs="+", metavar="TARGET", help="one or more targets, each written in turn")


def run_copy(args: argparse.Namespace, reporter: Reporter, env: Mapping[str, str]) -> dict:
    from alba_action.copy.command import copy_images, copy_static
    from alba_action.options import run_options

    options = run_options(env)
    if args.kind == "static":
        result = copy_static(args.refs, args.as_tags, args.source, args.targets, reporter, options,
                             pages=args.page, dry_run=args.dry_run)
    else:
        result = copy_images(args.refs, args.as_tags, args.source, args.targets, reporter, options,
                             insecure=args.insecure, referrers=args.referrers, dry_run=args.dry_run)
    reporter.log("✅ dry run: nothing written" if args.dry_run else f"✅ copy succeeded ({len(result.targets)} targets)")
    return result.to_json()


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


def push_settings(args: argparse.Namespace, env: Mapping[str, str]):
    """`alba static|container push` flags as the one settings model (the step fills it from inputs)."""
    from alba_action.config import Settings, all_registries, read_key_file
    from alba_action.request import Secret

    static = args.kind == "static"
    if args.refs or not all_registries(args.targets):
        name, tags = parse_refs(args.refs, need_tag=True, single=static)
    else:
        name, tags = "", []  # every tag comes from the docker:// URLs
    common = dict(name=name, tags=tuple(tags), dry_run=args.dry_run, jobs=args.jobs, latest_guard=args.latest_guard,
                  provenance=args.provenance, sbom=args.sbom, sbom_format=args.sbom_format, licenses=args.licenses,
                  description=args.description, part=getattr(args, "part", False), release_id=args.release_id,
                  assemble=(args.platforms,) if args.action == "assemble" else ())
    src_dir = str(args.src_dir) if args.action == "push" else ""
    if static:
        key = read_key_file(args.minisign_key, "--minisign-key") if args.minisign_key else None
        return Settings(static_dir=src_dir, static_targets=tuple(args.targets), page=args.page,
                        platform_check=args.platform_check,
                        minisign_key=key, minisign_password=Secret(env.get("ALBA_MINISIGN_PASSWORD", "")), **common)
    key = read_key_file(args.sign_key, "--sign-key") if args.sign_key else None
    return Settings(container_dir=src_dir, container_targets=tuple(args.targets),
                    compression=args.compression, format=args.fmt, max_uncompressed_size=args.max_uncompressed_size,
                    insecure=args.insecure, chunked=args.chunked, cache_max_size=args.cache_max_size,
                    annotations=tuple(args.annotation), sign_key=key, source=args.source, revision=args.revision,
                    sign_password=Secret(env.get("ALBA_SIGN_PASSWORD", "")), **common)


def push_request(args: argparse.Namespace, env: Mapping[str, str], cwd: Path):
    """`alba static|container push` → one PublishRequest, built as the step builds its own."""
    from alba_action.config import build_request
    from alba_action.context import context_from_env

    settings = push_settings(args, env)
    # Static files use the context only for provenance, which a local run makes when asked.
    ctx = context_from_env(env, cwd, read_git=args.kind != "static" or bool(args.provenance))
    return build_request(settings, settings.tags, "", ctx, env, cwd)


def push(args: argparse.Namespace, reporter: Reporter, env: Mapping[str, str]) -> dict:
    from alba_action.pipeline import PlainTrace, publish

    result = publish(push_request(args, env, Path.cwd()), PlainTrace(reporter))
    done = result.targets_json()
    if args.dry_run:
        reporter.log("✅ dry run: nothing written")
    else:
        digest = f" {result.containers[0].digest}" if result.containers else ""
        what = "part" if getattr(args, "part", False) else args.action
        reporter.log(f"✅ {what} succeeded{digest}" + (f" ({len(done)} targets)" if len(done) > 1 else ""))
    # One target: its result; several: one result per target.
    return done[0] if len(done) == 1 else {"name": result.name, "tags": result.tags, "targets": done}


def manage(args: argparse.Namespace, reporter: Reporter, env: Mapping[str, str]) -> dict:
    """ls, rm and gc: one target each, with explicit arguments below this point."""
    from alba_action.options import run_options

    options = run_options(env, gc_grace_seconds=getattr(args, "grace", None))
    policy = gc_policy(args) if args.action == "gc" else None
    if args.kind == "static":
        from alba_action.static.command import run_static

        return run_static(args.action, args.refs, args.target, reporter, options, dry_run=args.dry_run,
                          policy=policy, quiet_json=args.json)
    from alba_action.images.command import run_container

    return run_container(args.action, args.refs, args.target, reporter, options, dry_run=args.dry_run,
                         policy=policy, quiet_json=args.json)


def gc_policy(args: argparse.Namespace):
    """The gc flags as one retention policy (checked before any target is opened)."""
    from alba_action.retention import Policy

    return Policy(keep=args.keep, keep_per_major=args.keep_per_major, keep_per_minor=args.keep_per_minor,
                  older_than=args.older_than, protect=tuple(args.protect), include_releases=args.include_releases)


def run_verify(args: argparse.Namespace, reporter: Reporter, env: Mapping[str, str]) -> dict:
    from alba_action.options import run_options
    from alba_action.verify.checks import load_keys
    from alba_action.verify.command import verify

    from alba_action.config import read_key_file

    keys = load_keys([(str(p), read_key_file(p, "--key").data) for p in args.key])
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
    if args.action in ("push", "assemble"):
        return push(args, reporter, env)
    if args.action == "copy":
        return run_copy(args, reporter, env)
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
