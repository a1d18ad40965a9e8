"""App Home republishing: every change reaches the person's Home, and a burst of changes costs
two rebuilds, a second apart, not one per change."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.commands.home import HOME_EVERY, republish
from bot.standin.wire import SlackWire


def homes(w: SlackWire, user: str) -> list[dict]:
    return [
        c.params["view"] for c in w.standin.calls_to("views.publish") if c.params["user_id"] == user
    ]


async def test_a_burst_of_changes_costs_one_rebuild_now_and_one_a_second_later(wire, paced):
    await wire.command("add Q3 filing <@UDANA|dana> due 2026-02-27", user="UMARCUS")
    await asyncio.gather(*(wire.ctx.background))
    paced.t += 10 * HOME_EVERY  # long after the Home was built for the new task
    before, paced.slept = len(homes(wire, "UDANA")), []

    # Five changes for Dana at one moment: the first rebuilds her Home at once, the other four
    # are folded into one more rebuild, a second later.
    await asyncio.gather(*(republish(wire.ctx, wire.client, {"UDANA"}) for _ in range(5)))
    assert len(homes(wire, "UDANA")) == before + 2
    assert paced.slept == [pytest.approx(HOME_EVERY)]
    assert "Q3 filing" in json.dumps(homes(wire, "UDANA")[-1])

    # A change long after the last rebuild shows at once.
    paced.t += 10 * HOME_EVERY
    paced.slept = []
    await republish(wire.ctx, wire.client, {"UDANA"})
    assert len(homes(wire, "UDANA")) == before + 3 and paced.slept == []
