"""Push loaded images in SPEC §4.1 order: blobs, manifests by digest, the index, tags last."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from alba_action.images.early import PARALLEL_BLOBS, EarlyBlobs, upload_blob
from alba_action.images.model import Blob, Manifest, PlatformImage
from alba_action.report.progress import Reporter, human_size


@dataclass
class ContainerResult:
    name: str
    target: str
    tags: list[str]
    digest: str
    media_type: str
    platforms: list[dict]
    pushed_blobs: list[str] = field(default_factory=list)
    existing_blobs: list[str] = field(default_factory=list)
    unchanged_tags: list[str] = field(default_factory=list)
    signatures: list[dict] = field(default_factory=list)
    referrers: list[dict] = field(default_factory=list)
    dry_run: bool = False

    def to_json(self) -> dict:
        return dict(self.__dict__)


def unique_blobs(images: list[PlatformImage]) -> list[tuple[Blob, str]]:
    """Every blob once, with a label saying what it is for the trace."""
    seen: dict[str, tuple[Blob, str]] = {}
    for image in images:
        for i, blob in enumerate(image.blobs):
            role = "config" if i == 0 else f"layer {i}"
            seen.setdefault(blob.digest, (blob, f"{role} {image.platform}"))
    return list(seen.values())


def describe(images: list[PlatformImage], index: Manifest, repo, tags: list[str], dry_run: bool) -> ContainerResult:
    platforms = [
        {
            "platform": str(im.platform),
            "digest": im.manifest.digest,
            "size": im.manifest.size + sum(b.size for b in im.blobs),
            "config": im.config.digest,
            "layers": [{"digest": b.digest, "size": b.size, "mediaType": b.media_type} for b in im.layers],
        }
        for im in images
    ]
    return ContainerResult(repo.name, repo.url, tags, index.digest, index.media_type, platforms, dry_run=dry_run)


def push(repo, tags: list[str], images: list[PlatformImage], index: Manifest, reporter: Reporter,
         dry_run: bool = False, signer=None, reference: str = "", referrers=(),
         early: EarlyBlobs | None = None) -> ContainerResult:
    """`signer`: sign the index and every platform manifest as `reference` (default: the
    repository's own name), before any tag makes the image visible. `early`: uploads the
    loader already started; their outcomes are collected here, in order."""
    result = describe(images, index, repo, tags, dry_run)
    reporter.log(f"-- push to {repo.url} --")
    if dry_run:
        _print_plan(reporter, images, index, tags)
        return result
    _push_blobs(repo, unique_blobs(images), reporter, result, early)
    for image in images:
        _put_manifest(repo, image.manifest, f"manifest {image.platform}", reporter)
    _put_manifest(repo, index, "index", reporter)
    if signer is not None:
        ref = reference or repo.reference_for("")
        for manifest in [index, *(i.manifest for i in images)]:
            result.signatures.append(_sign(repo, manifest.digest, signer, ref, reporter))
    if referrers:
        from alba_action.attest.referrers import attach

        for subject, attachments in referrers:
            result.referrers += attach(repo, subject, attachments, reporter)
    moved = [t for t in tags if repo.manifest_digest(t) != index.digest]
    if moved and not hasattr(repo, "tag_times"):  # a registry: record when (gc's age), digests unchanged
        from alba_action.images import published

        published.record(repo, {"mediaType": index.media_type, "digest": index.digest, "size": len(index.data)},
                         moved, reporter)
    for tag in tags:  # the commit point: only now can a reader see the new content
        if tag not in moved:
            result.unchanged_tags.append(tag)
            reporter.log(f"[tag] {tag} unchanged ({index.digest})")
        else:
            repo.put_manifest(tag, index.data, index.media_type)
            reporter.log(f"[tag] {tag} -> {index.digest}")
    repo.finish(tags)
    return result


def _print_plan(reporter: Reporter, images, index: Manifest, tags: list[str]) -> None:
    for blob, label in unique_blobs(images):
        reporter.log(f"would push blob {blob.digest} ({label}, {human_size(blob.size)})")
    for image in images:
        reporter.log(f"would push manifest {image.manifest.digest} ({image.platform})")
    reporter.log(f"would push index {index.digest}")
    for tag in tags:
        reporter.log(f"would tag {tag} -> {index.digest}")


def _push_blobs(repo, blobs: list[tuple[Blob, str]], reporter: Reporter, result: ContainerResult,
                early: EarlyBlobs | None) -> None:
    def one(item: tuple[Blob, str]) -> None:
        blob, label = item
        started = early.taken(repo, blob.digest) if early else None
        if started is not None:  # pushed while loading: its outcome, logged in its place
            done = started.result()
            how = done.how
            if how != "existing":
                reporter.log(f"[{label}] pushed blob {blob.digest} ({human_size(blob.size)}, {done.seconds:.1f} s, "
                             "while loading)")
        elif repo.blob_exists(blob.digest):
            how = "existing"
        else:
            with reporter.transfer(f"[{label}] pushed blob {blob.digest}", blob.size) as progress:
                how = upload_blob(repo, blob, progress)
        if how == "existing":
            result.existing_blobs.append(blob.digest)
            reporter.log(f"[{label}] existing blob {blob.digest}")
            return
        if how == "mounted":
            reporter.log(f"[{label}] mounted blob {blob.digest} from another repository")
        result.pushed_blobs.append(blob.digest)

    with ThreadPoolExecutor(PARALLEL_BLOBS) as pool:
        for future in [pool.submit(one, item) for item in blobs]:
            future.result()  # a failed blob stops the push before any manifest is written


def _sign(repo, digest: str, signer, reference: str, reporter: Reporter) -> dict:
    """Add our signature of `digest` under its `sha256-<hex>.sig` tag, keeping others'."""
    from alba_action.images import signatures as sigs
    from alba_action.signing.ecdsa_keys import load_public_key

    tag = sigs.signature_image([], digest).tag
    current = repo.get_manifest(tag)
    layers = sigs.existing_layers(current[0] if current else None, repo.get_blob)
    body = sigs.payload(reference, digest)
    if sigs.already_signed(layers, body, load_public_key(signer.public_pem)):
        reporter.log(f"[signature] {tag} unchanged")
        return {"subject": digest, "tag": tag, "digest": sigs.sha256_bytes(current[0])}
    image = sigs.signature_image([*layers, sigs.sign_layer(signer, reference, digest)], digest)
    for data, media_type in [(image.config, sigs.OCI_CONFIG), *((p, sigs.PAYLOAD_TYPE) for p in image.payloads)]:
        blob_digest = sigs.sha256_bytes(data)
        if not repo.blob_exists(blob_digest):
            repo.put_blob(blob_digest, len(data), media_type, None, data)
    repo.put_manifest(tag, image.manifest, sigs.OCI_MANIFEST)
    reporter.log(f"[signature] {tag} -> signed {digest} as {reference}")
    return {"subject": digest, "tag": tag, "digest": image.digest}


def _put_manifest(repo, manifest: Manifest, label: str, reporter: Reporter) -> None:
    if repo.manifest_digest(manifest.digest) == manifest.digest:
        reporter.log(f"[{label}] existing manifest {manifest.digest}")
        return
    repo.put_manifest(manifest.digest, manifest.data, manifest.media_type)
    reporter.log(f"[{label}] pushed manifest {manifest.digest}")
