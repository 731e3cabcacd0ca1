"""`python -m tools.review BASE` end to end: a throwaway repository with one known commit on top.

The repository is this working tree (tracked and new files), committed as the base; the head commit
changes three settings of dev. Both are synthesized for real, and the review must say exactly what
those settings change.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools.review.synth import SHARED_INSTALLS, describe_working_tree

REPO = Path(__file__).resolve().parents[2]
# The reasons as stacks/ gives them (docs/INFRASTRUCTURE.md lists them too).
ACCOUNT_ROLE_REASON = (
    "AWS's own policy for API Gateway's account-level logging role: the role serves every API in the region, "
    "so it cannot be scoped to this stack's log groups; it is only created when the environment opts in with "
    "manage_api_gateway_account_role."
)
DEV_PITR_REASON = (
    "Point-in-time recovery is off in dev by its settings: the data there is disposable test data; "
    "prod turns it on (and a test checks that it does)."
)
GIT = ["git", "-c", "user.name=review-test", "-c", "user.email=review-test@example.com"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("review-repo")
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name in filter(None, listed.split("\0")):
        if (REPO / name).is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, root / name)
    subprocess.run([*GIT, "init", "--quiet"], cwd=root, check=True)
    subprocess.run([*GIT, "add", "--all"], cwd=root, check=True)
    subprocess.run([*GIT, "commit", "--quiet", "--message", "base"], cwd=root, check=True)
    cdk_json = json.loads((root / "cdk.json").read_text())
    cdk_json["context"]["environments"]["dev"].update(
        manage_api_gateway_account_role=True, point_in_time_recovery=True, alarm_email="oncall@example.com"
    )
    (root / "cdk.json").write_text(json.dumps(cdk_json, indent=2))
    subprocess.run([*GIT, "commit", "--quiet", "--all", "--message", "head"], cwd=root, check=True)
    # Linked after the commits, and excluded: `.venv/` in .gitignore matches directories, not links.
    for name in SHARED_INSTALLS:
        (root / name).symlink_to(REPO / name)
    with (root / ".git" / "info" / "exclude").open("a") as exclude:
        exclude.write("".join(f"/{name}\n" for name in SHARED_INSTALLS))
    return root


def run_review(repo: Path, *args: str, summary: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "GITHUB_STEP_SUMMARY"}
    if summary is not None:
        env["GITHUB_STEP_SUMMARY"] = str(summary)
    return subprocess.run(
        [sys.executable, "-m", "tools.review", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def tables(report: str) -> dict[str, list[list[str]]]:
    """The report's tables by their bold title ("Resources added (3)" -> rows of cells, header dropped)."""
    found: dict[str, list[list[str]]] = {}
    title = "summary"
    for line in report.splitlines():
        if line.startswith("**") and line.endswith("**"):
            title = line.strip("*")
        elif line.startswith("| ") and not line.startswith(
            ("| stack |", "| logical id |", "| on |", "| rule |")
        ):
            found.setdefault(title, []).append([cell.strip() for cell in line.strip("|").split(" | ")])
    return found


def test_review_of_the_last_commit_names_exactly_what_it_changes(repo: Path, tmp_path: Path) -> None:
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n")
    result = run_review(repo, "HEAD~1", "--env", "dev", summary=summary)
    assert result.returncode == 0, result.stderr
    report = result.stdout
    base, head = (
        subprocess.run(
            ["git", "rev-parse", "--short", ref], cwd=repo, capture_output=True, text=True
        ).stdout.strip()
        for ref in ("HEAD~1", "HEAD")
    )
    assert report.startswith(f"## Synthesized stacks: `HEAD~1` ({base}) → `HEAD` ({head})\n")
    logging_role = "`WebSocketAccountLoggingCloudWatchRole79468FB3`"
    managed_policy = "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
    assert tables(report) == {
        "summary": [["`Chat-dev`", "3", "0", "2", "2", "0", "1", "1"]],
        "Resources added (3)": [
            [
                "`MonitoringAlarmTopiconcallexamplecom45F906D8`",
                "`AWS::SNS::Subscription`",
                "Chat-dev/Monitoring/AlarmTopic/oncall@example.com/Resource",
            ],
            [
                "`WebSocketAccountLoggingAccountFA22A6B2`",
                "`AWS::ApiGateway::Account`",
                "Chat-dev/WebSocket/AccountLogging/Account",
            ],
            [logging_role, "`AWS::IAM::Role`", "Chat-dev/WebSocket/AccountLogging/CloudWatchRole/Resource"],
        ],
        "Resources changed (2)": [
            [
                "`DatabaseTableF104A135`",
                "`AWS::DynamoDB::Table`",
                "Chat-dev/Database/Table/Resource",
                "`PointInTimeRecoverySpecification`",
            ],
            [
                "`WebSocketStageE8999091`",
                "`AWS::ApiGatewayV2::Stage`",
                "Chat-dev/WebSocket/Stage/Resource",
                "`DependsOn`",
            ],
        ],
        "IAM permissions added (2)": [
            [
                f"{logging_role} (`AWS::IAM::Role`)",
                "`AssumeRolePolicyDocument`",
                "Allow",
                "`sts:AssumeRole`",
                "",
                "`Service: apigateway.amazonaws.com`",
                "",
            ],
            [
                f"{logging_role} (`AWS::IAM::Role`)",
                "`ManagedPolicyArns`",
                "Attach",
                "",
                f"`{managed_policy}`",
                "",
                "",
            ],
        ],
        "cdk-nag acknowledgments added (1)": [
            [
                "`AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AmazonAPIGatewayPushToCloudWatchLogs]`",
                "Chat-dev/WebSocket/AccountLogging/CloudWatchRole",
                ACCOUNT_ROLE_REASON,
            ]
        ],
        "cdk-nag acknowledgments removed (1)": [
            ["`AwsSolutions-DDB3`", "Chat-dev/Database/Table", DEV_PITR_REASON],
        ],
    }
    # The workflow's job summary gets the same text, appended.
    assert summary.read_text() == "earlier step\n" + report


def test_review_of_a_commit_against_itself_finds_no_changes(repo: Path) -> None:
    result = run_review(repo, "HEAD", "--env", "dev")
    assert result.returncode == 0, result.stderr
    assert "| `Chat-dev` | 0 | 0 | 0 | 0 | 0 | 0 | 0 |\n" in result.stdout
    assert result.stdout.endswith("### `Chat-dev`\n\nNo changes.\n")


def test_an_unknown_base_ref_is_a_clear_error(repo: Path) -> None:
    result = run_review(repo, "no-such-branch", "--env", "dev")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "error: unknown git ref 'no-such-branch'" in result.stderr


def test_a_base_that_does_not_synthesize_is_a_clear_error(repo: Path, tmp_path: Path) -> None:
    broken = repo / "broken"
    subprocess.run(
        [*GIT, "worktree", "add", "--quiet", "--detach", str(broken), "HEAD"], cwd=repo, check=True
    )
    try:
        (broken / "cdk.json").write_text(
            json.dumps({"app": "python3 -c 'raise SystemExit(\"no app here\")'"})
        )
        subprocess.run([*GIT, "commit", "--quiet", "--all", "--message", "broken"], cwd=broken, check=True)
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=broken, capture_output=True, text=True
        ).stdout.strip()
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(broken)], cwd=repo, check=True)
    result = run_review(repo, commit, "--env", "dev")
    assert result.returncode == 2
    assert "error: synthesizing dev in" in result.stderr
    assert "no app here" in result.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "usage: make review BASE=<git ref>"),
        (["BASE=no-such-branch"], "error: unknown git ref 'no-such-branch'"),
    ],
)
def test_make_review_explains_what_is_missing(arguments: list[str], message: str) -> None:
    result = subprocess.run(
        ["make", "--silent", "review", *arguments], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert message in result.stderr


def test_the_head_label_says_when_the_working_tree_has_uncommitted_changes(repo: Path) -> None:
    short = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True)
    assert describe_working_tree(repo) == f"`HEAD` ({short.stdout.strip()})"
    new_file = repo / "stacks" / "draft.py"
    new_file.write_text("")
    try:
        assert describe_working_tree(repo) == f"`HEAD` ({short.stdout.strip()} + uncommitted changes)"
    finally:
        new_file.unlink()
