"""`ls`, `rm` and `gc` of df-dist-v1 names: the name document first, then the objects."""

from __future__ import annotations

import time
from concurrent.futures import Future

from alba_action.errors import InputError
from alba_action.names import parse_refs
from alba_action.retention import Policy
from alba_action.report.progress import Reporter
from alba_action.pages import publish as pages
from alba_action.static import catalog, plan
from alba_action.static.publish import StaticResult
from alba_action.targets.stores.converge import conditional_writes, known_conditionals


def ls(store, refs: list[str]) -> StaticResult:
    name, _ = parse_refs(refs, need_tag=False, single=True)
    store.check()
    tags, _, _ = catalog.read_tags(store, name)
    result = StaticResult(name, store.url, tags)
    return result


def rm(store, refs: list[str], reporter: Reporter, dry_run: bool = False) -> StaticResult:
    name, tags = parse_refs(refs, need_tag=True, single=True)
    return _remove(store, name, tags, reporter, dry_run)


def gc(store, refs: list[str], policy: Policy, reporter: Reporter, dry_run: bool = False,
       grace_seconds: float = 3600.0) -> StaticResult:
    """Remove the tags no rule of `policy` keeps (static/gc.py), then files that no tag
    document lists (a push that failed before its tag document) once they are older than
    `grace_seconds`; then check that every kept tag is whole."""
    from alba_action.static import gc as retention

    name, _ = parse_refs(refs, need_tag=False, single=True)
    store.check()
    tags, decision = retention.decide_tags(store, name, policy, reporter)
    victims = decision.victims
    if not victims:
        reporter.log(f"nothing to collect: {len(tags)} tags, all kept")
    result = _remove(store, name, victims, reporter, dry_run)
    _sweep_orphans(store, name, set(tags) - set(victims), result, reporter, dry_run, grace_seconds)
    from alba_action.parts.sweep import sweep_store  # parts of releases never assembled

    result.deleted += sweep_store(store, name, grace_seconds, reporter, dry_run)
    result.kept, result.policy, result.warnings = decision.kept, policy.to_json(), decision.warnings
    result.validation = retention.validate(store, name, list(decision.kept), reporter,
                                           set(result.deleted) if dry_run else set())
    return result


def _sweep_orphans(store, name: str, kept: set[str], result: StaticResult, reporter: Reporter, dry_run: bool,
                   grace_seconds: float) -> None:
    documents = catalog.tag_documents(store, name)
    prefix = f"{plan.ROOT}/{name}/"
    cutoff = time.time() - grace_seconds
    orphans = [i for i in store.list_info(prefix) if "/" in i.key[len(prefix):]
               and i.key[len(prefix):].split("/", 1)[0] not in documents | kept | set(result.tags)]
    old = [i.key for i in orphans if (i.modified or 0.0) <= cutoff]
    result.kept_young = len(orphans) - len(old)
    result.grace_seconds = grace_seconds
    for key in old:
        reporter.log(f"{'would delete' if dry_run else 'deleted'} {key} (no tag document lists it)")
        if not dry_run:
            store.delete(key)
    result.deleted += old
    if result.kept_young:
        reporter.log(f"kept {result.kept_young} files that no tag lists but are younger than the grace period "
                     f"({grace_seconds:g} s; --grace 0 sweeps them)")


def _remove(store, name: str, tags: list[str], reporter: Reporter, dry_run: bool) -> StaticResult:
    result = StaticResult(name, store.url, tags, dry_run=dry_run)
    if not tags:
        return result
    store.check()
    found = {t: _tag_objects(store, name, t) for t in tags}
    keys = {t: k for t, (k, _) in found.items()}
    current = catalog.read_stored(store, name)
    listed = current.value.tags if current.value else ()
    for tag in tags:
        if not keys[tag] and tag not in listed:
            raise InputError(
                f"-t {name}:{tag}: no such tag on {store.url}",
                f"`alba static ls -t {name} TARGET` lists the published tags",
            )
    result.deleted = [k for t in tags for k in keys[t]]
    if dry_run:
        reporter.log(f"would write manifest -> {plan.name_key(name)} (removing {', '.join(tags)})")
        for key in result.deleted:
            reporter.log(f"would delete {key}")
        return result
    # Readers stop seeing the tags first. The probe rewrites, If-None-Match, a tag document
    # about to go with the bytes it holds: where conditional writes are honoured, the name
    # document is then written If-Match from the read above, with no listing and no settle time.
    probe = next(((plan.tag_key(name, t), doc) for t, (_, doc) in found.items() if doc is not None), None)
    conditionals = conditional_writes(store, *probe) if probe else known_conditionals(store)
    catalog.update(store, name, remove=set(tags), conditionals=conditionals, early=_ready(current), added=())
    reporter.log(f"manifest -> {plan.name_key(name)} (removed {', '.join(tags)})")
    if pages.has_pages(store, name):
        pages.write_pages(store, name, reporter)  # before the files go: no page links a deleted file
    for key in result.deleted:
        store.delete(key)
        reporter.log(f"deleted {key}")
    return result


def page(store, refs: list[str], reporter: Reporter) -> StaticResult:
    """`alba static page`: rewrite the download pages alone."""
    name, _ = parse_refs(refs, need_tag=False, single=True)
    store.check()
    tags, _, exists = catalog.read_tags(store, name)
    plan.checked_tags(tags, name, store.url)
    if not exists:
        raise InputError(f"-t {name}: nothing published under this name on {store.url}",
                         "publish it first with `alba static push`")
    result = StaticResult(name, store.url, tags)
    result.documents = pages.write_pages(store, name, reporter)
    return result


def _tag_objects(store, name: str, tag: str) -> tuple[list[str], bytes | None]:
    """The tag document first (so no concurrent push lists the tag again), then its files;
    and the document's bytes (None when missing)."""
    doc = plan.tag_key(name, tag)
    files = sorted(store.list(doc + "/"))
    got = store.get(doc)
    return ([doc] if got is not None else []) + files, got[0] if got else None


def _ready(value) -> Future:
    done: Future = Future()
    done.set_result(value)
    return done
