"""Inputs a build leaves: Nix-style image archives, one per platform, sharing a layer."""

from __future__ import annotations

import threading
from pathlib import Path

from imagefixtures import make_layer_tar, write_nix_archive
from servers import run_alba

from alba_action.images.model import Platform

SHARED = make_layer_tar({"etc/shared.txt": b"the same in every platform\n"})


def nix_images(root: Path, platforms=(("linux", "amd64", None), ("linux", "arm64", None)), compression="gz") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for os_, arch, variant in platforms:
        plat = Platform(os_, arch, variant)
        stem = ".".join(p for p in (os_, arch, variant) if p)
        own = make_layer_tar({"bin/hello": f"hello from {plat}\n".encode()})
        suffix = {"gz": ".tar.gz", "zst": ".tar.zst", None: ".tar"}[compression]
        write_nix_archive(root / f"{stem}{suffix}", plat, [own, SHARED], compression=compression)
    return root


def race(url: str, src: Path, tags: list[str]) -> list:
    """`static push` of each tag to `url`, all started at once (a barrier)."""
    results: list = [None] * len(tags)
    barrier = threading.Barrier(len(tags))

    def one(i: int) -> None:
        barrier.wait()
        results[i] = run_alba("static", "push", "-t", f"tool:{tags[i]}", src, url)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(tags))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
