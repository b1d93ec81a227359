"""A local folder with the same object layout: the embedded default, no server needed.

A folder cannot also be a file, so an object whose key is also a folder
(`df-dist-v1/NAME`, `df-dist-v1/NAME/TAG`) lives at `<key>/index.json`.

Conditional writes are honoured, as S3 does: the check and the rename happen under an
exclusive flock on the target folder itself (shared with other processes), and the ETag
names the file's inode, modification time and size, which every rename changes. So
concurrent writers of a name document converge without waiting for a settle time.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import tempfile
import threading
from pathlib import Path
from typing import Iterator

from alba_action.errors import ConflictError, InputError, TargetError
from alba_action.grammar import is_relative_path
from alba_action.targets.base import Body, ObjectInfo, ProgressCallback
from alba_action.targets.streams import Stream, read1_chunks
from alba_action.targets.url import FileUrl

INDEX = "index.json"
CHUNK = 1024 * 1024


class LocalDirStore:
    conditionals = "honoured"  # see above: no probe needed

    def __init__(self, url: FileUrl, *, settle_seconds: float = 0.4) -> None:
        self.root = url.root
        self.url = url.display
        self.settle_seconds = settle_seconds

    def check(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise InputError(f"target {self.url} is a file, not a folder", "name a folder (it is created if missing)")

    def _path(self, key: str) -> Path:
        """The file that holds `key` (`<key>/index.json` for a folder), never through a link."""
        path = self._inside(key)
        if path.is_dir():
            path = path / INDEX
            self._no_link(path, key)
        return path

    def _inside(self, key: str) -> Path:
        """root/key: a key that leaves the folder, or passes through a symbolic link, is
        refused, so that alba never reads, writes or deletes anything outside the folder."""
        if not is_relative_path(key):
            raise TargetError(f"key {key!r} leaves the target folder {self.url}",
                              "a document names a path outside its folder: inspect and repair it")
        path = self.root
        for part in key.split("/"):
            path = path / part
            if not self._no_link(path, key):
                break  # what does not exist holds no link further down
        return self.root / key

    def _no_link(self, path: Path, key: str) -> bool:
        """Whether `path` exists; a symbolic link raises."""
        try:
            mode = os.lstat(path).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return False
        if stat.S_ISLNK(mode):
            link = path.relative_to(self.root).as_posix()
            raise TargetError(f"{self.url}: {key!r} passes through the symbolic link {link}, which alba does not "
                              "follow in a folder target", f"replace {link} with the folder or file itself")
        return True

    @contextlib.contextmanager
    def open_read(self, key: str) -> Iterator[Stream | None]:
        """The object as a stream (verify hashes it as it is read), None when missing."""
        path = self._path(key)
        try:
            f = open(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            yield None
            return
        with f:
            yield Stream(read1_chunks(f.read1, f"{self.url}/{key}"), os.fstat(f.fileno()).st_size,
                         where=f"{self.url}/{key}")

    def head(self, key: str) -> ObjectInfo | None:
        path = self._path(key)
        if not path.is_file():
            return None
        st = path.stat()
        return ObjectInfo(key, st.st_size, f'"{st.st_ino:x}-{st.st_mtime_ns:x}-{st.st_size:x}"', st.st_mtime)

    def exists(self, key: str) -> bool:
        return self.head(key) is not None

    def get(self, key: str) -> tuple[bytes, str | None] | None:
        info = self.head(key)
        return None if info is None else (self._path(key).read_bytes(), info.etag)

    def put(self, key, body: Body, content_type, cache_control=None, if_match=None, if_none_match=False,
            progress: ProgressCallback | None = None) -> None:
        if if_match is None and not if_none_match:
            return self._put(key, body, progress)
        with self._locked():
            current = self.head(key)
            if if_none_match and current is not None:
                raise ConflictError(f"{self.url}/{key} exists already (If-None-Match)", "retrying")
            if if_match is not None and (current is None or current.etag != if_match):
                raise ConflictError(f"{self.url}/{key} changed meanwhile (If-Match)", "retrying")
            self._put(key, body, progress)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the last descriptor releases the lock

    def _put(self, key: str, body: Body, progress: ProgressCallback | None) -> None:
        path = self._inside(key)
        self._make_parent(path.parent)
        if path.is_dir():
            path = path / INDEX
        if body.immutable and body.path is not None and self._link(body, path, progress):
            return
        # Write beside, then rename: readers never see half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".alba-")
        try:
            with os.fdopen(fd, "wb") as out:
                if body.data is not None:
                    out.write(body.data)
                    if progress:
                        progress(len(body.data))
                else:
                    _copy(body.path, out, progress)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _link(self, body: Body, path: Path, progress: ProgressCallback | None) -> bool:
        """A content-addressed blob on the same filesystem: one more name for it, no copy."""
        tmp = path.with_name(f".alba-link-{os.getpid()}-{threading.get_ident()}-{path.name}")
        try:
            os.link(body.path, tmp)
            os.chmod(tmp, 0o644)  # served by a web server: readable by all, like a copy
            os.replace(tmp, path)
        except OSError:
            tmp.unlink(missing_ok=True)
            return False
        if progress:
            progress(body.size)
        return True

    def _make_parent(self, parent: Path) -> None:
        """Create folders; a document stored as a file where a folder is needed moves into it."""
        for p in reversed([parent, *parent.parents]):
            if p == self.root or self.root not in p.parents:
                continue
            if p.is_file():
                tmp = p.with_name(p.name + ".alba-move")
                os.replace(p, tmp)
                p.mkdir()
                os.replace(tmp, p / INDEX)
        parent.mkdir(parents=True, exist_ok=True)

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        # Remove folders left empty, up to the root.
        for parent in path.parents:
            if parent == self.root or self.root not in parent.parents:
                break
            try:
                parent.rmdir()
            except OSError:
                break

    def list_info(self, prefix: str, shallow: bool = False) -> Iterator[ObjectInfo]:
        """As `list`, with each object's size, etag and modification time."""
        for key in self.list(prefix, shallow):
            if (info := self.head(key)) is not None:
                yield info

    def list(self, prefix: str, shallow: bool = False) -> Iterator[str]:
        """Keys starting with `prefix`; `shallow` stops at the next '/' as S3's delimiter does."""
        parent = prefix.rpartition("/")[0]
        start = self._inside(parent) if parent else self.root
        if not start.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames.sort()
            rel = Path(dirpath).relative_to(self.root).as_posix()
            for name in sorted(filenames):
                if name.startswith(".alba-"):
                    continue
                key = rel if name == INDEX and rel != "." else (name if rel == "." else f"{rel}/{name}")
                if key.startswith(prefix) and not (shallow and "/" in key[len(prefix):]):
                    yield key
            if shallow and Path(dirpath) != start:
                dirnames.clear()  # one level below `start` is enough to see `<dir>/index.json`


def _copy(src: Path, out, progress: ProgressCallback | None) -> None:
    with open(src, "rb") as f:
        while chunk := f.read(CHUNK):
            out.write(chunk)
            if progress:
                progress(len(chunk))

