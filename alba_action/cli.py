"""`alba …` and `python -m alba_action …`: parse the command line, call, print."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from alba_action import __version__
from alba_action.errors import AlbaError, InputError
from alba_action.report.progress import Reporter


def _common(p: argparse.ArgumentParser, tags: str) -> None:
    p.add_argument("-t", "--tag", dest="refs", action="append", default=[], metavar=tags,
                   help=f"{tags} (repeatable)")
    p.add_argument("--json", action="store_true", help="print the machine-readable result on stdout")
    p.add_argument("--dry-run", action="store_true", help="print what would be written or deleted; write nothing")
    p.add_argument("-q", "--quiet", action="store_true", help="only errors on stderr")


def _add_group(sub, kind: str, help_: str) -> None:
    group = sub.add_parser(kind, help=help_).add_subparsers(dest="action", required=True)
    push = group.add_parser("push", help=f"publish a {kind} tag")
    _common(push, "NAME:TAG")
    push.add_argument("src_dir", type=Path, metavar="SRC_DIR")
    push.add_argument("target", metavar="TARGET")
    if kind == "container":
        push.add_argument("--compression", choices=["gzip", "zstd", "none"], default="gzip",
                          help="layer compression (deterministic); gzip is read by every client")
        push.add_argument("--format", dest="fmt", choices=["oci", "docker"], default="oci",
                          help="manifest media types: OCI (default) or Docker v2 / manifest list")
        push.add_argument("--max-uncompressed-size", type=_size, default=None, metavar="SIZE",
                          help="refuse archives that expand beyond SIZE (e.g. 16G); guards against bombs")
        push.add_argument("--insecure", action="store_true", help="plain HTTP to a docker:// registry")
        push.add_argument("--chunked", action="store_true",
                          help="docker:// targets: upload blobs in 64 MiB PATCH chunks (automatic above 256 MiB)")
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
    gc.add_argument("target", metavar="TARGET")


def _size(text: str) -> int:
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    num, unit = (t[:-1], t[-1]) if t and t[-1] in units else (t, "")
    try:
        return int(float(num) * units[unit])
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size; write e.g. 512M or 16G") from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="alba", description="Publish static binaries and container images.")
    p.add_argument("--version", action="version", version=f"alba {__version__}")
    sub = p.add_subparsers(dest="kind", required=True)
    _add_group(sub, "static", "static binaries in the df-dist-v1 layout")
    _add_group(sub, "container", "multi-platform container images")
    tags = sub.add_parser("tags", help="print the tags the CI rules give for this environment")
    tags.add_argument("--tags", action="append", default=[], metavar="LINE", help="a metadata-action tag rule")
    tags.add_argument("--flavor", action="append", default=[], metavar="LINE", help="a metadata-action flavor line")
    sub.add_parser("action", help="run the CI step from INPUT_*/PLUGIN_*/ALBA_* variables (as entrypoint.py does)")
    return p


def run(args: argparse.Namespace, reporter: Reporter) -> dict:
    if args.kind == "tags":
        from alba_action.tags.command import tags_command

        return tags_command(args.tags, args.flavor)
    if args.kind == "static":
        from alba_action.static.command import run_static

        return run_static(args, reporter)
    from alba_action.containers.command import run_container

    return run_container(args, reporter)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.kind == "action":
        from alba_action.action import main as action_main

        return action_main()
    reporter = Reporter(quiet=getattr(args, "quiet", False))
    try:
        if getattr(args, "keep", 0) is not None and getattr(args, "keep", 0) < 0:
            raise InputError(f"--keep {args.keep}: must be 0 or more", "pass --keep N with N ≥ 0")
        result = run(args, reporter)
    except AlbaError as err:
        print(f"{type(err).__name__}: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("Interrupted: nothing after the last line above was written", file=sys.stderr)
        return 130
    if getattr(args, "json", False) or args.kind == "tags":
        print(json.dumps(result, indent=2))
    return 0
