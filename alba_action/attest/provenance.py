"""An in-toto statement with a SLSA provenance v1 predicate, in a DSSE envelope.

Built from the CI context alone — no clock: the run's start time is the CI's own, or left
out — so an identical re-run produces byte-identical envelopes (and uploads nothing)."""

from __future__ import annotations

import base64

from alba_action.context.model import Context
from alba_action.grammar import compact_json

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
BUILD_TYPE = "https://github.com/alba-action/alba/publish/v1"
ENVELOPE_TYPE = "application/vnd.dsse.envelope.v1+json"


def statement(ctx: Context, subjects: list[tuple[str, str]], parameters: dict) -> dict:
    """`subjects`: (name, "sha256:<hex>") of every published manifest or file."""
    builder = f"{ctx.server_url or ctx.provider}/{ctx.provider}" if ctx.provider != "local" else "local"
    dependencies = []
    if ctx.repo_url and ctx.sha:
        dependencies.append({"uri": f"git+{ctx.repo_url}@{ctx.ref}" if ctx.ref else f"git+{ctx.repo_url}",
                             "digest": {"gitCommit": ctx.sha}})
    metadata = {"invocationId": ctx.run_url or ctx.run_id}
    if ctx.run_started:
        metadata["startedOn"] = ctx.run_started
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": name, "digest": {"sha256": digest.removeprefix("sha256:")}}
                    for name, digest in subjects],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {**parameters, "workflow": {
                    "repository": ctx.repo_url, "ref": ctx.ref, "name": ctx.workflow}},
                "internalParameters": {"ci": ctx.provider, "event": ctx.event},
                "resolvedDependencies": dependencies,
            },
            "runDetails": {
                "builder": {"id": builder},
                "metadata": {k: v for k, v in metadata.items() if v},
            },
        },
    }


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what is signed."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def envelope(doc: dict, signer=None) -> bytes:
    """The DSSE envelope; without a signer its `signatures` list is empty (unsigned, and says so)."""
    payload = compact_json(doc)
    signatures = []
    if signer is not None:
        signatures.append({"keyid": signer.key_id, "sig": base64.b64encode(signer.sign(pae(PAYLOAD_TYPE, payload))).decode()})
    return compact_json({"payloadType": PAYLOAD_TYPE, "payload": base64.b64encode(payload).decode(),
                         "signatures": signatures})
