"""A click repeated (the same message clicked twice, or the same choice on a later reminder)
changes nothing the second time, and says so."""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import select

from bot.db import transaction
from bot.models import Case, Event
from bot.slack import ids
from bot.standin.wire import SlackWire
from tests.conftest import london
from tests.slackio import click, stalled_dm


@pytest.fixture
async def wire(standin, database_url):
    w = SlackWire(standin, database_url, london("2026-01-12T09:00"))
    await w.start()
    yield w
    await w.stop()


def events(w: SlackWire, kind: str) -> list[Event]:
    with transaction(w.ctx.engine) as s:
        return list(s.execute(select(Event).where(Event.kind == kind)).scalars())


PROGRESS_60 = {
    "action_id": ids.ACTION_PROGRESS_SELECT,
    "type": "static_select",
    "selected_option": {"value": "60"},
}


async def test_the_same_progress_clicked_twice_is_recorded_once(wire):
    dm, _ = await stalled_dm(wire)
    again = copy.deepcopy(dm)  # the click replaces the DM: the second comes from a copy of it
    first = await click(wire, dm, PROGRESS_60)
    assert "0% → 60%" in json.dumps(first["blocks"], ensure_ascii=False)
    second = await click(wire, again, PROGRESS_60)
    assert "already 60%; nothing changed" in json.dumps(second["blocks"])
    assert [(e.old, e.new) for e in events(wire, "progress")] == [("0", "60")]


async def test_the_same_progress_typed_again_with_a_note_is_a_check_in(wire):
    await wire.command("add Payroll <@UDANA|dana> due 2026-02-27", user="UDANA")
    await wire.command("progress 1 60", user="UDANA")
    again = await wire.command("progress 1 60", user="UDANA")
    assert "nothing changed" in again["text"]
    noted = await wire.command("progress 1 60 figures arrived", user="UDANA")
    assert "60% → 60%" in noted["text"]
    assert [(e.old, e.new, e.note) for e in events(wire, "progress")] == [
        ("0", "60", None),
        ("60", "60", "figures arrived"),
    ]


SNOOZE_2 = {
    "action_id": ids.ACTION_SNOOZE,
    "type": "static_select",
    "selected_option": {"value": "2"},
}


async def test_the_same_snooze_clicked_twice_snoozes_once(wire):
    dm, _ = await stalled_dm(wire)
    again = copy.deepcopy(dm)
    first = await click(wire, dm, SNOOZE_2)
    assert "snoozed until Wed 21 Jan" in json.dumps(first["blocks"])
    wire.clock.now = london("2026-01-19T10:07")  # a few minutes later, the same day
    second = await click(wire, again, SNOOZE_2)
    assert "already snoozed until Wed 21 Jan" in json.dumps(second["blocks"])
    assert len(events(wire, "snooze")) == 1
    with transaction(wire.ctx.engine) as s:
        assert s.execute(select(Case.snoozed_until)).scalar() == london("2026-01-21T10:00")
    # A different choice is a change: three days moves the snooze on.
    third = await click(wire, copy.deepcopy(again), SNOOZE_2 | {"selected_option": {"value": "3"}})
    assert "reminders snoozed until Thu 22 Jan" in json.dumps(third["blocks"])
    assert len(events(wire, "snooze")) == 2
