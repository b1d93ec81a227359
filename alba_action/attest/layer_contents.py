"""What an image's layers hold, for its SBOM: the Nix store paths among the tar member names,
and the package databases (packages.DATABASES). Each layer blob (gzip, zstd or a plain tar,
told apart by its first bytes) is streamed once: only member names are looked at, and only
the database files are read; memory stays bounded whatever the layer's size.

Layers stack as the OCI image spec says: a whiteout (`.wh.NAME`) or an opaque folder
(`.wh..wh..opq`) in a layer hides what lower layers hold there, so a store path or database
that an upper layer deleted is not reported.
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import BinaryIO

import isal.igzip as igzip
import zstandard

from alba_action.attest import packages as pk, tar_names
from alba_action.errors import ArchiveError

WHITEOUT, OPAQUE = ".wh.", ".wh..wh..opq"
GZIP_MAGIC, ZSTD_MAGIC = b"\x1f\x8b", b"\x28\xb5\x2f\xfd"
PARALLEL = 2  # layers decompressed at once (ISA-L and zstd release the GIL)


@dataclass
class LayerContents:
    digest: str
    store_paths: set[str] = field(default_factory=set)  # /nix/store/<hash>-<name>
    databases: dict[str, bytes] = field(default_factory=dict)  # packages.DATABASES path → bytes
    hidden: set[str] = field(default_factory=set)  # paths whited out for lower layers
    opaque: set[str] = field(default_factory=set)  # folders whose lower contents are hidden


@dataclass(frozen=True)
class ImageContents:
    layers: tuple[str, ...]  # digests, lowest first
    store_paths: tuple[tuple[pk.StorePath, tuple[str, ...]], ...]  # each with the layers holding it
    packages: tuple[pk.Package, ...]


def open_layer(source: BinaryIO) -> BinaryIO:
    """The uncompressed tar stream of a layer blob."""
    magic = source.read(4)
    source.seek(0)
    if magic.startswith(GZIP_MAGIC):
        return igzip.IGzipFile(fileobj=source, mode="rb")
    if magic == ZSTD_MAGIC:
        return zstandard.ZstdDecompressor().stream_reader(source, read_across_frames=True)
    return source


def read_layer(source: BinaryIO, digest: str) -> LayerContents:
    """One pass over the layer's members (names only, and the database files' bytes)."""
    out = LayerContents(digest)
    try:
        for entry in tar_names.entries(open_layer(source), _wanted):
            _note(out, entry)
    except (tar_names.TarFormatError, OSError, EOFError, zstandard.ZstdError) as err:
        raise ArchiveError(f"layer {digest}: cannot be read as a tar ({err})",
                           "rebuild the image archive; this layer is damaged") from None
    return out


def _wanted(name: str, kind: bytes, size: int) -> bool:
    return (name.endswith(_DATABASE_ENDS) and kind in tar_names.REGULAR and size <= pk.MAX_DATABASE
            and pk.normalise(name) in pk.DATABASES)


_DATABASE_ENDS = tuple("/" + p.rsplit("/", 1)[1] for p in pk.DATABASES)


def _note(out: LayerContents, entry: tar_names.Entry) -> None:
    name = pk.normalise(entry.name)
    if WHITEOUT in name:
        folder, _, base = name.rpartition("/")
        if base == OPAQUE:
            out.opaque.add(folder)
            return
        if base.startswith(WHITEOUT):
            out.hidden.add(f"{folder}/{base[len(WHITEOUT):]}" if folder else base[len(WHITEOUT):])
            return
    if name.startswith(pk.STORE):
        path = pk.store_path_of(name)
        if path:
            out.store_paths.add(path)
    elif entry.data is not None:
        out.databases[name] = entry.data


def read_layers(blobs) -> list[LayerContents]:
    """Every layer of an image (Blobs with `.path` or `.data`), lowest first."""
    def one(blob) -> LayerContents:
        if blob.path is not None:
            with open(blob.path, "rb") as f:
                return read_layer(f, blob.digest)
        return read_layer(io.BytesIO(blob.data), blob.digest)

    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(one, blobs))


def stack(layers: list[LayerContents]) -> ImageContents:
    """The image's view once the layers are stacked: whiteouts hide what lies below them."""
    holders: dict[str, list[str]] = {}
    databases: dict[str, tuple[str, bytes]] = {}
    for layer in layers:
        for path in list(holders):
            if _hidden(path.lstrip("/"), layer):
                del holders[path]
        for path in list(databases):
            if _hidden(path, layer):
                del databases[path]
        for path in sorted(layer.store_paths):
            holders.setdefault(path, []).append(layer.digest)
        for path, data in layer.databases.items():
            databases[path] = (layer.digest, data)
    packages = [p for path in sorted(databases) for p in pk.parse_database(path, databases[path][1], databases[path][0])]
    return ImageContents(tuple(layer.digest for layer in layers),
                         tuple((pk.parse_store_path(p), tuple(d)) for p, d in sorted(holders.items())),
                         tuple(packages))


def _hidden(path: str, layer: LayerContents) -> bool:
    if any(path == h or path.startswith(h + "/") for h in layer.hidden):
        return True
    return any(not d or path.startswith(d + "/") for d in layer.opaque)


def image_contents(blobs) -> ImageContents:
    return stack(read_layers(blobs))

