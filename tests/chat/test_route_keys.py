"""Each handler dispatches exactly the route keys its function is routed (route_keys/, named once)."""

from __future__ import annotations

from chat.handlers import broadcast, direct, lifecycle
from chat.models import requests

import route_keys


def test_each_handler_dispatches_exactly_its_functions_route_keys() -> None:
    assert tuple(lifecycle.ROUTES) == route_keys.LIFECYCLE_ROUTES
    assert tuple(direct.ROUTES) == route_keys.DIRECT_ROUTES
    assert tuple(broadcast.ROUTES) == route_keys.BROADCAST_ROUTES


def test_the_actions_are_the_direct_and_broadcast_routes_with_nothing_twice() -> None:
    routed = [*route_keys.DIRECT_ACTIONS, *route_keys.BROADCAST_ROUTES]
    assert sorted(routed) == sorted(route_keys.ACTIONS) == sorted(set(routed))
    assert requests.ACTIONS is route_keys.ACTIONS  # what an UNKNOWN_ACTION error lists
    assert set(route_keys.DIRECT_ROUTES) >= route_keys.EXPIRY_EXEMPT
