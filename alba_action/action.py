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
from dataclasses import dataclass
from pathlib import Path
from typing import ContextManager, TextIO

from alba_action.context import context_from_env, detect_provider, image_annotations
from alba_action.errors import AlbaError, InputError
from alba_action.names import check_name
from alba_action.options import run_options
from alba_action.pipeline import PublishResult, publish
from alba_action.report import outputs, summary
from alba_action.report.ci import CiLog, RedactingStream
from alba_action.report.progress import Reporter
from alba_action.request import AwsCredentials, ImageOptions, PublishRequest, Secret, parse_annotations
from alba_action.settings import ActionSettings, load_settings, secret_values, unknown_names
from alba_action.tags import TagResult, compute_tags


@dataclass
class _StepTrace:
    """The pipeline's sections become the CI log's collapsible groups."""

    reporter: Reporter
    log: CiLog

    def section(self, title: str) -> ContextManager[None]:
        return self.log.group(title)


class Step:
    """One run of the action; `done` lists what was published, for the summary of a failure."""

    def __init__(self, env: Mapping[str, str], cwd: Path, log: CiLog) -> None:
        self.env, self.cwd, self.log = env, cwd, log
        self.reporter = Reporter(RedactingStream(log), live=False)
        self.settings: ActionSettings | None = None
        self.result: PublishResult | None = None

    def run(self) -> dict:
        for warning in unknown_names(self.env):
            self.log.warning(warning)
        s = self.settings = load_settings(self.env)
        self._check_result_files(s)
        tag_result, ctx = self._tags(s)
        self.log.line(f"alba: {s.name} {tag_result.version} (tags: {', '.join(tag_result.tags)})"
                      + (" — dry run" if s.dry_run else ""))
        request = self.request(s, tag_result, ctx)
        self.result = PublishResult(request.name, request.version, list(request.tags), dry_run=request.dry_run)
        publish(request, _StepTrace(self.reporter, self.log), self.result)
        tags_json = tag_result.to_json()
        if self.result.latest_dropped:
            self.log.warning(self.result.latest_dropped)
            tags_json.update(tags=list(self.result.tags), latest=False)
        doc = outputs.build_document(s.name, tags_json, self.result.static, self.result.containers,
                                     s.public_url, s.registry_public_url, s.dry_run)
        doc["latest_dropped"] = self.result.latest_dropped
        doc["annotations"] = dict(request.image.annotations)
        if s.verify and not s.dry_run:
            from alba_action.verify.command import verify_published

            with self.log.group("verify what was published"):
                doc["verify"] = verify_published(request, doc, s.public_url, s.registry_public_url, self.reporter)
        return doc

    def request(self, s: ActionSettings, tags: TagResult, ctx) -> PublishRequest:
        """The inputs as one PublishRequest: what `alba publish` and the CLI build from flags."""
        index, manifest = parse_annotations(s.annotations.splitlines(), flag="input 'annotations'")
        image = ImageOptions(s.compression, s.format, s.max_uncompressed_size, s.insecure, False,
                             {**image_annotations(ctx, tags.version), **index}, manifest,
                             public_host=s.registry_public_url.split("://", 1)[-1].split("/", 1)[0])
        options = run_options(
            self.env, parallel=s.jobs, registry_username=s.registry_username, registry_password=Secret(s.registry_password) if
            s.registry_password else None,
            aws=AwsCredentials(s.aws_access_key_id, Secret(s.aws_secret_access_key), Secret(s.aws_session_token))
            if s.aws_access_key_id else None)
        return PublishRequest(
            s.name, tuple(tags.tags),
            static_dir=self._dir(s.static_dir, "static-dir") if s.static_dir else None,
            static_targets=tuple(self._rel(u) for u in s.static_targets),
            container_dir=self._dir(s.container_dir, "container-dir") if s.container_dir else None,
            container_targets=tuple(self._rel(u) for u in s.container_target_list),
            version=tags.version, image=image, dry_run=s.dry_run, options=options, latest_guard=s.latest_guard,
            minisign=self._minisign(s), image_signer=self._image_signer(s), pages=s.page,
            provenance=s.provenance, context=ctx)

    def _minisign(self, s: ActionSettings):
        if not s.minisign_key:
            return None
        from alba_action.signing.minisign_keys import load_secret_key

        return load_secret_key(s.minisign_key.encode(), s.minisign_password, "input 'minisign-key'")

    def _image_signer(self, s: ActionSettings):
        if not s.sign_key:
            return None
        from alba_action.signing.ecdsa_keys import load_signing_key

        password = s.sign_password or self.env.get("COSIGN_PASSWORD", "")
        return load_signing_key(s.sign_key.encode(), password, "input 'sign-key'")

    def _check_result_files(self, s: ActionSettings) -> None:
        for path, what in ((self.env.get("GITHUB_OUTPUT"), "GITHUB_OUTPUT"),
                           (self.env.get("GITHUB_STEP_SUMMARY"), "GITHUB_STEP_SUMMARY"),
                           (self._output_file(), "output-file")):
            if path:
                outputs.check_writable(path, what)

    def _output_file(self) -> str:
        path = self.settings.output_file if self.settings else ""
        return str(self.cwd / path) if path else ""

    def _tags(self, s: ActionSettings) -> tuple[TagResult, object]:
        check_name(s.name, single=bool(s.static_dir), flag="input 'name'")
        ctx = context_from_env(self.env, self.cwd)
        result = compute_tags(ctx, s.tags, s.flavor)
        if not result.tags:
            where = f"{ctx.provider} {ctx.event or 'build'} of {ctx.ref or ctx.sha or 'this commit'}"
            rules = "; ".join(line.strip() for line in s.tags.splitlines() if line.strip()) or "the default rules"
            raise InputError(f"input 'tags': no rule gives a tag for this {where} (rules: {rules})",
                             "add a rule to the 'tags' input that matches this event, e.g. type=sha or "
                             "type=raw,value=dev, or run the step only on the events your rules cover")
        return result, ctx

    def _dir(self, value: str, what: str) -> Path:
        path = self.cwd / value
        if not path.is_dir():
            raise InputError(f"{what} {value!r} is not a folder (looked in {path})",
                             f"set {what} to the folder your build wrote, relative to the workspace")
        return path

    def _rel(self, url: str) -> str:
        """`file://./dir` is relative to the workspace, not to wherever the process started."""
        if url.startswith("file://./"):
            return f"file://{(self.cwd / url.removeprefix('file://./')).resolve()}"
        return url

    def finish(self, doc: dict) -> None:
        s = self.settings
        out = {k: self.log.redact(v) for k, v in outputs.step_outputs(doc, s.sep_tags, s.sep_labels,
                                                                           s.sep_annotations).items()}
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
                                    summary.failure_markdown(kind, message, fix, self.result.done if self.result else []),
                                    "GITHUB_STEP_SUMMARY")
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
