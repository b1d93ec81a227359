"""The copy's pure planning: what a manifest reaches, attachment tags, tag mapping (promotion,
mirror), refs, referrer lists, and the static tag document under a new tag."""

from __future__ import annotations

import json
import pytest

from alba_action.copy.command import parse_copy_refs
from alba_action.copy.graph import Descriptor, Graph, children, cosign_tags, fallback_tag, media_type_of, \
    referrer_descriptors, tag_map
from alba_action.copy.static import _listed, _same_release, promoted
from alba_action.errors import InputError
from alba_action.oci import OCI_INDEX, OCI_MANIFEST

D1, D2, D3 = (f"sha256:{c * 64}" for c in "123")

INDEX = json.dumps({"mediaType": OCI_INDEX, "manifests": [
    {"mediaType": OCI_MANIFEST, "digest": D1, "size": 10, "platform": {"os": "linux", "architecture": "amd64"}},
    {"mediaType": OCI_MANIFEST, "digest": D2, "size": 11}]}).encode()
MANIFEST = json.dumps({"mediaType": OCI_MANIFEST, "config": {"digest": D1, "size": 3, "mediaType": "c"},
                       "layers": [{"digest": D2, "size": 4, "mediaType": "l"}],
                       "subject": {"digest": D3, "size": 5, "mediaType": OCI_INDEX}}).encode()


@pytest.mark.parametrize("data, manifests, blobs", [
    (INDEX, [Descriptor(D1, 10, OCI_MANIFEST), Descriptor(D2, 11, OCI_MANIFEST)], []),
    (MANIFEST, [], [Descriptor(D1, 3, "c"), Descriptor(D2, 4, "l")]),  # the subject is not followed
    (b'{"schemaVersion":2}', [], []),
])
def test_children(data, manifests, blobs):
    assert children(data, "m") == (manifests, blobs)


@pytest.mark.parametrize("data, problem", [
    (b"not json", "not a JSON manifest"),
    (b"[]", "not a manifest"),
    (b'{"layers":[{"digest":"sha256:x"}]}', "without digest or size"),
])
def test_damaged_manifests_are_named(data, problem):
    with pytest.raises(InputError, match=problem):
        children(data, "manifest X")


def test_media_type_from_the_document_else_the_answer():
    assert media_type_of(INDEX, "application/json", "m") == OCI_INDEX
    assert media_type_of(b"{}", "application/vnd.docker.distribution.manifest.v2+json", "m").endswith("v2+json")


def test_attachment_tags():
    assert cosign_tags(D1) == [f"sha256-{'1' * 64}{s}" for s in (".sig", ".att", ".sbom")]
    assert fallback_tag(D1) == f"sha256-{'1' * 64}"


@pytest.mark.parametrize("index, found", [
    (None, []),
    (b"", []),
    (b"garbage", []),
    (json.dumps({"manifests": [{"digest": D1, "size": 1}, {"size": 2}, "x"]}).encode(), [{"digest": D1, "size": 1}]),
])
def test_referrer_descriptors(index, found):
    assert referrer_descriptors(index, "r") == found


def test_referrers_merge_by_digest_sorted():
    g = Graph()
    g.add_referrers(D3, [{"digest": D2, "a": 1}])
    g.add_referrers(D3, [{"digest": D1}, {"digest": D2, "a": 2}])
    g.add_referrers(D1, [])
    assert g.referrers == {D3: [{"digest": D1}, {"digest": D2, "a": 2}]}


@pytest.mark.parametrize("tags, as_tags, expected", [
    (["1.0", "latest"], [], {"1.0": ["1.0"], "latest": ["latest"]}),  # a copy keeps the tags
    (["1.0-rc.2"], ["1.0", "latest", "1.0"], {"1.0-rc.2": ["1.0", "latest"]}),  # promotion
    (["a", "b", "c"], [], {"a": ["a"], "b": ["b"], "c": ["c"]}),  # a mirror's tags
])
def test_tag_map(tags, as_tags, expected):
    assert tag_map(tags, as_tags) == expected


@pytest.mark.parametrize("tags", [["1", "2"], []])
def test_promotion_takes_one_source_tag(tags):
    with pytest.raises(InputError, match="promote one tag at a time"):
        tag_map(tags, ["1.0"])


@pytest.mark.parametrize("refs, as_tags, single, expected", [
    (["app:1.0"], [], False, ("app", ["1.0"])),
    (["team/app:1", "team/app:2", "team/app:1"], [], False, ("team/app", ["1", "2"])),
    (["app"], [], True, ("app", [])),  # every tag
    ([], [], False, ("", [])),  # docker:// to docker://: the repositories come from the URLs
    (["app:rc"], ["1.0", "latest"], True, ("app", ["rc"])),
])
def test_parse_copy_refs(refs, as_tags, single, expected):
    assert parse_copy_refs(refs, as_tags, single=single) == expected


@pytest.mark.parametrize("refs, as_tags, problem", [
    (["a:1", "b:1"], [], "several releases"),
    (["app", "app:1"], [], "mixes NAME and NAME:TAG"),
    (["app:1"], ["-bad"], "not a valid tag"),
    (["App:1"], [], "not a valid name"),
    (["app"], ["1.0"], "without a source tag"),
])
def test_bad_refs(refs, as_tags, problem):
    with pytest.raises(InputError, match=problem):
        parse_copy_refs(refs, as_tags, single=True)


RESOURCE = {"path": "tool", "size": 3, "digest": D1, "signature": "tool.minisig"}
TAG_DOC = json.dumps({"flavors": [{"resources": [RESOURCE],
                                   "platform": {"architecture": "arm", "os": "linux", "variant": "v7"}}],
                      "published": "2026-01-01T00:00:00.000000Z",
                      "checksums": {"path": "SHA256SUMS", "size": 9, "digest": D2, "signature": "SHA256SUMS.minisig"},
                      "attachments": [{"path": "_alba/provenance.intoto.json", "mediaType": "application/x",
                                       "size": 4, "digest": D3}]}, separators=(",", ":")).encode()


def test_every_object_a_tag_document_lists():
    assert [(p, d) for p, _, d, _ in _listed(json.loads(TAG_DOC))] == [
        ("linux/arm/v7/tool", D1), ("linux/arm/v7/tool.minisig", None), ("SHA256SUMS", D2),
        ("SHA256SUMS.minisig", None), ("_alba/provenance.intoto.json", D3)]


def test_a_promoted_tag_document_changes_only_its_time():
    doc = promoted(TAG_DOC, "2026-12-08T03:00:00.000000Z")
    assert json.loads(doc)["published"] == "2026-12-08T03:00:00.000000Z"
    assert {**json.loads(doc), "published": None} == {**json.loads(TAG_DOC), "published": None}
    assert list(json.loads(doc)) == list(json.loads(TAG_DOC))  # field order kept
    assert _same_release(doc, TAG_DOC) and not _same_release(None, TAG_DOC) and not _same_release(b"x", TAG_DOC)
