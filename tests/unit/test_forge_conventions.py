"""Each forge's conventions, without a server: where the summary and the results go (GitHub,
Forgejo, Woodpecker, Drone, a laptop), the plugin's docs against action.yml, the workflows'
audit, reading a checkout without a git binary, and the version the package reports."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from ci_env import SHA, github_env, woodpecker_env
from servers import REPO

import alba_action
from alba_action.action import main
from alba_action.report.forge import RESULT_FILE
from alba_action.settings import SECRET_INPUTS

INPUTS = yaml.safe_load((REPO / "action.yml").read_text())["inputs"]
PUBLISHED = "## ✅ alba published"


def drone_env(ws: Path, **settings: str) -> dict[str, str]:
    env = {"DRONE": "true", "DRONE_BUILD_EVENT": "push", "DRONE_BRANCH": "main", "DRONE_COMMIT_SHA": SHA,
           "DRONE_COMMIT_REF": "refs/heads/main", "DRONE_REPO": "acme/tool"}
    return env | {f"PLUGIN_{k.upper()}": v for k, v in settings.items()}  # Drone keeps hyphens


def step_env(provider: str, ws: Path, **settings: str) -> dict[str, str]:
    """The step's environment on each CI: publish `df` to the folder `out` of the workspace."""
    settings = {"name": "tool", "static-dir": "df", "static-target": "file://./out", **settings}
    if provider in ("github", "forgejo"):
        env = github_env(ws, **settings) | ({"FORGEJO_ACTIONS": "true"} if provider == "forgejo" else {})
    elif provider == "woodpecker":
        env = woodpecker_env(ws, **{k.replace("-", "_"): v for k, v in settings.items()})
    elif provider == "drone":
        env = drone_env(ws, **settings)
    else:
        env = {f"ALBA_{k.upper().replace('-', '_')}": v for k, v in settings.items()} | {"ALBA_TAGS": "type=raw,value=dev"}
    return env | {"ALBA_NOW": "2024-06-01T00:00:00Z", "ALBA_SETTLE_SECONDS": "0",
                  "ALBA_CACHE_DIR": str(ws.parent / "cache")}


def run_step(provider: str, tmp_path: Path, **settings: str) -> tuple[int, str, Path]:
    ws = tmp_path / "ws"
    (ws / "df/linux/amd64").mkdir(parents=True, exist_ok=True)
    (ws / "df/linux/amd64/tool").write_text("tool for amd64\n")
    log = io.StringIO()
    code = main(step_env(provider, ws, **settings), cwd=ws, stdout=log)
    return code, log.getvalue(), ws


# provider → (summary printed in the log, results in .alba/result.json)
WHERE = {"github": (False, False), "forgejo": (True, False), "woodpecker": (True, True), "drone": (True, True),
         "local": (False, False)}


@pytest.mark.parametrize("provider", list(WHERE))
def test_the_summary_and_the_results_go_where_each_forge_shows_them(provider, tmp_path):
    in_log, result_file = WHERE[provider]
    code, log, ws = run_step(provider, tmp_path)
    assert code == 0, log
    assert list(ws.glob("out/df-dist-v1/tool/*/linux/amd64/tool"))
    assert (PUBLISHED in log) == in_log
    if in_log:  # the whole summary, with what was published where
        summary = log.split("── summary ──" if provider != "forgejo" else "::group::summary", 1)[1]
        assert "### Static files →" in summary and "| linux/amd64 | " in summary
    if provider in ("github", "forgejo"):
        assert PUBLISHED in (ws.parent / "summary.md").read_text()  # GitHub renders it; Gitea does too
    assert (ws / RESULT_FILE).exists() == result_file
    if result_file:
        doc = json.loads((ws / RESULT_FILE).read_text())
        assert doc["name"] == "tool" and doc["tags"] == ["main"] and doc["static"][0]["files"]
        assert f"results: {RESULT_FILE}" in log


def test_output_file_replaces_the_default_result_file(tmp_path):
    code, log, ws = run_step("woodpecker", tmp_path, **{"output-file": "alba.json"})
    assert code == 0, log
    assert json.loads((ws / "alba.json").read_text())["version"] == "main"
    assert not (ws / ".alba").exists()


def test_a_result_file_that_cannot_be_written_warns_and_the_step_succeeds(tmp_path):
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws/.alba").write_text("a file where the folder would go\n")
    code, log, ws = run_step("drone", tmp_path)
    assert code == 0, log
    assert f"warning: results not written to {RESULT_FILE}" in log
    assert (ws / "out/df-dist-v1/tool/main/linux/amd64/tool").is_file()  # published all the same


def test_a_failed_plugin_run_leaves_its_error_in_the_result_file(tmp_path):
    code, log, ws = run_step("woodpecker", tmp_path, **{"static-dir": "nowhere"})
    assert code != 0
    error = json.loads((ws / RESULT_FILE).read_text())["error"]
    assert error["type"] == "InputError" and "static-dir 'nowhere' is not a folder" in error["message"]


def test_the_summary_in_the_log_hides_secrets(tmp_path):
    secret = "pw-Zq81-never-shown"
    code, log, _ = run_step("woodpecker", tmp_path, **{"static-target": f"file://./out-{secret}",
                                                       "registry-password": secret})
    assert code == 0, log
    assert secret not in log
    assert "### Static files → `file://" in log and "out-***" in log


def _front_matter_and_body(path: Path) -> tuple[dict, str]:
    _, header, body = path.read_text().split("---\n", 2)
    return yaml.safe_load(header), body


def _yaml_blocks(text: str) -> list:
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", text, re.S)]


def test_woodpecker_docs_have_the_plugin_index_header_and_every_setting():
    header, body = _front_matter_and_body(REPO / "docs/woodpecker.md")
    assert {"name", "description", "author", "tags", "containerImage", "url"} <= set(header)
    assert isinstance(header["tags"], list) and header["tags"]
    rows = {m[0]: (m[1], m[2]) for m in re.findall(r"^\| `([a-z_]+)` \| (.+?) \| (.+?) \|", body, re.M)}
    settings = {name.replace("-", "_") for name in INPUTS}
    assert set(rows) == settings  # every input, and nothing that is no input
    for name, spec in INPUTS.items():
        kind, default = rows[name.replace("-", "_")]
        assert kind.strip() and default.strip(), name
        if spec.get("default"):  # action.yml's own default, where it gives one
            assert f"`{spec['default']}`" in default, f"{name}: {default} is not {spec['default']}"
        if name in SECRET_INPUTS:
            assert kind == "secret", name


def test_the_docs_examples_use_real_inputs_and_full_urls():
    wood = _yaml_blocks((REPO / "docs/woodpecker.md").read_text().split("---\n", 2)[2])
    plugin_settings = [s for block in wood if isinstance(block, dict) and "steps" in block
                       for step in block["steps"].values() if "settings" in step for s in step["settings"]]
    assert plugin_settings and {s.replace("_", "-") for s in plugin_settings} <= set(INPUTS)
    forgejo = (REPO / "docs/forgejo.md").read_text()
    steps = [s for block in _yaml_blocks(forgejo) if isinstance(block, dict) and "jobs" in block
             for job in block["jobs"].values() for s in job["steps"]]
    albas = [s for s in steps if "alba@" in s.get("uses", "")]
    assert len(albas) >= 2 and all(s["uses"].startswith("https://") for s in albas)
    assert all(s["uses"].startswith("https://") for s in steps if "uses" in s)  # no DEFAULT_ACTIONS_URL lookups
    assert all(set(s["with"]) <= set(INPUTS) for s in albas)
    assert any("matrix" in job.get("strategy", {}) for block in _yaml_blocks(forgejo)
               if isinstance(block, dict) and "jobs" in block for job in block["jobs"].values())
    for name in SECRET_INPUTS:  # each secret input is in the secrets table
        assert f"`{name}`" in forgejo.split("## Secrets", 1)[1].split("##", 1)[0], name


@pytest.mark.parametrize("ignores", [[], ["--no-ignores"]], ids=["as configured", "no ignore comments"])
def test_the_workflows_audit_clean_at_medium_with_nothing_suppressed(ignores):
    workflows = sorted((REPO / ".forgejo/workflows").glob("*.yml"))
    r = subprocess.run([Path(sys.executable).parent / "zizmor", "--offline", "--persona", "auditor",
                        "--min-severity", "medium", "--format", "plain", *ignores, REPO / "action.yml", *workflows],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "No findings" in r.stdout + r.stderr, r.stdout + r.stderr
    assert "suppressed" not in r.stdout + r.stderr


def test_a_checkout_reads_the_same_without_a_git_binary(tmp_path):
    """The plugin image has no git: GitPython's pure-Python object database reads packed objects."""
    repo = tmp_path / "repo"
    git = ["git", "-C", str(repo), "-c", "user.name=ci", "-c", "user.email=ci@example.org"]
    repo.mkdir()
    for cmd in (["init", "-q", "-b", "main"], ["commit", "-q", "--allow-empty", "-m", "one"],
                ["tag", "-a", "v1.2.3", "-m", "release"], ["tag", "v1.2.4-rc.1"],
                ["remote", "add", "origin", "https://user:token@forge.example.org/acme/tool.git"], ["gc", "-q"]):
        subprocess.run([*git, *cmd], check=True, capture_output=True, timeout=60)
    probe = ("import dataclasses, json, sys; from pathlib import Path; from alba_action.context.local import local_context;"
             " d = dataclasses.asdict(local_context(Path(sys.argv[1]))); d.pop('now'); print(json.dumps(d, default=str))")
    runs = {}
    for label, env in (("git", {"PATH": "/usr/bin:/bin"}), ("no git", {"PATH": "/nonexistent", "GIT_PYTHON_REFRESH": "quiet"})):
        r = subprocess.run([sys.executable, "-c", probe, str(repo)], env={**env, "PYTHONPATH": str(REPO)},
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        runs[label] = json.loads(r.stdout)
    assert runs["no git"] == runs["git"]
    assert runs["git"]["tag"] == "v1.2.4-rc.1" and runs["git"]["repo_url"] == "https://forge.example.org/acme/tool"


def test_the_source_version_is_the_package_version():
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert alba_action.SOURCE_VERSION == pyproject["project"]["version"]
    assert alba_action.__version__ == alba_action.SOURCE_VERSION  # a checkout reports its own version
