"""Streamed blob uploads: POST a session, then one PUT, or PATCH chunks then PUT.

Bodies are read from the file in 1 MiB pieces while they are sent, so memory stays
flat whatever the layer size. A failure raises TransientError from `send`; the caller
restarts the whole session (an interrupted session cannot be resumed portably).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Protocol

from oras.utils import append_url_params

from alba_action.errors import TargetError
from alba_action.targets.base import ProgressCallback



class UploadEndpoint(Protocol):
    """What an upload needs of a repository: its client, URLs, and how it words a failure."""

    client: object

    def v2_url(self, tail: str) -> str: ...

    def location(self, response) -> str: ...

    def error(self, response, what: str, fix: str = ...) -> TargetError: ...

PIECE = 1 << 20


class FileSlice:
    """`length` bytes of `path` from `offset`, as an iterable with a length: requests then
    sends Content-Length and streams it (a bare file object would be read whole by oras-py)."""

    def __init__(self, path: Path, offset: int, length: int, progress: ProgressCallback | None) -> None:
        self.path, self.offset, self.length, self.progress = path, offset, length, progress

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[bytes]:
        left = self.length
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            while left > 0:
                piece = f.read(min(PIECE, left))
                if not piece:
                    raise TargetError(f"{self.path} shrank while it was being uploaded",
                                      "do not change the image files during a push")
                left -= len(piece)
                if self.progress:
                    self.progress(len(piece))
                yield piece


class BytesBody:
    """Bytes in memory, reporting progress once they are handed to the connection."""

    def __init__(self, data: bytes, progress: ProgressCallback | None) -> None:
        self.data, self.progress = data, progress

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self) -> Iterator[bytes]:
        for start in range(0, len(self.data), PIECE):
            piece = self.data[start:start + PIECE]
            if self.progress:
                self.progress(len(piece))
            yield piece


def _body(path: Path | None, data: bytes | None, offset: int, length: int,
          progress: ProgressCallback | None):
    """A factory for a fresh body per attempt (an auth re-send needs it from the start)."""
    if length == 0:
        return b""  # requests would switch an empty iterable to chunked encoding
    if data is not None:
        return lambda: BytesBody(data[offset:offset + length], progress)
    return lambda: FileSlice(path, offset, length, progress)


def _start(reg: UploadEndpoint) -> str:
    response = reg.client.send("POST", reg.v2_url("blobs/uploads/"), headers={"Content-Length": "0"})
    location = reg.location(response) if response.status_code == 202 else ""
    if not location:
        raise reg.error(response, "start of a blob upload")
    return location


def _patch_chunks(reg: UploadEndpoint, location: str, path, data, size: int, chunk: int,
                  progress: ProgressCallback | None) -> str:
    for offset in range(0, size, chunk):
        length = min(chunk, size - offset)
        headers = {"Content-Type": "application/octet-stream",
                   "Content-Range": f"{offset}-{offset + length - 1}"}
        response = reg.client.send("PATCH", location, headers=headers, retry=False,
                                   body=_body(path, data, offset, length, progress))
        if response.status_code != 202:
            raise reg.error(response, f"PATCH of a blob chunk at {offset}")
        location = reg.location(response) or location
    return location


def upload_blob(reg: UploadEndpoint, digest: str, size: int, path: Path | None, data: bytes | None,
                progress: ProgressCallback | None, chunk: int | None) -> None:
    """One upload session; `chunk` set means PATCH uploads of that size, else one PUT."""
    location = _start(reg)
    headers = {"Content-Type": "application/octet-stream"}
    body = _body(path, data, 0, size, progress)
    if chunk:
        location = _patch_chunks(reg, location, path, data, size, chunk, progress)
        body = b""
    response = reg.client.send("PUT", append_url_params(location, {"digest": digest}),
                               headers=headers, body=body, retry=False)
    if response.status_code != 201:
        raise reg.error(response, f"upload of blob {digest}",
                        "the registry rejected the blob; check that the image files are intact")
