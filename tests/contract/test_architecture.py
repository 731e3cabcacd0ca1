"""docs/ARCHITECTURE.md's table of functions and routes says what route_keys/ defines."""

from __future__ import annotations

import re
from pathlib import Path

import route_keys

ARCHITECTURE = Path(__file__).resolve().parents[2] / "docs" / "ARCHITECTURE.md"


def documented_routes() -> dict[str, set[str]]:
    """Function -> the route keys in the `routes` column of its row."""
    found: dict[str, set[str]] = {}
    for line in ARCHITECTURE.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(r"`\w+Function`", cells[0]):
            found[cells[0].strip("`")] = set(re.findall(r"`([^`]+)`", cells[2]))
    return found


def test_the_table_lists_each_functions_route_keys() -> None:
    documented = documented_routes()
    for function, keys in route_keys.ROUTES_BY_FUNCTION.items():
        assert documented[function] == set(keys), function
    assert documented["AuthorizerFunction"] == {"$connect"}  # "the `$connect` authorizer"
    assert documented["FanoutFunction"] == {"FanoutJob"}  # "none: invoked ... with a `FanoutJob`"
