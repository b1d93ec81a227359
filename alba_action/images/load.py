"""load_images: SRC_DIR -> one PlatformImage per platform, ready to publish."""

from __future__ import annotations

import hashlib
import sys
import threading
import time
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from alba_action.errors import ArchiveError, InputError
from alba_action.images.archive import Cancelled, LayerContext, read_archive, read_layout
from alba_action.images.cache import Cache, CachedImage
from alba_action.images.compress import COMPRESSIONS, cpu_count, make_pool
from alba_action.images.layers import Budget
from alba_action.images.manifests import FORMATS, as_format, build_manifest, layer_media_type
from alba_action.digest import sha256_bytes
from alba_action.images.model import OCI_LAYER_ZSTD, Blob, Platform, PlatformImage
from alba_action.images.inputs import find_archives
from alba_action.images.resolve import resolve
from alba_action.images.store import BlobStore

DEFAULT_MAX_UNCOMPRESSED = 8 << 30  # per archive; bigger images raise it on purpose
Log = Callable[[str], None]


def print_to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def check_options(compression: str, fmt: str) -> None:
    """Fail before any work on settings that cannot go together."""
    if compression not in COMPRESSIONS:
        raise InputError(f"unknown compression {compression!r}", "use --compression gzip, zstd or none")
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}", "use --format oci or --format docker")
    if fmt == "docker" and compression == "zstd":
        raise InputError("zstd layers have no Docker media type", "use --compression gzip with --format docker")


def load_images(
    src_dir: Path,
    *,
    compression: str = "gzip",
    fmt: str = "oci",
    workdir: Path,
    max_uncompressed: int = DEFAULT_MAX_UNCOMPRESSED,
    cache_dir: Path | None = None,
    log: Log = print_to_stderr,
    cache_max_bytes: int | None = None,
    on_blob: Callable[[Blob], None] | None = None,
    stop: threading.Event | None = None,
) -> list[PlatformImage]:
    """`stop`: set by the caller to abandon the load (it then raises Cancelled)."""
    check_options(compression, fmt)
    inputs = find_archives(src_dir)
    cache = Cache(cache_dir) if cache_dir is not None else None  # None: no cache, a temporary folder
    store = cache.store if cache else BlobStore(workdir / "store")
    log("-- load archives --")
    stop = stop or threading.Event()  # one input failed (or the caller gave up): the others stop reading
    with make_pool() as pool, ThreadPoolExecutor(
        max_workers=min(len(inputs), cpu_count()), thread_name_prefix="alba-load"
    ) as loaders:
        # Each input on its own thread: inflating, hashing and deflating release the GIL, and
        # one archive's decoder is a serial stream, so platforms load side by side.
        futures = [
            loaders.submit(
                _load_one, _Loader(path, platform, compression, store, pool, max_uncompressed, stop, on_blob), cache, fmt
            )
            for platform, path in inputs
        ]
        try:
            results = [f.result() for f in futures]
        except BaseException as exc:
            stop.set()
            for f in futures:
                f.cancel()
            raise _first_error(futures, exc)
    images, digests = [], []
    for image, line, digest in results:
        log(line)
        images.append(image)
        digests.append(digest)
    if cache is not None and cache_max_bytes is not None:
        from alba_action.images.cache_prune import prune

        keep = {cache.key(d, p, compression) for (p, _), d in zip(inputs, digests)}
        evicted, freed = prune(cache, cache_max_bytes, keep)
        if evicted:
            log(f"image cache: evicted {evicted} least recently used images ({freed >> 20} MiB) "
                f"to stay under {cache_max_bytes >> 20} MiB")
    return images


def _first_error(futures: list[Future], caught: BaseException) -> BaseException:
    """The error of the first input, in platform order, that failed for its own sake."""
    errors = [f.exception() for f in futures if not f.cancelled()]
    real = [e for e in errors if e is not None and not isinstance(e, Cancelled)]
    return real[0] if real else caught


class _Loader:
    """Everything needed to load one input without the cache."""

    def __init__(
        self, path: Path, platform: Platform, compression: str, store: BlobStore, pool: Executor, cap: int,
        stop: threading.Event | None = None, on_blob: Callable[[Blob], None] | None = None,
    ):
        self.path, self.platform, self.compression = path, platform, compression
        self.ctx = LayerContext(store, compression, pool, Budget(cap, path), stop, on_blob)

    def load(self, hash_input: bool = False) -> tuple[CachedImage, str]:
        """The image, and with `hash_input` the archive file's sha256 from the same read."""
        if self.path.is_dir():
            contents = read_layout(self.path, self.ctx)
        else:
            self.ctx.input_hash = hashlib.sha256() if hash_input else None
            contents = read_archive(self.path, self.ctx)
        image = resolve(contents, self.platform)
        digest = sha256_bytes(image.config)
        config = Blob(digest, len(image.config), "", data=image.config)
        layers = [layer.blob for layer in image.layers]
        cached = CachedImage(image.platform, config, layers, [layer.diff_id for layer in image.layers])
        return cached, self.ctx.input_hash.hexdigest() if self.ctx.input_hash else ""


def _load_one(loader: _Loader, cache: Cache | None, fmt: str) -> tuple[PlatformImage, str, str]:
    """One input, from the cache or loaded: the image, its log line, and the input's digest."""
    start = time.monotonic()
    image, how, input_digest = None, loader.compression, ""
    if cache is not None:
        stamp = None if loader.path.is_dir() else cache.stamp(loader.path)
        known = cache.known_digest(loader.path)
        if known is None and cache.may_hold(loader.path):  # maybe a loaded archive, touched: hash first
            known = cache.input_digest(loader.path)
        if known is not None:
            input_digest = known
            image = cache.get(cache.key(known, loader.platform, loader.compression))
            how += ", cached" if image else ""
    if image is None:
        image, streamed = loader.load(hash_input=cache is not None and not input_digest)
        if cache is not None:
            if not input_digest:
                input_digest = streamed
                cache.remember(loader.path, stamp, input_digest)
            cache.put(cache.key(input_digest, loader.platform, loader.compression), image)
    for layer in image.layers:
        if layer_media_type(layer.media_type, "oci") == OCI_LAYER_ZSTD and fmt == "docker":
            raise ArchiveError(
                f"{loader.path}: layer {layer.digest} is zstd-compressed and Docker format has no zstd type",
                "use --format oci, or rebuild the image with gzip or uncompressed layers",
            )
    config, layers = as_format(image.config, image.layers, fmt)
    notes = [f"layer {b.digest} kept as found ({b.media_type})" for b in layers if _kept(b, loader.compression)]
    result = PlatformImage(image.platform, loader.path, config, layers, build_manifest(config, layers, fmt), notes)
    size = sum(b.size for b in layers)
    kept = f", {len(notes)} kept as found" if notes else ""
    line = (
        f"{loader.path} -> {image.platform}: {len(layers)} layers, {size / 1e6:.1f} MB "
        f"({how}{kept}, {time.monotonic() - start:.1f} s)"
    )
    return result, line, input_digest


def _kept(blob: Blob, compression: str) -> bool:
    kind = "zstd" if "zstd" in blob.media_type else "gzip" if "gzip" in blob.media_type else "none"
    return kind != compression
