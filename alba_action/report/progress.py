"""The stderr trace: a live line per large transfer on a terminal, one plain line per object in CI logs."""

from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager
from typing import Iterator, TextIO

LIVE_MIN_BYTES = 1024 * 1024  # smaller objects finish before a live line helps
REFRESH = 0.1


def human_size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


class Reporter:
    """Thread-safe trace writer. `live` defaults to whether the stream is a terminal."""

    def __init__(self, stream: TextIO | None = None, live: bool | None = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.quiet = quiet
        self._lock = threading.Lock()
        self._drawn = False

    def log(self, line: str) -> None:
        if self.quiet:
            return
        with self._lock:
            self._clear()
            print(line, file=self.stream, flush=True)

    def _clear(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[2K")
            self._drawn = False

    def _draw(self, text: str) -> None:
        with self._lock:
            self.stream.write("\r\x1b[2K" + text)
            self.stream.flush()
            self._drawn = True

    @contextmanager
    def transfer(self, label: str, size: int) -> Iterator["Transfer"]:
        """Yield a byte-count callback; log `label (size, time)` when the body finishes."""
        t = Transfer(self, label, size)
        yield t
        self.log(f"{label} ({human_size(size)}, {time.monotonic() - t.start:.1f} s)")


class Transfer:
    def __init__(self, reporter: Reporter, label: str, size: int) -> None:
        self.reporter, self.label, self.size = reporter, label, size
        self.start = self._last = time.monotonic()
        self.done = 0

    def __call__(self, n: int) -> None:
        self.done += n
        rep = self.reporter
        if not rep.live or rep.quiet or self.size < LIVE_MIN_BYTES:
            return
        now = time.monotonic()
        if now - self._last < REFRESH and self.done < self.size:
            return
        self._last = now
        rate = self.done / max(now - self.start, 1e-6)
        eta = (self.size - self.done) / rate if rate else 0
        rep._draw(
            f"{self.label}  {human_size(self.done)}/{human_size(self.size)}  "
            f"{human_size(rate)}/s  ETA {eta:.0f} s"
        )
