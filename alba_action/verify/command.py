"""`alba verify -t NAME:TAG SOURCE [--key FILE …]`: one release, checked as a user would."""

from __future__ import annotations

from alba_action.errors import InputError
from alba_action.names import parse_refs, split_ref
from alba_action.report.progress import Reporter
from alba_action.request import RunOptions
from alba_action.verify.checks import Keys, Report, check_image, check_static
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
