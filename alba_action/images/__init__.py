"""Container images: archives in (docker, Nix, OCI), compression, manifests, the index.

The publisher's API (stable; everything else in this package is internal):

    load_images(src_dir, *, compression="gzip", fmt="oci", workdir, max_uncompressed=8 GiB,
                cache_dir=None, log=print_to_stderr) -> list[PlatformImage]
        One image per `<os>.<arch>[.<variant>].tar[.gz|.zst]` archive (or OCI layout folder
        `<os>.<arch>[.<variant>]`) in src_dir, sorted by platform. Each PlatformImage has
        `platform` (from the image config), `config` (a Blob with `.data`), `layers` (Blobs
        with `.path`: a file holding exactly the bytes of `.digest`) and `manifest` (bytes
        already built for `fmt`). Layer files live in the cache's blob store (cache_dir,
        which the edge sets from $ALBA_CACHE_DIR, $XDG_CACHE_HOME/alba or ~/.cache/alba), or
        under `workdir/store` when cache_dir is None: do not delete them, they may be shared with
        the next run. A re-run with unchanged input reads them back from the cache without
        any (de)compression. Raises InputError / ArchiveError (message + fix).
    check_options(compression, fmt)          fail early on bad settings (e.g. docker + zstd)
    build_manifest(config, layers, fmt) -> Manifest
    build_index(images, annotations, fmt) -> Manifest   OCI index / Docker manifest list
    verify_blob_file(blob)                   re-hash a blob file before uploading it: cached
                                             files are trusted on size only, and a damaged
                                             one is deleted and reported (ArchiveError)
    find_archives(src_dir) -> [(Platform, Path)] the inputs, checked, without reading them
    DEFAULT_MAX_UNCOMPRESSED, COMPRESSIONS, FORMATS

`log` receives `-- load archives --` then one line per platform:
`docker/linux.amd64.tar.gz -> linux/amd64: 3 layers, 12.3 MB (gzip, 1.2 s)`
(`gzip, cached` when the cache answered).
"""

from alba_action.images.compress import COMPRESSIONS
from alba_action.images.load import DEFAULT_MAX_UNCOMPRESSED, check_options, load_images
from alba_action.images.manifests import FORMATS, build_index, build_manifest
from alba_action.images.inputs import find_archives
from alba_action.images.store import verify_blob_file

__all__ = [
    "COMPRESSIONS",
    "DEFAULT_MAX_UNCOMPRESSED",
    "FORMATS",
    "build_index",
    "build_manifest",
    "check_options",
    "load_images",
    "find_archives",
    "verify_blob_file",
]
