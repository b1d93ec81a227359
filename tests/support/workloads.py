"""Inputs a build leaves: Nix-style image archives, one per platform, sharing a layer."""

from __future__ import annotations

from pathlib import Path

from imagefixtures import make_layer_tar, write_nix_archive

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
