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
from typing import Any, ContextManager, TextIO

from alba_action.config import build_request
from alba_action.context import context_from_env, detect_provider
from alba_action.errors import AlbaError, InputError
from alba_action.names import check_name
from alba_action.pipeline import PublishResult, publish
from alba_action.report import forge, outputs, summary
from alba_action.report.ci import CiLog, RedactingStream
from alba_action.report.progress import Reporter
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

    def __init__(self, env: Mapping[str, str], cwd: Path, log: CiLog, given: Mapping[str, Any] | None = None) -> None:
        self.env, self.cwd, self.log = env, cwd, log
        self.reporter = Reporter(RedactingStream(log), live=False)
        self.given = given  # `alba publish`'s flags by field name; None: the inputs in env
        self.settings: ActionSettings | None = None
        self.result: PublishResult | None = None

    def run(self) -> dict:
        if self.given is None:
            for warning in unknown_names(self.env):
                self.log.warning(warning)
        s = self.settings = load_settings(self.env, given=self.given)
        self._check_result_files(s)
        tag_result, ctx = self._tags(s)
        self.log.line(f"alba: {s.name} {tag_result.version} (tags: {', '.join(tag_result.tags)})"
                      + (" — dry run" if s.dry_run else ""))
        if s.copy_from:  # promote or mirror a published release instead of publishing folders
            from alba_action.copy.step import copy_step, new_tags

            with self.log.group(f"copy from {s.copy_from}"):
                return copy_step(s.to_settings(), tag_result.tags, new_tags(ctx, s.copy_as, s.flavor),
                                 self.env, self.cwd, self.reporter)
        settings = s.to_settings()
        policy = settings.gc_policy()  # a bad retention input fails before any upload
        request = build_request(settings, tag_result.tags, tag_result.version, ctx, self.env, self.cwd)
        self.result = PublishResult(request.name, request.version, list(request.tags), dry_run=request.dry_run)
        publish(request, _StepTrace(self.reporter, self.log), self.result)
        tags_json = tag_result.to_json()
        if self.result.latest_dropped:
            self.log.warning(self.result.latest_dropped)
            tags_json.update(tags=list(self.result.tags), latest=False)
        doc = outputs.build_document(s.name, tags_json, [r.to_json() for r in self.result.static],
                                     [r.to_json() for r in self.result.containers],
                                     s.public_url, s.registry_public_url, s.dry_run)
        doc["latest_dropped"] = self.result.latest_dropped
        doc["annotations"] = dict(request.image.annotations)
        if request.part or request.assemble:  # matrix builds: what each target holds of the release
            doc["release_id"] = request.release_id
            doc["parts"] = [r.to_json() for r in self.result.parts]
        if policy is not None and not request.part:  # retention runs where the release is published
            from alba_action.retention_step import collect

            doc["retention"] = collect(request, policy, self.reporter, _StepTrace(self.reporter, self.log))
        if s.verify and not s.dry_run and not request.part:  # a part has no release to verify yet
            from alba_action.verify.command import verify_published

            with self.log.group("verify what was published"):
                doc["verify"] = verify_published(request, doc, s.public_url, s.registry_public_url, self.reporter)
        return doc

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

    def finish(self, doc: dict) -> None:
        s = self.settings
        out = {k: self.log.redact(v) for k, v in outputs.step_outputs(doc, s.sep_tags, s.sep_labels,
                                                                           s.sep_annotations).items()}
        if self.env.get("GITHUB_OUTPUT"):
            outputs.write_github_outputs(self.env["GITHUB_OUTPUT"], out)
        if self._output_file():
            outputs.write_output_file(self._output_file(), doc)
        markdown = self.log.redact(summary.success_markdown(doc))
        if self.env.get("GITHUB_STEP_SUMMARY"):
            outputs.append_text(self.env["GITHUB_STEP_SUMMARY"], markdown, "GITHUB_STEP_SUMMARY")
        provider = detect_provider(self.env)
        if forge.summary_in_log(provider):
            forge.print_summary(self.log, markdown)
        # A plugin's results for later steps; `alba publish` has --json for that.
        result_file = forge.default_result_file(provider, self.cwd, s.output_file) if self.given is None else None
        if result_file:
            problem = forge.write_result_file(result_file, doc)
            if problem:
                self.log.warning(problem)
            else:
                self.log.line(f"results: {forge.RESULT_FILE}")
        for url in doc["urls"]:
            self.log.line(url)
        what = f"parts of release {doc['release_id']} of" if doc.get("parts") and not doc["urls"] else "published"
        self.log.line("✅ dry run: nothing written" if doc["dry_run"] else f"✅ {what} {doc['name']} {doc['version']}")

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
        error = {"error": {"type": kind, "message": message, "fix": fix}}
        if self._output_file() and "output-file" not in message:
            try:
                outputs.write_output_file(self._output_file(), error)
            except AlbaError:
                pass
        output_file = self.settings.output_file if self.settings else ""
        if self.given is None and (result_file := forge.default_result_file(detect_provider(self.env), self.cwd,
                                                                              output_file)):
            forge.write_result_file(result_file, error)  # best effort, as on success
        print(f"{kind}: {message}" + (f" — {fix}" if fix else ""), file=sys.stderr, flush=True)


def main(env: Mapping[str, str] | None = None, cwd: Path | None = None, stdout: TextIO | None = None,
         given: Mapping[str, Any] | None = None) -> int:
    """The step; `given` (`alba publish`'s flags by field name) instead of the inputs in `env`."""
    env = dict(os.environ if env is None else env)
    log = CiLog(stdout or sys.stdout, commands=detect_provider(env) in ("github", "forgejo"))
    for secret in secret_values(env):  # before anything else is printed
        log.mask(secret)
    # Every CI starts the step in the workspace; relative inputs are relative to it.
    step = Step(env, Path(cwd or Path.cwd()), log, given)
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
