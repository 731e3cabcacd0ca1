"""The real product, run by the local stack (`chat_stack` and `outputs` come from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e import support


@pytest.fixture(autouse=True)
def frames_follow_the_contract() -> Iterator[None]:
    """A frame off docs/asyncapi.yaml, sent or received by any client of the test, fails the test."""
    support.VIOLATIONS.clear()
    yield
    if support.VIOLATIONS:
        pytest.fail("\n".join(str(violation) for violation in support.VIOLATIONS), pytrace=False)
