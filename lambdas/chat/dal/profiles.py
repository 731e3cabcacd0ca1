"""Sender profiles: whether an operator approved a user to send when verified senders are required."""

from __future__ import annotations

from typing import Any

from chat.dal import keys
from chat.dal.client import table

APPROVED = "approved"
REVOKED = "revoked"


def set_status(user_id: str, status: str, *, updated_at: str, updated_by: str) -> None:
    table().put_item(
        Item={
            **keys.profile(user_id),
            "userId": user_id,
            "verificationStatus": status,
            "updatedAt": updated_at,
            "updatedBy": updated_by,
        }
    )


def get(user_id: str) -> dict[str, Any] | None:
    item = table().get_item(Key=keys.profile(user_id), ConsistentRead=True).get("Item")
    if item is None:
        return None
    return {k: v for k, v in item.items() if k not in ("PK", "SK")}


def is_approved(user_id: str) -> bool:
    item = table().get_item(Key=keys.profile(user_id), ConsistentRead=True).get("Item")
    return item is not None and item.get("verificationStatus") == APPROVED
