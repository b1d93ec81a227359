"""The step's retention (inputs gc-*): after a publish, gc the name on every target it
published to, by one policy; what was kept and deleted goes to the outputs and summary."""

from __future__ import annotations

from alba_action.report.progress import Reporter
from alba_action.request import PublishRequest
from alba_action.retention import Policy


def collect(req: PublishRequest, policy: Policy, reporter: Reporter, trace) -> list[dict]:
    """One gc result per target, each as `alba … gc --json` prints it, with its `kind`."""
    from alba_action.images import manage as images
    from alba_action.static import manage as static
    from alba_action.targets.open import open_repository, open_store

    grace = req.options.gc_grace_seconds
    done = []
    for url in req.static_targets if req.static_dir else ():
        with trace.section(f"retention: static files on {url}"):
            result = static.gc(open_store(url, req.options), [req.name], policy, reporter, req.dry_run, grace)
        done.append({"kind": "static", **result.to_json()})
    for url in req.container_targets if req.container_dir else ():
        with trace.section(f"retention: images on {url}"):
            repo, _ = open_repository(url, req.name, [], need_tag=False, options=req.options, image=req.image)
            done.append({"kind": "container", **images.gc(repo, policy, reporter, req.dry_run, grace).to_json()})
    return done
