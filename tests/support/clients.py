"""The reference clients as the tests run them (skopeo, podman), and a bucket's keys."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path


def keys(moto, bucket: str) -> list[str]:
    pages = moto.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def skopeo_copy_all(host: str, ref: str, dest: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["skopeo", "copy", "--all", "--src-tls-verify=false", f"docker://{host}/{ref}", f"oci:{dest}:x"],
                          capture_output=True, text=True, timeout=120)


def podman_pull(host: str, ref: str, arch: str, store: Path, variant: str | None = None) -> subprocess.CompletedProcess:
    short = Path(tempfile.mkdtemp(prefix="pd", dir="/tmp"))  # podman refuses a runroot over 50 characters
    cmd = ["podman", "--root", str(short / "root"), "--runroot", str(short / "run"), "--storage-driver", "vfs",
           "pull", "--tls-verify=false", "--arch", arch]
    if variant:
        cmd += ["--variant", variant]
    return subprocess.run(cmd + [f"{host}/{ref}"], capture_output=True, text=True, timeout=120)
