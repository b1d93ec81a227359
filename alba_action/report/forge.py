"""What each forge shows of a step's results, and where the plugin leaves them for later steps.

GitHub renders `$GITHUB_STEP_SUMMARY` on the run page. Forgejo's runner keeps that file but
no Forgejo page shows it, and Woodpecker and Drone have neither a summary nor step outputs:
there the summary is printed in the log as well. A plugin run (Woodpecker, Drone) also
writes the `json` output to RESULT_FILE in the workspace unless `output-file` names a file.
"""

from __future__ import annotations

from pathlib import Path

from alba_action.errors import AlbaError
from alba_action.report import outputs
from alba_action.report.ci import CiLog

RESULT_FILE = ".alba/result.json"  # relative to the workspace; docs/woodpecker.md documents it
SUMMARY_IN_LOG = frozenset({"forgejo", "woodpecker", "drone"})  # no page renders the summary there
PLUGIN_CIS = frozenset({"woodpecker", "drone"})  # no step outputs: results go to a file


def summary_in_log(provider: str) -> bool:
    return provider in SUMMARY_IN_LOG


def print_summary(log: CiLog, markdown: str) -> None:
    """The summary's Markdown, line by line (each line is redacted on its way out)."""
    with log.group("summary"):
        for line in markdown.rstrip("\n").splitlines():
            log.line(line)


def default_result_file(provider: str, workspace: Path, output_file: str) -> Path | None:
    """The file a plugin run leaves its results in when output-file names none."""
    if output_file or provider not in PLUGIN_CIS:
        return None
    return workspace / RESULT_FILE


def write_result_file(path: Path, doc: dict) -> str:
    """Write the document; return a warning instead of failing, since nobody asked for this file:
    what was published stays published when the workspace is read-only for the plugin's user."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        outputs.write_output_file(str(path), doc, what="the result file")
    except OSError as err:
        reason = err.strerror or str(err)
    except AlbaError as err:
        reason = err.message.rsplit(": ", 1)[-1]
    else:
        return ""
    return (f"results not written to {RESULT_FILE} ({reason}): make the workspace writable by uid 1000, "
            "or set output_file to a writable path")
