"""`alba verify -t NAME:TAG SOURCE [--key FILE …]`: one release, checked as a user would."""

from __future__ import annotations

from alba_action.errors import InputError
from alba_action.names import parse_refs, split_ref
from alba_action.report.progress import Reporter
from alba_action.request import RunOptions
from alba_action.verify.checks import Keys, Report, check_static
from alba_action.verify.images import check_image
from alba_action.verify.sources import open_source


def verify(source_url: str, ref: str, keys: Keys, reporter: Reporter, options: RunOptions = RunOptions(),
           insecure: bool = False) -> Report:
    if source_url.startswith("docker://"):
        name, tag = split_ref(ref)[0], split_ref(ref)[1]
        if not tag:
            raise InputError(f"-t {ref!r} has no tag", "write -t NAME:TAG")
    else:
        name, tags = parse_refs([ref], need_tag=True)
        tag = tags[0]
    source = open_source(source_url, options, insecure)
    report = Report(source.url, name, tag)
    found = check_static(source, report, keys)
    found = check_image(source, report, keys) or found
    if not found:
        report.problems.append(f"no release {name}:{tag} at {source.url} (neither df-dist-v1/{name}/{tag} "
                               f"nor an image tag {tag})")
    for problem in report.problems:
        reporter.log(f"✗ {problem}")
    c = report.checked
    summary = (f"{c['files']} files, {c['manifests']} manifests, {c['blobs']} blobs, "
               f"{c['signatures']} signatures checked")
    reporter.log(f"✅ {name}:{tag} verified ({summary})" if not report.problems
                 else f"{name}:{tag}: {len(report.problems)} problems ({summary})")
    return report


def sources_of(request, doc: dict, public_url: str, registry_public_url: str) -> list[tuple[str, str]]:
    """(source URL, NAME:TAG) to verify after a publish: what users fetch — the public URLs
    when given, else the targets themselves; registries directly."""
    ref = f"{request.name}:{request.tags[0]}"
    out = []
    if request.static_dir:
        out += [(public_url or url, ref) for url in request.static_targets]
    if request.container_dir:
        for url in request.container_targets:
            # A registry is read as it is (the URL's own tag is not what is checked: `ref` is).
            out.append((url if url.startswith("docker://") else registry_public_url or url, ref))
    return list(dict.fromkeys(out))


def verify_published(request, doc: dict, public_url: str, registry_public_url: str, reporter: Reporter) -> list[dict]:
    """Verify what a publish wrote with the public halves of its signing keys; raise when
    anything is wrong (the step fails)."""
    from alba_action.errors import TargetError
    from alba_action.verify.checks import load_keys

    keys = Keys()
    if request.minisign:
        keys.minisign.append(request.minisign.public_key)
    if request.image_signer:
        keys.ecdsa += load_keys([("sign-key", request.image_signer.public_pem)]).ecdsa
    reports = [verify(url, ref, keys, reporter, request.options, request.image.insecure).to_json()
               for url, ref in sources_of(request, doc, public_url, registry_public_url)]
    problems = [p for r in reports for p in r["problems"]]
    if problems:
        raise TargetError(f"verify found {len(problems)} problems in what was published; the first: {problems[0]}",
                          "see the job log; check the store and whether something else writes to it")
    return reports
