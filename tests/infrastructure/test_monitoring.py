"""The operators' view of every environment: alarms, the dashboard, and the metric names they share
with the code; every alarm on the dashboard and documented in docs/OPERATIONS.md."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import metric_names
from metric_names import Metric
from stacks import log_queries
from stacks.log_queries import Source
from tests.infrastructure.conftest import Synth

REPO = Path(__file__).parents[2]
EMITTING_CODE = (REPO / "authorizer", REPO / "lambdas")
OPERATIONS = REPO / "docs" / "OPERATIONS.md"
DEFINED: dict[str, Metric] = {k: v for k, v in vars(metric_names).items() if isinstance(v, Metric)}
# What AWS publishes for the resources on the dashboard (the AWS docs' metric lists).
AWS_METRICS = {
    "AWS/Lambda": {"Duration", "Errors", "Throttles", "Invocations", "ConcurrentExecutions"},
    "AWS/ApiGateway": {"ConnectCount", "MessageCount", "IntegrationError", "ClientError", "ExecutionError"},
    # "Available CloudWatch metrics for Amazon SQS" (SQS Developer Guide, sqs-available-cloudwatch-metrics):
    # the failure and dead-letter queues' visible messages, the FIFO jobs queue's oldest message.
    "AWS/SQS": {"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"},
    "AWS/DynamoDB": {
        "ConsumedReadCapacityUnits",
        "ConsumedWriteCapacityUnits",
        "ReadThrottleEvents",
        "WriteThrottleEvents",
    },
}
SEARCH = re.compile(r"SEARCH\('\{(?P<namespace>[^,}]+),(?P<dimensions>[^}]*)\} MetricName=\"(?P<name>\w+)\"")


# --- reading the template -------------------------------------------------------------------------


def token(value: dict[str, Any]) -> str:
    """How a CloudFormation token (`{"Ref": ...}`) reads inside the parsed dashboard body."""
    return f"<{json.dumps(value)}>".replace('"', "'")


def dashboard(synth: Synth) -> dict[str, Any]:
    """The dashboard body as CloudWatch receives it, each token (always inside a string) as `token()`."""
    (resource,) = synth.resources("AWS::CloudWatch::Dashboard").values()
    parts = resource["Properties"]["DashboardBody"]["Fn::Join"][1]
    return json.loads("".join(p if isinstance(p, str) else token(p) for p in parts))


def metric_widgets(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [w["properties"] for w in body["widgets"] if w["type"] == "metric"]


def series(widget: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, str], str]]:
    """(namespace, metric name, dimensions, statistic) of every line of a widget, searches included."""
    for line in widget["metrics"]:
        has_options = isinstance(line[-1], dict)
        options = line[-1] if has_options else {}
        if "expression" in options:
            match = SEARCH.search(options["expression"])
            assert match, options["expression"]
            names = match["dimensions"].split(",")
            yield match["namespace"], match["name"], dict.fromkeys(names, "*"), "Sum"
        else:
            namespace, name, *flat = line[:-1] if has_options else line
            yield namespace, name, dict(zip(flat[::2], flat[1::2], strict=True)), options.get("stat", "")


def alarms(synth: Synth) -> dict[str, dict[str, Any]]:
    """Alarm name without the stack prefix -> properties."""
    prefix = f"Chat-{synth.env_name}-"
    found = {}
    for props in (a["Properties"] for a in synth.resources("AWS::CloudWatch::Alarm").values()):
        assert props["AlarmName"].startswith(prefix)
        found[props["AlarmName"].removeprefix(prefix)] = props
    return found


def lambda_functions(synth: Synth) -> dict[str, str]:
    """Construct id (`DirectFunction`) -> logical id, for every function in the template."""
    return {
        v["Metadata"]["aws:cdk:path"].split("/")[-2]: k
        for k, v in synth.resources("AWS::Lambda::Function").items()
    }


def dimensions(props: dict[str, Any]) -> dict[str, Any]:
    return {d["Name"]: d["Value"] for d in props["Dimensions"]}


# --- reading the code -----------------------------------------------------------------------------


def emitted_by_code() -> set[Metric]:
    """The `metric_names` metrics the functions' code hands to a call (an emitter), file by file."""
    used = set()
    for root in EMITTING_CODE:
        for path in root.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Call):
                    for arg in (*node.args, *(k.value for k in node.keywords)):
                        if (
                            isinstance(arg, ast.Attribute)
                            and isinstance(arg.value, ast.Name)
                            and arg.value.id == "metric_names"
                            and arg.attr in DEFINED
                        ):
                            used.add(DEFINED[arg.attr])
    return used


def app_series(synth: Synth) -> Iterator[tuple[str, str, dict[str, str]]]:
    """Every series in the functions' namespace that a widget draws or an alarm watches."""
    for widget in metric_widgets(dashboard(synth)):
        for namespace, name, dims, _ in series(widget):
            if not namespace.startswith("AWS/"):
                yield namespace, name, dims
    for props in alarms(synth).values():
        if not props["Namespace"].startswith("AWS/"):
            yield props["Namespace"], props["MetricName"], dimensions(props)


# --- one source of truth for metric names ---------------------------------------------------------


def test_every_metric_name_is_emitted_by_the_code() -> None:
    # A name nobody emits would draw an empty line forever; the scan sees real emitter calls.
    assert emitted_by_code() == set(DEFINED.values())


def test_every_widget_and_alarm_names_a_metric_the_code_emits(each_env: Synth) -> None:
    emitted = {m.name: m for m in emitted_by_code()}
    drawn = list(app_series(each_env))
    assert len(drawn) > 15
    for namespace, name, dims in drawn:
        assert namespace == f"Chat/{each_env.env_name}", name
        assert name in emitted, f"{name} is drawn or alarmed on, but no code emits it"
        metric = emitted[name]
        # the dimensions the code publishes it with: always `service`, plus its own when split
        assert dims.get("service") in ("chat", "*"), name
        assert set(dims) <= {"service", metric.dimension}, (name, dims)


def test_aws_metrics_are_ones_aws_publishes(each_env: Synth) -> None:
    drawn = [
        (namespace, name)
        for widget in metric_widgets(dashboard(each_env))
        for namespace, name, _, _ in series(widget)
        if namespace.startswith("AWS/")
    ]
    drawn += [(p["Namespace"], p["MetricName"]) for p in alarms(each_env).values()]
    assert {namespace for namespace, _ in drawn} >= set(AWS_METRICS)
    for namespace, name in drawn:
        if namespace.startswith("AWS/"):
            assert namespace in AWS_METRICS, f"list the {namespace} metrics AWS publishes in AWS_METRICS"
            assert name in AWS_METRICS[namespace], (namespace, name)


# Each alarm on a function's own metric, with what the code emits when that alarm should fire.
EMIT = {
    "AuthorizerFunction": (
        "import telemetry; from cognito_verifier import Reason;"
        "telemetry.token_rejected(Reason.KEYS_UNAVAILABLE, request_id='r');"
        "telemetry.authorizer_error(ValueError(), request_id='r')"
    ),
    # The real frame pipeline, with an action that crashes: the reply is INTERNAL_ERROR.
    "DirectFunction": (
        "import json, os; from chat.config import ChatSettings; from chat.handlers.pipeline import serve;"
        "settings = ChatSettings.from_environ({**os.environ, 'TABLE_NAME': 'resolved-at-deploy-time'});"
        "event = {'requestContext': {'routeKey': 'ping', 'connectionId': 'c', 'requestTimeEpoch': 1,"
        " 'authorizer': {'userId': 'u', 'tokenExpiresAt': '9999999999'}}, 'body': '{\"action\": \"ping\"}'};"
        "reply = serve(event, {'ping': lambda call: 1 / 0}, settings=settings,"
        " expiry_exempt=frozenset({'ping'}));"
        "assert json.loads(reply['body'])['code'] == 'INTERNAL_ERROR', reply"
    ),
}


@pytest.mark.parametrize("function_name", EMIT)
def test_application_alarms_watch_the_metrics_the_code_really_emits(dev: Synth, function_name: str) -> None:
    # Given the function's code run with the environment the stack gives it
    function_id = dev.logical_id("AWS::Lambda::Function", f"/{function_name}/")
    variables = dev.raw["Resources"][function_id]["Properties"]["Environment"]["Variables"]
    env = {**os.environ, **{k: v for k, v in variables.items() if isinstance(v, str)}}
    env["PYTHONPATH"] = os.pathsep.join(str(REPO / p) for p in ("authorizer", "lambdas", "."))
    result = subprocess.run(
        [sys.executable, "-c", EMIT[function_name]], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    # When its EMF lines are read as CloudWatch reads them
    emitted = set()
    for line in result.stdout.splitlines():
        record = json.loads(line)
        if "_aws" not in record:
            continue  # a log line that is only a log line
        for directive in record["_aws"]["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                dims = tuple(sorted((name, record[name]) for name in dimension_set))
                emitted |= {(directive["Namespace"], m["Name"], dims) for m in directive["Metrics"]}
    # Then every application alarm on that code's metrics matches an emitted metric exactly
    watched = {
        (props["Namespace"], props["MetricName"], tuple(sorted(dimensions(props).items())))
        for props in alarms(dev).values()
        if props["Namespace"] == variables["POWERTOOLS_METRICS_NAMESPACE"]
        and props["MetricName"] in {m for _, m, _ in emitted}
    }
    assert watched
    assert watched <= emitted


# --- alarms ---------------------------------------------------------------------------------------


def test_alarms_cover_functions_api_and_table_and_notify_the_topic(each_env: Synth) -> None:
    found = alarms(each_env)
    functions = lambda_functions(each_env)
    for name, logical_id in functions.items():
        assert dimensions(found[f"{name}Throttles"]) == {"FunctionName": {"Ref": logical_id}}
    # Lambda's Errors: every function but the authorizer (a refused token is an error of the authorizer)
    errors = {n for n, p in found.items() if p["MetricName"] == "Errors" and p["Namespace"] == "AWS/Lambda"}
    assert errors == {f"{name}Errors" for name in functions if name != "AuthorizerFunction"}
    assert {
        "ApiIntegrationErrors",
        "ApiExecutionErrors",
        "TableReadThrottleEvents",
        "TableWriteThrottleEvents",
    } <= set(found)
    (topic_id,) = each_env.resources("AWS::SNS::Topic")
    for props in found.values():
        assert props["AlarmActions"] == [{"Ref": topic_id}]
        assert props["TreatMissingData"] == "notBreaching"


def test_function_failures_alarm_on_the_functions_own_metrics(each_env: Synth) -> None:
    found = alarms(each_env)
    namespace = f"Chat/{each_env.env_name}"
    assert found["AuthorizerInternalError"]["Namespace"] == namespace
    assert dimensions(found["AuthorizerInternalError"]) == {"service": "chat", "reason": "internal_error"}
    assert dimensions(found["AuthorizerKeysUnavailable"]) == {"service": "chat", "reason": "keys_unavailable"}
    assert dimensions(found["RouteInternalErrors"]) == {"service": "chat", "Code": "INTERNAL_ERROR"}
    authorizer = each_env.logical_id("AWS::Lambda::Function", "/AuthorizerFunction/")
    variables = each_env.raw["Resources"][authorizer]["Properties"]["Environment"]["Variables"]
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == namespace
    assert variables["POWERTOOLS_SERVICE_NAME"] == "chat"


def test_alarm_topic_is_encrypted_and_tls_only(each_env: Synth) -> None:
    (topic,) = each_env.resources("AWS::SNS::Topic").values()
    assert "KmsMasterKeyId" in topic["Properties"]
    (policy,) = each_env.resources("AWS::SNS::TopicPolicy").values()
    statement = policy["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


# --- the dashboard --------------------------------------------------------------------------------


def test_one_dashboard_per_environment_named_after_its_stack_and_region(each_env: Synth) -> None:
    (resource,) = each_env.resources("AWS::CloudWatch::Dashboard").values()
    name = resource["Properties"]["DashboardName"]
    assert name == {"Fn::Join": ["", [f"Chat-{each_env.env_name}-", {"Ref": "AWS::Region"}]]}


def test_every_alarm_is_on_the_dashboard(each_env: Synth) -> None:
    (status,) = [w["properties"] for w in dashboard(each_env)["widgets"] if w["type"] == "alarm"]
    expected = {token({"Fn::GetAtt": [k, "Arn"]}) for k in each_env.resources("AWS::CloudWatch::Alarm")}
    assert set(status["alarms"]) == expected


def widget(synth: Synth, title: str) -> list[tuple[str, str, dict[str, str], str]]:
    (found,) = [w for w in metric_widgets(dashboard(synth)) if w["title"] == title]
    return list(series(found))


def test_the_dashboard_answers_the_operators_questions(each_env: Synth) -> None:
    ns, stage = f"Chat/{each_env.env_name}", each_env.env_name

    def names(title: str) -> set[str]:
        return {name for _, name, _, _ in widget(each_env, title)}

    assert names("Connections opened, closed and refused") == {
        "Connections",
        "Disconnections",
        "ConnectionsRefused",
    }
    assert names("Authorizer decisions by reason") == {"TokenAccepted", "TokenRejected"}
    assert widget(each_env, "Frames per route") == [(ns, "Requests", {"service": "*", "Route": "*"}, "Sum")]
    assert names("Messages stored") == {"MessagesStored"}
    assert names("Posts delivered, gone and failed by kind") == {
        "ConnectionsReached", "ConnectionsGone", "StaleConnectionsRemoved", "GoneWhileConnecting",
        "PostFailures",
    }  # fmt: skip
    for title, name in (
        ("Fan-out duration (ms)", "FanoutDuration"),
        ("Sender's ack latency (ms)", "AckLatency"),
    ):
        assert {(n, stat) for _, n, _, stat in widget(each_env, title)} == {(name, "p50"), (name, "p99")}
    assert widget(each_env, "Error replies by code") == [(ns, "Errors", {"service": "*", "Code": "*"}, "Sum")]
    api = {"ApiId": token({"Ref": each_env.logical_id("AWS::ApiGatewayV2::Api", "/Api/")}), "Stage": stage}
    assert widget(each_env, "API Gateway: connects and messages") == [
        ("AWS/ApiGateway", name, api, "Sum") for name in ("ConnectCount", "MessageCount")
    ]
    assert widget(each_env, "API Gateway: errors") == [
        ("AWS/ApiGateway", name, api, "Sum") for name in ("IntegrationError", "ClientError", "ExecutionError")
    ]
    table = {"TableName": token({"Ref": each_env.logical_id("AWS::DynamoDB::Table", "/Table/")})}
    assert {(n, d == table) for _, n, d, _ in widget(each_env, "Table: consumed capacity units")} == {
        ("ConsumedReadCapacityUnits", True), ("ConsumedWriteCapacityUnits", True)
    }  # fmt: skip
    assert {(n, d == table) for _, n, d, _ in widget(each_env, "Table: throttle events")} == {
        ("ReadThrottleEvents", True), ("WriteThrottleEvents", True)
    }  # fmt: skip


def test_every_function_of_the_template_has_its_row(each_env: Synth) -> None:
    # Derived from the template, not from a list: a function added to the stack must be drawn.
    functions = lambda_functions(each_env)
    assert len(functions) >= 4
    for name, logical_id in functions.items():
        this = {"FunctionName": token({"Ref": logical_id})}
        drawn = {
            (metric, stat)
            for title in (
                f"{name}: duration (ms)",
                f"{name}: invocations, errors, throttles",
                f"{name}: concurrency",
            )
            for namespace, metric, dims, stat in widget(each_env, title)
            if namespace == "AWS/Lambda" and dims == this
        }
        assert drawn == {
            ("Duration", "p50"), ("Duration", "p99"), ("Invocations", "Sum"), ("Errors", "Sum"),
            ("Throttles", "Sum"), ("ConcurrentExecutions", "Maximum"),
        }  # fmt: skip


# --- the runbook ----------------------------------------------------------------------------------


def runbook_sections() -> dict[str, str]:
    """Heading text (without backticks) -> the section's text, for every heading of OPERATIONS.md."""
    sections: dict[str, str] = {}
    heading = None
    for line in OPERATIONS.read_text().splitlines():
        if line.startswith("#"):
            heading = line.lstrip("#").strip().replace("`", "")
            sections[heading] = ""
        elif heading is not None:
            sections[heading] += line + "\n"
    return sections


def matches(alarm_name: str, heading: str, function_names: set[str]) -> bool:
    """Whether an alarm is one a heading names: `A, B` lists names; `<Function>` stands for any function."""
    for pattern in heading.split(", "):
        if "<Function>" in pattern:
            prefix, suffix = pattern.split("<Function>")
            if any(alarm_name == f"{prefix}{f}{suffix}" for f in function_names):
                return True
        elif alarm_name == pattern:
            return True
    return False


def test_every_alarm_has_a_runbook_section_with_meaning_checks_and_fix(each_env: Synth) -> None:
    sections = runbook_sections()
    function_names = set(lambda_functions(each_env))
    for name, props in alarms(each_env).items():
        match = re.search(r'Runbook: docs/OPERATIONS\.md, "(?P<heading>[^"]+)"$', props["AlarmDescription"])
        assert match, f"{name}: its description names no runbook section"
        heading = match["heading"]
        assert heading in sections, f"{name}: docs/OPERATIONS.md has no section {heading!r}"
        assert matches(name, heading, function_names), (name, heading)
        text = sections[heading]
        for part in ("**Means**", "**Check**", "**Fix**"):
            assert part in text, f"{heading}: no {part}"
        assert len(re.findall(r"^\d\. ", text, flags=re.MULTILINE)) >= 3, f"{heading}: fewer than 3 checks"


def test_the_runbook_names_only_widgets_the_dashboard_has(dev: Synth) -> None:
    titles = {w["properties"].get("title") for w in dashboard(dev)["widgets"]}
    function_names = set(lambda_functions(dev))
    named = re.findall(r"[Ww]idget \*([^*]+)\*", " ".join(OPERATIONS.read_text().split()))
    assert len(named) >= 10
    for title in named:
        candidates = (
            {title.replace("<Function>", f) for f in function_names} if "<Function>" in title else {title}
        )
        assert candidates & titles, f"docs/OPERATIONS.md names a widget the dashboard lacks: {title!r}"


def test_the_runbook_names_only_queries_the_stack_saves() -> None:
    named = re.findall(r"[Qq]uery \*([^*]+)\*", " ".join(OPERATIONS.read_text().split()))
    assert len(named) >= 5
    assert set(named) <= {q.name for q in log_queries.QUERIES}


def test_the_runbook_lists_every_metric_the_code_emits() -> None:
    text = OPERATIONS.read_text()
    for metric in DEFINED.values():
        assert f"| `{metric.name}` |" in text, metric.name


# --- saved log queries ----------------------------------------------------------------------------


def test_each_query_is_saved_on_the_log_groups_it_reads_and_documented_verbatim(each_env: Synth) -> None:
    sections = runbook_sections()
    functions = lambda_functions(each_env)
    groups = {
        name: each_env.raw["Resources"][logical_id]["Properties"]["LoggingConfig"]["LogGroup"]
        for name, logical_id in functions.items()
    }
    access_logs = {"Ref": each_env.logical_id("AWS::Logs::LogGroup", "/WebSocket/AccessLogs/")}
    expected_groups = {
        Source.ACCESS_LOGS: [access_logs],
        Source.AUTHORIZER: [groups["AuthorizerFunction"]],
        Source.CHAT_FUNCTIONS: [g for name, g in groups.items() if name != "AuthorizerFunction"],
    }
    definitions = each_env.resources("AWS::Logs::QueryDefinition").values()
    saved = {q["Properties"]["Name"]: q["Properties"] for q in definitions}
    assert len(saved) == len(log_queries.QUERIES)
    for query in log_queries.QUERIES:
        props = saved[f"Chat-{each_env.env_name}/{query.name}"]
        assert props["QueryString"] == query.query
        assert props["LogGroupNames"] == expected_groups[query.source]
        assert f"```\n{query.query}\n```" in sections[query.name], query.name
