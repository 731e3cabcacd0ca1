"""The review as Markdown: one table for all stacks at a glance, then a section per changed stack."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from tools.review.assembly import Acknowledgment
from tools.review.compare import ResourceChange, StackReview
from tools.review.iam import Permission


def render_report(reviews: Sequence[StackReview], *, base_label: str, head_label: str) -> str:
    lines = [
        f"## Synthesized stacks: {base_label} → {head_label}",
        "",
        "| stack | resources added | removed | changed | IAM permissions added | removed "
        "| cdk-nag acknowledgments added | removed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [_summary_row(review) for review in reviews]
    for review in reviews:
        lines += ["", *_stack_section(review)]
    return "\n".join(lines) + "\n"


def _summary_row(review: StackReview) -> str:
    counts = (
        review.resources_added,
        review.resources_removed,
        review.resources_changed,
        review.permissions_added,
        review.permissions_removed,
        review.acknowledgments_added,
        review.acknowledgments_removed,
    )
    return f"| {_code(review.name)}{_presence(review)} | " + " | ".join(str(len(c)) for c in counts) + " |"


def _presence(review: StackReview) -> str:
    if not review.in_base:
        return " (new)"
    if not review.in_head:
        return " (deleted)"
    return ""


def _stack_section(review: StackReview) -> list[str]:
    lines = [f"### {_code(review.name)}{_presence(review)}", ""]
    if review.unchanged:
        return [*lines, "No changes."]
    lines += _resources("Resources added", review.resources_added, with_changes=False)
    lines += _resources("Resources removed", review.resources_removed, with_changes=False)
    lines += _resources("Resources changed", review.resources_changed, with_changes=True)
    outputs = [
        f"{label} {', '.join(map(_code, names))}"
        for label, names in (
            ("added", review.outputs_added),
            ("removed", review.outputs_removed),
            ("changed", review.outputs_changed),
        )
        if names
    ]
    if outputs:
        lines += [f"**Outputs**: {'; '.join(outputs)}.", ""]
    lines += _permissions("IAM permissions added", review.permissions_added)
    lines += _permissions("IAM permissions removed", review.permissions_removed)
    lines += _acknowledgments("cdk-nag acknowledgments added", review.acknowledgments_added)
    lines += _acknowledgments("cdk-nag acknowledgments removed", review.acknowledgments_removed)
    return lines[:-1]  # no blank line after the last table


def _resources(title: str, changes: Sequence[ResourceChange], *, with_changes: bool) -> list[str]:
    if not changes:
        return []
    header = "| logical id | type | construct path |" + (" what changed |" if with_changes else "")
    rows = [
        f"| {_code(c.logical_id)} | {_code(c.type)} | {_cell(c.path)} |"
        + (f" {', '.join(map(_code, c.changed))} |" if with_changes else "")
        for c in changes
    ]
    return [f"**{title} ({len(changes)})**", "", header, "|---" * header.count(" |") + "|", *rows, ""]


def _permissions(title: str, found: Sequence[Permission]) -> list[str]:
    if not found:
        return []
    # Statement-like rows: first the actions each resource gets from one document, effect, principal
    # and condition; then the resources that get the same actions share a row.
    actions_on: dict[tuple[tuple[str, ...], str], set[str]] = defaultdict(set)
    for p in found:
        actions_on[(_statement(p), p.resource)].add(p.action)
    resources_for: dict[tuple[tuple[str, ...], tuple[str, ...]], set[str]] = defaultdict(set)
    for (statement, resource), actions in actions_on.items():
        resources_for[(statement, tuple(sorted(actions)))].add(resource)
    rows = [
        f"| {_code(owner)} ({_code(kind)}) | {_code(document)} | {effect} | {_codes(actions)} "
        f"| {_codes(resources)} | {_code(principal)} | {_code(condition)} |"
        for ((owner, kind, document, effect, principal, condition), actions), resources in sorted(
            resources_for.items()
        )
    ]
    return [
        f"**{title} ({len(found)})**",
        "",
        "| on | document | effect | actions | resources | principal | condition |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
    ]


def _statement(p: Permission) -> tuple[str, ...]:
    return (p.owner, p.owner_type, p.document, p.effect, p.principal, p.condition)


def _acknowledgments(title: str, found: Sequence[Acknowledgment]) -> list[str]:
    if not found:
        return []
    rows = [f"| {_code(a.rule)} | {_cell(a.path)} | {_cell(a.reason)} |" for a in found]
    return [f"**{title} ({len(found)})**", "", "| rule | on | reason |", "|---|---|---|", *rows, ""]


def _codes(values: Iterable[str]) -> str:
    return "<br>".join(_code(value) for value in sorted(values) if value)


def _code(value: str) -> str:
    return f"`{_escape(value)}`" if value else ""


def _cell(value: str) -> str:
    return _escape(value)


def _escape(value: str) -> str:
    """Table cells: a pipe would end the cell and a newline the row."""
    return value.replace("|", "\\|").replace("\n", " ")
