"""The differences between two synthesized stacks that a reviewer reads first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tools.review.assembly import Acknowledgment, StackSnapshot
from tools.review.iam import Permission, permissions

# Resource attributes other than Properties that change what CloudFormation does.
RESOURCE_ATTRIBUTES = (
    "Type",
    "Condition",
    "DependsOn",
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "CreationPolicy",
    "UpdatePolicy",
)
CDK_PATH = "aws:cdk:path"


@dataclass(frozen=True, order=True)
class ResourceChange:
    """A resource added, removed or changed; `changed` names what differs (properties, attributes)."""

    logical_id: str
    type: str
    path: str  # the construct path CDK records in its metadata, "" when none
    changed: tuple[str, ...] = ()


@dataclass(frozen=True)
class StackReview:
    """What changed in one stack between the base and the head."""

    name: str
    in_base: bool
    in_head: bool
    resources_added: tuple[ResourceChange, ...]
    resources_removed: tuple[ResourceChange, ...]
    resources_changed: tuple[ResourceChange, ...]
    outputs_added: tuple[str, ...]
    outputs_removed: tuple[str, ...]
    outputs_changed: tuple[str, ...]
    permissions_added: tuple[Permission, ...]
    permissions_removed: tuple[Permission, ...]
    acknowledgments_added: tuple[Acknowledgment, ...]
    acknowledgments_removed: tuple[Acknowledgment, ...]

    @property
    def unchanged(self) -> bool:
        return self.in_base == self.in_head and not any(
            (
                self.resources_added,
                self.resources_removed,
                self.resources_changed,
                self.outputs_added,
                self.outputs_removed,
                self.outputs_changed,
                self.permissions_added,
                self.permissions_removed,
                self.acknowledgments_added,
                self.acknowledgments_removed,
            )
        )


def compare_stacks(name: str, base: StackSnapshot | None, head: StackSnapshot | None) -> StackReview:
    """The review of one stack; a stack missing on one side is compared with an empty one."""
    base_template = base.template if base else {}
    head_template = head.template if head else {}
    base_resources = base_template.get("Resources", {})
    head_resources = head_template.get("Resources", {})
    added, removed, common = _keys(base_resources, head_resources)
    changed = [
        _change(
            logical_id,
            head_resources[logical_id],
            _differences(base_resources[logical_id], head_resources[logical_id]),
        )
        for logical_id in sorted(common)
    ]
    base_outputs = base_template.get("Outputs", {})
    head_outputs = head_template.get("Outputs", {})
    outputs_added, outputs_removed, outputs_common = _keys(base_outputs, head_outputs)
    base_permissions, head_permissions = permissions(base_template), permissions(head_template)
    base_acks = base.acknowledgments if base else frozenset()
    head_acks = head.acknowledgments if head else frozenset()
    return StackReview(
        name=name,
        in_base=base is not None,
        in_head=head is not None,
        resources_added=tuple(_change(key, head_resources[key]) for key in sorted(added)),
        resources_removed=tuple(_change(key, base_resources[key]) for key in sorted(removed)),
        resources_changed=tuple(change for change in changed if change.changed),
        outputs_added=tuple(sorted(outputs_added)),
        outputs_removed=tuple(sorted(outputs_removed)),
        outputs_changed=tuple(sorted(k for k in outputs_common if base_outputs[k] != head_outputs[k])),
        permissions_added=tuple(sorted(head_permissions - base_permissions)),
        permissions_removed=tuple(sorted(base_permissions - head_permissions)),
        acknowledgments_added=tuple(sorted(head_acks - base_acks)),
        acknowledgments_removed=tuple(sorted(base_acks - head_acks)),
    )


def compare_assemblies(base: dict[str, StackSnapshot], head: dict[str, StackSnapshot]) -> list[StackReview]:
    """One review per stack in either assembly, in name order."""
    return [
        compare_stacks(name, base.get(name), head.get(name)) for name in sorted(base.keys() | head.keys())
    ]


def _keys(base: dict[str, Any], head: dict[str, Any]) -> tuple[set[str], set[str], set[str]]:
    """(only in head, only in base, in both)."""
    return head.keys() - base.keys(), base.keys() - head.keys(), base.keys() & head.keys()


def _change(logical_id: str, resource: dict[str, Any], changed: tuple[str, ...] = ()) -> ResourceChange:
    path = str(resource.get("Metadata", {}).get(CDK_PATH, ""))
    return ResourceChange(logical_id, str(resource.get("Type", "")), path, changed)


def _differences(base: dict[str, Any], head: dict[str, Any]) -> tuple[str, ...]:
    """The properties and attributes that differ; Metadata (construct paths, asset paths) is ignored."""
    base_properties, head_properties = base.get("Properties", {}), head.get("Properties", {})
    properties = sorted(
        key
        for key in base_properties.keys() | head_properties.keys()
        if base_properties.get(key) != head_properties.get(key)
    )
    attributes = [name for name in RESOURCE_ATTRIBUTES if base.get(name) != head.get(name)]
    return (*attributes, *properties)
