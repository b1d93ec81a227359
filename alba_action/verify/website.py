"""GET BASE/KEY from a website as a careful browser would: `Accept-Encoding: identity`, at
most MAX_REDIRECTS redirects and only to http(s), a socket timeout for silence and a
watchdog for headers that drip. 429 and 5xx, dropped connections and silence are
TransientError (the caller's retry budget decides); 403 and 404 mean missing, as website
endpoints answer 403 for a missing key."""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import urllib.parse
from typing import Iterator

from alba_action.errors import TargetError
from alba_action.targets.retry import RETRY_STATUS, THROTTLE_STATUS, TransientError, Unreachable, parse_retry_after
from alba_action.targets.streams import Stream, read1_chunks
from alba_action.verify.reading import BadAnswer, Pace, TooSlow

MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)
HEADERS = {"Accept-Encoding": "identity", "User-Agent": "alba-verify"}


class Website:
    def __init__(self, base: str, request_timeout: float) -> None:
        self.base, self.request_timeout = base.rstrip("/"), request_timeout

    def url(self, key: str) -> str:
        return f"{self.base}/{urllib.parse.quote(key)}"

    @contextlib.contextmanager
    def open(self, key: str, pace: Pace) -> Iterator[Stream | None]:
        url = self.url(key)
        conn, response = self._follow(url, pace)
        try:
            if response is None:
                yield None
                return
            length = response.getheader("Content-Length")
            yield Stream(read1_chunks(response.read1, f"GET {url}", (OSError, http.client.HTTPException)),
                         int(length) if length and length.isdigit() else None,
                         response.getheader("Content-Encoding") or "", f"GET {url}")
        finally:
            conn.close()

    def _follow(self, url: str, pace: Pace):
        """(connection, response) of the last hop; response None when the key is missing."""
        first = url
        for _ in range(MAX_REDIRECTS + 1):
            parts = urllib.parse.urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise BadAnswer(f"GET {first} redirects to {url[:200]}, which is not an http(s) URL",
                                "alba follows redirects to http:// and https:// only; check the public URL")
            conn, response = self._once(parts, url, pace)
            location = response.getheader("Location")
            if response.status in REDIRECTS and location:
                conn.close()
                url = urllib.parse.urljoin(url, location)
                continue
            if response.status in (403, 404):
                conn.close()
                return conn, None
            if response.status != 200:
                conn.close()
                raise self._status(url, response)
            return conn, response
        raise BadAnswer(f"GET {first}: more than {MAX_REDIRECTS} redirects (the last to {url[:200]})",
                        "the website redirects in a loop; check the public URL and its redirect rules")

    def _once(self, parts: urllib.parse.SplitResult, url: str, pace: Pace):
        kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        extra = {"context": ssl.create_default_context()} if parts.scheme == "https" else {}
        conn = kind(parts.hostname, parts.port, timeout=self.request_timeout, **extra)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            conn.connect()
            # Headers that drip past their time: the watchdog shuts the socket, the read fails.
            watchdog = threading.Timer(max(0.0, pace.header_seconds - (pace.clock() - pace.started)),
                                       _shut, (conn.sock,))
            watchdog.daemon = True
            watchdog.start()
            try:
                conn.request("GET", path, headers=HEADERS)
                response = conn.getresponse()
            finally:
                watchdog.cancel()
        except ConnectionRefusedError:
            conn.close()
            raise Unreachable(f"{self.base} does not answer", "check the public URL and that it is served") from None
        except ssl.SSLCertVerificationError as err:
            conn.close()
            raise TargetError(f"GET {url}: TLS certificate not trusted ({err.verify_message})",
                              "serve the website with a trusted certificate") from None
        except (OSError, http.client.HTTPException) as err:
            conn.close()
            if not watchdog_ok(pace):
                raise TooSlow(f"GET {url}: no complete answer after {pace.header_seconds:g} s",
                              "the server stalls its answers; check the URL and the server") from None
            raise TransientError(f"GET {url}: {type(err).__name__}") from None
        return conn, response

    def _status(self, url: str, response: http.client.HTTPResponse) -> TargetError:
        if response.status in RETRY_STATUS:
            return TransientError(f"GET {url} answered {response.status}",
                                  parse_retry_after(response.getheader("Retry-After")),
                                  throttled=response.status in THROTTLE_STATUS)
        return TargetError(f"GET {url} answered {response.status}", "check the public URL")


def watchdog_ok(pace: Pace) -> bool:
    return pace.clock() - pace.started <= pace.header_seconds


def _shut(sock: socket.socket | None) -> None:
    with contextlib.suppress(OSError, AttributeError):
        sock.shutdown(socket.SHUT_RDWR)
