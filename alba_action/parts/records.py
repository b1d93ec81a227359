"""Where a repository keeps the part records of a release: one record per platform, each
under its own key, so that parts of concurrent jobs never overwrite each other.

- a static registry (bucket, folder): `v2/NAME/_alba/parts/RELEASE/<os>.<arch>[.<variant>].json`
  (outside `manifests/`, so never a tag nor in `tags/list`);
- a docker:// registry, which finds manifests only by tag: tags `RELEASE-<os>-<arch>[-<variant>]`
  in the child repository `REPO/alba-parts`, each an OCI artifact manifest whose one layer is
  the record (the image's own `tags/list` never shows them).
`assembled` is the marker an assembly leaves in place of the records.
"""

from __future__ import annotations

import json

from alba_action.digest import sha256_bytes
from alba_action.errors import AlbaError
from alba_action.oci import OCI_MANIFEST
from alba_action.parts import plan
from alba_action.platforms import Platform
from alba_action.targets.base import Body

ASSEMBLED = "assembled"
EMPTY = b"{}"
EMPTY_TYPE = "application/vnd.oci.empty.v1+json"
PARTS_REPO = "alba-parts"


class StoreRecords:
    """The records of one release in a static registry's store."""

    def __init__(self, repo, rid: str) -> None:
        self.store, self.rid = repo.store, rid
        self.prefix = f"v2/{repo.name}/_alba/parts/{rid}/"

    def put(self, key: str, data: bytes) -> str:
        self.store.put(self.prefix + key + ".json", Body(data=data), plan.RECORD, "no-cache")
        return self.prefix + key + ".json"

    def read(self) -> dict[str, bytes]:
        keys = [k for k in self.store.list(self.prefix, shallow=True) if k.endswith(".json")]
        got = {k[len(self.prefix):-len(".json")]: self.store.get(k) for k in keys}
        return {k: v[0] for k, v in got.items() if v is not None}

    def clear(self, keep: str) -> list[str]:
        gone = [k for k in self.store.list(self.prefix) if k != self.prefix + keep + ".json"]
        for key in gone:
            self.store.delete(key)
        return gone


class RegistryRecords:
    """The records of one release as tags of `REPO/alba-parts` on a registry."""

    def __init__(self, registry, rid: str) -> None:
        self.registry, self.rid = registry, rid

    def put(self, key: str, data: bytes) -> str:
        for blob in (EMPTY, data):
            digest = sha256_bytes(blob)
            if not self.registry.blob_exists(digest):
                self.registry.put_blob(digest, len(blob), plan.RECORD, None, blob)
        manifest = _artifact(data)
        tag = self._tag(key)
        self.registry.put_manifest(tag, manifest, OCI_MANIFEST)
        return f"{self.registry.url}:{tag}"

    def read(self) -> dict[str, bytes]:
        out = {}
        for tag in self.registry.list_tags():
            if not tag.startswith(self.rid + "-"):
                continue
            got = self.registry.get_manifest(tag)
            if got is None:
                continue
            layer = json.loads(got[0])["layers"][0]["digest"]
            data = self.registry.get_blob(layer)
            if data is not None:
                out[tag[len(self.rid) + 1:].replace("-", ".")] = data
        return out

    def clear(self, keep: str) -> list[str]:
        """Every record but `keep`; a registry that refuses deletes keeps them (gc reports it)."""
        gone = []
        for tag in self.registry.list_tags():
            if tag.startswith(self.rid + "-") and tag != self._tag(keep):
                digest = self.registry.manifest_digest(tag)
                try:
                    if digest and self.registry.delete_manifest(digest):
                        gone.append(f"{self.registry.url}:{tag}")
                except AlbaError:  # deletes refused (distribution's default): the records stay, harmless
                    break
        return gone

    def _tag(self, key: str) -> str:
        return f"{self.rid}-{key.replace('.', '-')}"


def _artifact(data: bytes) -> bytes:
    from alba_action.grammar import compact_json

    return compact_json({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": plan.RECORD,
        "config": {"mediaType": EMPTY_TYPE, "digest": sha256_bytes(EMPTY), "size": len(EMPTY)},
        "layers": [{"mediaType": plan.RECORD, "digest": sha256_bytes(data), "size": len(data)}]})


def records_for(repo, rid: str, options, insecure: bool):
    """The record keeper of `repo`: its store for a static registry, `REPO/alba-parts` on a registry."""
    if hasattr(repo, "store"):
        return StoreRecords(repo, rid)
    from alba_action.targets.open import open_registry

    url = f"docker://{repo.host}/{repo.name}/{PARTS_REPO}"
    plain = insecure or getattr(repo.client, "prefix", "https") == "http"  # `?insecure=true` on the image's URL
    return RegistryRecords(open_registry(url, options, insecure=plain), rid)


def key_of(platform: Platform) -> str:
    return plan.dotted(platform)
