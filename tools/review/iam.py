"""IAM permissions in a template, one per (statement, action, resource), so that two templates diff exactly.

Any policy document in any resource's properties counts, wherever it sits: `AWS::IAM::Policy` and
`AWS::IAM::ManagedPolicy` documents, a role's inline `Policies` and its trust policy, resource
policies (queues, topics, keys, buckets). Managed policies attached by ARN (`ManagedPolicyArns`)
count too. A statement that gains one action therefore shows up as that one permission added.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

ATTACHED_MANAGED_POLICIES = "ManagedPolicyArns"


@dataclass(frozen=True, order=True)
class Permission:
    """One action on one resource (or one attached managed policy) granted or denied by one document."""

    owner: str  # logical id of the resource that holds the document
    owner_type: str
    document: str  # where in the owner, e.g. "PolicyDocument", "Policies/Inline/PolicyDocument"
    effect: str  # "Allow", "Deny", or "Attach" for a managed policy attached by ARN
    principal: str  # rendered; "" when the statement has none
    action: str  # e.g. "s3:GetObject"; "NOT s3:*" for NotAction; "" for an attachment
    resource: str  # rendered; "NOT ..." for NotResource; "" when the statement has none
    condition: str  # compact JSON; "" when none


def permissions(template: dict[str, Any]) -> frozenset[Permission]:
    """Every permission granted, denied or attached anywhere in the template's resources."""
    found: set[Permission] = set()
    for logical_id, resource in template.get("Resources", {}).items():
        kind = str(resource.get("Type", ""))
        for location, value in _walk(resource.get("Properties", {}), ""):
            if location.rsplit("/", 1)[-1] == ATTACHED_MANAGED_POLICIES and isinstance(value, list):
                found.update(
                    Permission(logical_id, kind, location, "Attach", "", "", render(arn), "") for arn in value
                )
            elif isinstance(value, dict) and "Statement" in value:
                found.update(_statement_permissions(logical_id, kind, location, value["Statement"]))
    return frozenset(found)


def _walk(value: Any, location: str) -> Iterator[tuple[str, Any]]:
    """(location, value) of every property value, depth first; list items are named by their
    `PolicyName` when they have one (indices shift when an item is added)."""
    yield location, value
    if isinstance(value, dict) and "Statement" not in value:
        for key, item in value.items():
            yield from _walk(item, f"{location}/{key}".lstrip("/"))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            name = item.get("PolicyName") if isinstance(item, dict) else None
            label = render(name) if name is not None else str(index)
            yield from _walk(item, f"{location}/{label}")


def _statement_permissions(owner: str, kind: str, document: str, statements: Any) -> Iterator[Permission]:
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, dict):  # e.g. an Fn::If choosing between statements
            yield Permission(owner, kind, document, "?", "", render(statement), "", "")
            continue
        effect = str(statement.get("Effect", "Allow"))
        principal = _principal(statement)
        condition = _compact(statement["Condition"]) if "Condition" in statement else ""
        for action in _either(statement, "Action", "NotAction"):
            for resource in _either(statement, "Resource", "NotResource") or [""]:
                yield Permission(owner, kind, document, effect, principal, action, resource, condition)


def _either(statement: dict[str, Any], key: str, negated_key: str) -> list[str]:
    """The rendered values of `key`, or of `negated_key` each prefixed with "NOT "."""
    if key in statement:
        return [render(value) for value in _as_list(statement[key])]
    return [f"NOT {render(value)}" for value in _as_list(statement.get(negated_key, []))]


def _principal(statement: dict[str, Any]) -> str:
    for key, negated in (("Principal", ""), ("NotPrincipal", "NOT ")):
        if key in statement:
            value = statement[key]
            if isinstance(value, dict):
                parts = sorted(f"{kind}: {_joined(ids)}" for kind, ids in value.items())
                return negated + "; ".join(parts)
            return negated + render(value)
    return ""


def _joined(values: Any) -> str:
    return ", ".join(sorted(render(value) for value in _as_list(values)))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def render(value: Any) -> str:
    """A template value as a reader writes it: `${Table.Arn}`, `arn:${AWS::Partition}:...`."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Ref":
            return f"${{{argument}}}"
        if function == "Fn::GetAtt":
            return f"${{{argument if isinstance(argument, str) else '.'.join(map(str, argument))}}}"
        if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
            separator, parts = argument
            if isinstance(parts, list):
                return str(separator).join(render(part) for part in parts)
        if function == "Fn::Sub":
            return render(argument[0] if isinstance(argument, list) else argument)
    return _compact(value)
