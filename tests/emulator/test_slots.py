"""A full worker pool serves the invocations someone waits for first (local_stack.workers.Slots)."""

from __future__ import annotations

import asyncio

from local_stack.workers import Slots


async def _holders(slots: Slots, plan: list[tuple[str, bool]], order: list[str]) -> None:
    """Occupy the only slot, queue ``plan``'s callers in that order, then let them run one by one."""
    release = asyncio.Event()

    async def first() -> None:
        async with slots.held(urgent=True):
            await release.wait()

    async def caller(name: str, urgent: bool) -> None:
        async with slots.held(urgent=urgent):
            order.append(name)
            await asyncio.sleep(0)

    holder = asyncio.create_task(first())
    await asyncio.sleep(0)
    callers = []
    for name, urgent in plan:
        callers.append(asyncio.create_task(caller(name, urgent)))
        await asyncio.sleep(0)
    release.set()
    await asyncio.gather(holder, *callers)


def test_a_freed_slot_goes_to_the_urgent_callers_first_each_group_in_arrival_order() -> None:
    order: list[str] = []
    plan = [("disconnect-1", False), ("disconnect-2", False), ("handshake-1", True), ("handshake-2", True)]
    asyncio.run(_holders(Slots(1), plan, order))
    assert order == ["handshake-1", "handshake-2", "disconnect-1", "disconnect-2"]


def test_a_caller_cancelled_while_waiting_gives_up_its_place_and_loses_no_slot() -> None:
    async def scenario() -> list[str]:
        slots = Slots(1)
        order: list[str] = []
        release = asyncio.Event()

        async def holder() -> None:
            async with slots.held(urgent=True):
                await release.wait()

        async def caller(name: str) -> None:
            async with slots.held(urgent=False):
                order.append(name)

        running = asyncio.create_task(holder())
        await asyncio.sleep(0)
        given_up = asyncio.create_task(caller("cancelled"))
        kept = asyncio.create_task(caller("kept"))
        await asyncio.sleep(0)
        given_up.cancel()
        release.set()
        await asyncio.gather(running, kept, return_exceptions=False)
        assert given_up.cancelled()
        async with slots.held(urgent=True):  # the slot came back: this would wait forever otherwise
            order.append("after")
        return order

    assert asyncio.run(asyncio.wait_for(scenario(), 5)) == ["kept", "after"]


def test_with_free_slots_nobody_waits() -> None:
    async def scenario() -> int:
        slots = Slots(3)
        inside = 0
        peak = 0
        gate = asyncio.Event()

        async def caller(urgent: bool) -> None:
            nonlocal inside, peak
            async with slots.held(urgent=urgent):
                inside += 1
                peak = max(peak, inside)
                await gate.wait()
                inside -= 1

        tasks = [asyncio.create_task(caller(urgent)) for urgent in (True, False, False)]
        await asyncio.sleep(0.01)
        gate.set()
        await asyncio.gather(*tasks)
        return peak

    assert asyncio.run(scenario()) == 3
