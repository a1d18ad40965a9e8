"""App Home republishing: every change reaches the person's Home, and a burst of changes costs
two rebuilds, a second apart, not one per change."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.commands.home import HOME_EVERY, republish
from bot.standin.wire import SlackWire
from tests.conftest import FakeClock, london


@pytest.fixture
async def wire(standin, tmp_path):
    w = SlackWire(standin, f"sqlite:///{tmp_path / 'home.db'}", london("2026-01-12T09:00"))
    await w.start()
    clock = FakeClock()
    w.ctx.monitor.monotonic, w.ctx.monitor.sleep = clock.monotonic, clock.sleep
    w.fake = clock
    yield w
    await w.stop()


def homes(w: SlackWire, user: str) -> list[dict]:
    return [
        c.params["view"] for c in w.standin.calls_to("views.publish") if c.params["user_id"] == user
    ]


async def test_a_burst_of_changes_costs_one_rebuild_now_and_one_a_second_later(wire):
    await wire.command("add Q3 filing <@UDANA|dana> due 2026-02-27", user="UMARCUS")
    await asyncio.gather(*(wire.ctx.background))
    wire.fake.t += 10 * HOME_EVERY  # long after the Home was built for the new task
    before, wire.fake.slept = len(homes(wire, "UDANA")), []

    # Five changes for Dana at one moment: the first rebuilds her Home at once, the other four
    # are folded into one more rebuild, a second later.
    await asyncio.gather(*(republish(wire.ctx, wire.client, {"UDANA"}) for _ in range(5)))
    assert len(homes(wire, "UDANA")) == before + 2
    assert wire.fake.slept == [pytest.approx(HOME_EVERY)]
    assert "Q3 filing" in json.dumps(homes(wire, "UDANA")[-1])

    # A change long after the last rebuild shows at once.
    wire.fake.t += 10 * HOME_EVERY
    wire.fake.slept = []
    await republish(wire.ctx, wire.client, {"UDANA"})
    assert len(homes(wire, "UDANA")) == before + 3 and wire.fake.slept == []
