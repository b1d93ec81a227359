"""The CI step: settings → tags → static and container steps → outputs and job summary.

Order matters: secrets are masked before anything is printed; every input, tag, target
and result file is checked before the first upload; the static files and image archives
are read and validated before either is published.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import TextIO

from alba_action.context import context_from_env, detect_provider
from alba_action.errors import AlbaError, InputError
from alba_action.names import check_name
from alba_action.report import outputs, summary
from alba_action.report.ci import CiLog, RedactingStream
from alba_action.report.progress import Reporter
from alba_action.settings import ActionSettings, load_settings, secret_values, unknown_names
from alba_action.tags import TagResult, compute_tags


class Step:
    """One run of the action; `done` lists what was published, for the summary of a failure."""

    def __init__(self, env: Mapping[str, str], cwd: Path, log: CiLog) -> None:
        self.env, self.cwd, self.log = env, cwd, log
        self.reporter = Reporter(RedactingStream(log), live=False)
        self.done: list[str] = []
        self.settings: ActionSettings | None = None

    def run(self) -> dict:
        for warning in unknown_names(self.env):
            self.log.warning(warning)
        s = self.settings = load_settings(self.env)
        self._check_result_files(s)
        tag_result = self._tags(s)
        refs = [f"{s.name}:{t}" for t in tag_result.tags]
        self.log.line(f"alba: {s.name} {tag_result.version} (tags: {', '.join(tag_result.tags)})"
                      + (" — dry run" if s.dry_run else ""))
        self._credentials(s)
        static, containers = self._publish(s, refs, tag_result)
        return outputs.build_document(s.name, tag_result.to_json(), static, containers,
                                      s.public_url, s.registry_public_url, s.dry_run)

    def _check_result_files(self, s: ActionSettings) -> None:
        for path, what in ((self.env.get("GITHUB_OUTPUT"), "GITHUB_OUTPUT"),
                           (self.env.get("GITHUB_STEP_SUMMARY"), "GITHUB_STEP_SUMMARY"),
                           (self._output_file(), "output-file")):
            if path:
                outputs.check_writable(path, what)

    def _output_file(self) -> str:
        path = self.settings.output_file if self.settings else ""
        return str(self.cwd / path) if path else ""

    def _tags(self, s: ActionSettings) -> TagResult:
        check_name(s.name, single=bool(s.static_dir), flag="input 'name'")
        ctx = context_from_env(self.env, self.cwd)
        result = compute_tags(ctx, s.tags, s.flavor)
        if not result.tags:
            where = f"{ctx.provider} {ctx.event or 'build'} of {ctx.ref or ctx.sha or 'this commit'}"
            rules = "; ".join(line.strip() for line in s.tags.splitlines() if line.strip()) or "the default rules"
            raise InputError(f"input 'tags': no rule gives a tag for this {where} (rules: {rules})",
                             "add a rule to the 'tags' input that matches this event, e.g. type=sha or "
                             "type=raw,value=dev, or run the step only on the events your rules cover")
        return result

    def _credentials(self, s: ActionSettings) -> None:
        # boto3 reads the standard chain from the environment: inputs join it there.
        for key, value in (("AWS_ACCESS_KEY_ID", s.aws_access_key_id), ("AWS_SECRET_ACCESS_KEY", s.aws_secret_access_key),
                           ("AWS_SESSION_TOKEN", s.aws_session_token)):
            if value:
                os.environ[key] = value

    def _registry_login(self) -> tuple[str | None, str | None]:
        s = self.settings
        user = s.registry_username or self.env.get("ALBA_REGISTRY_USERNAME") or None
        password = s.registry_password or self.env.get("ALBA_REGISTRY_PASSWORD") or None
        return user, password

    def _publish(self, s: ActionSettings, refs: list[str], tags: TagResult) -> tuple[list[dict], list[dict]]:
        static_dir = self._dir(s.static_dir, "static-dir") if s.static_dir else None
        container_dir = self._dir(s.container_dir, "container-dir") if s.container_dir else None
        with self.log.group("check inputs and targets"):
            stores, flavors, repos = self._preflight(s, refs, static_dir, container_dir)
        static: list[dict] = []
        containers: list[dict] = []
        with ExitStack() as stack:
            images = None
            if container_dir:
                from alba_action.containers.command import loaded_images

                with self.log.group(f"load images from {s.container_dir}"):
                    images = stack.enter_context(loaded_images(
                        container_dir, self.reporter, compression=s.compression, fmt=s.format,
                        max_uncompressed=s.max_uncompressed_size))
            for store in stores:
                static.append(self._push_static(store, refs, static_dir, flavors))
            for repo, repo_tags in repos:
                containers.append(self._push_container(repo, repo_tags, images, tags.version))
        return static, containers

    def _dir(self, value: str, what: str) -> Path:
        path = self.cwd / value
        if not path.is_dir():
            raise InputError(f"{what} {value!r} is not a folder (looked in {path})",
                             f"set {what} to the folder your build wrote, relative to the workspace")
        return path

    def _preflight(self, s: ActionSettings, refs: list[str], static_dir: Path | None,
                   container_dir: Path | None) -> tuple[list, list | None, list]:
        """Open every target and, unless dry-running, check it answers, before minutes of work."""
        from alba_action.containers.repository import open_repository
        from alba_action.static.scan import scan
        from alba_action.targets.open import open_store

        stores, flavors = [], None
        if static_dir:
            flavors = scan(static_dir)  # a bad layout fails now, not after the images were compressed
            stores = [open_store(self._rel(url)) for url in s.static_targets]
        repos = []
        if container_dir:
            user, password = self._registry_login()
            repos = [open_repository(self._rel(url), refs, need_tag=True, insecure=s.insecure,
                                     username=user, password=password) for url in s.container_target_list]
        if not s.dry_run:
            for target in [*stores, *(repo for repo, _ in repos)]:
                self.log.line(f"target {target.url}")
                target.check()
        return stores, flavors, repos

    def _rel(self, url: str) -> str:
        """`file://./dir` is relative to the workspace, not to wherever the process started."""
        if url.startswith("file://./"):
            return f"file://{(self.cwd / url.removeprefix('file://./')).resolve()}"
        return url

    def _push_static(self, store, refs: list[str], static_dir: Path, flavors: list) -> dict:
        from alba_action.static.publish import push

        with self.log.group(f"static files → {store.url}"):
            result = push(store, refs, static_dir, self.reporter, self.settings.dry_run, flavors).to_json()
        self.done.append(f"static files of {refs[0]} → {store.url}")
        return result

    def _push_container(self, repo, tags: list[str], images, version: str) -> dict:
        """To a repository opened and checked by _preflight."""
        from alba_action.containers.command import index_annotations, push_to

        s = self.settings
        with self.log.group(f"container image → {repo.url}"):
            result = push_to(repo, tags, images, self.reporter, s.format, s.dry_run,
                             index_annotations(version, self.env, self.cwd)).to_json()
        self.done.append(f"container image {result['digest']} → {result['target']}")
        return result

    def finish(self, doc: dict) -> None:
        out = {k: self.log.redact(v) for k, v in outputs.step_outputs(doc).items()}
        if self.env.get("GITHUB_OUTPUT"):
            outputs.write_github_outputs(self.env["GITHUB_OUTPUT"], out)
        if self._output_file():
            outputs.write_output_file(self._output_file(), doc)
        if self.env.get("GITHUB_STEP_SUMMARY"):
            outputs.append_text(self.env["GITHUB_STEP_SUMMARY"], self.log.redact(summary.success_markdown(doc)),
                                "GITHUB_STEP_SUMMARY")
        for url in doc["urls"]:
            self.log.line(url)
        self.log.line("✅ dry run: nothing written" if doc["dry_run"] else f"✅ published {doc['name']} {doc['version']}")

    def fail(self, kind: str, message: str, fix: str) -> None:
        """Say it everywhere a user looks; a result file that itself failed is left alone."""
        message, fix = self.log.redact(message), self.log.redact(fix)
        self.log.error(f"{message} — {fix}" if fix else message, title=kind)
        if self.env.get("GITHUB_STEP_SUMMARY"):
            try:
                outputs.append_text(self.env["GITHUB_STEP_SUMMARY"],
                                    summary.failure_markdown(kind, message, fix, self.done), "GITHUB_STEP_SUMMARY")
            except AlbaError:
                pass
        if self._output_file() and "output-file" not in message:
            try:
                outputs.write_output_file(self._output_file(), {"error": {"type": kind, "message": message, "fix": fix}})
            except AlbaError:
                pass
        print(f"{kind}: {message}" + (f" — {fix}" if fix else ""), file=sys.stderr, flush=True)


def main(env: Mapping[str, str] | None = None, cwd: Path | None = None, stdout: TextIO | None = None) -> int:
    env = dict(os.environ if env is None else env)
    log = CiLog(stdout or sys.stdout, commands=detect_provider(env) in ("github", "forgejo"))
    for secret in secret_values(env):  # before anything else is printed
        log.mask(secret)
    # Every CI starts the step in the workspace; relative inputs are relative to it.
    step = Step(env, Path(cwd or Path.cwd()), log)
    try:
        doc = step.run()
        step.finish(doc)
    except AlbaError as err:
        step.fail(type(err).__name__, err.message, err.fix)
        return err.exit_code
    except KeyboardInterrupt:
        step.fail("Interrupted", "the step was stopped", "nothing after the last line of the log was written")
        return 130
    except Exception as err:  # a bug: still no secret in the log, and a summary that says so
        log.line(traceback.format_exc())
        step.fail(type(err).__name__, str(err), "this is a bug in alba; please report it with the log above")
        return 1
    return 0
