"""`user_change`: what Slack says of a person reaches the rules at once."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db import transaction
from bot.models import Finding, SlackUser
from bot.standin.wire import SECRET, settle
from tests.conftest import MONDAY, london


@pytest.fixture
def app_wire(wire, clock):
    wire.standin.clock = clock.timestamp  # statuses expire on the simulated clock
    return wire


def open_rules(wire) -> set[tuple[int, str]]:
    with transaction(wire.ctx.engine) as s:
        return {
            (f.task_id, f.rule)
            for f in s.execute(select(Finding).where(Finding.status == "open")).scalars()
        }


def person(wire, user_id: str) -> SlackUser | None:
    with transaction(wire.ctx.engine) as s:
        return s.get(SlackUser, user_id)


async def deliver(wire, event: dict) -> int:
    """The event, signed as Slack sends it; returns once the app has recorded it (the listener
    runs after the ack)."""
    user = event.get("user") if isinstance(event.get("user"), dict) else {}
    before = person(wire, user.get("id", ""))
    status = await wire.standin.deliver_event(
        event, url=f"{wire.url}/slack/events", signing_secret=SECRET
    )
    await settle(lambda: person(wire, user.get("id", "")) != before)
    return status


async def test_an_owner_deactivated_in_slack_is_missing_at_once(app_wire):
    await app_wire.command("add Q3 filing <@UDANA|dana> due friday", user="UMARCUS")
    await app_wire.sweep(MONDAY + timedelta(minutes=5))
    assert open_rules(app_wire) == set()
    assert await deliver(app_wire, app_wire.standin.set_deleted("UDANA")) == 200
    assert person(app_wire, "UDANA").deleted
    await app_wire.sweep(MONDAY + timedelta(minutes=10))
    assert open_rules(app_wire) == {(1, "missing_owner")}


async def test_an_owner_on_vacation_does_not_stall_until_they_are_back(app_wire):
    await app_wire.command("add Q3 filing <@UDANA|dana> due 2026-02-27", user="UMARCUS")
    await app_wire.command("progress 1 20", user="UDANA")
    # Dana sets a vacation status on Tuesday, until Monday 19th 00:00 UTC.
    app_wire.clock.now = london("2026-01-13T08:00")
    back = int(london("2026-01-19T00:00").timestamp())
    event = app_wire.standin.set_status("UDANA", "Vacation", ":palm_tree:", back)
    assert await deliver(app_wire, event) == 200
    dana = person(app_wire, "UDANA")
    assert dana.away_from == london("2026-01-13T08:00") and dana.away_until.timestamp() == back
    # Friday would be the 4th working day without progress; she is away.
    await app_wire.sweep(london("2026-01-16T10:00"))
    assert open_rules(app_wire) == set()
    # Back Monday: her away days do not count; Mon, Tue, Wed go by, Thursday is the 4th.
    await app_wire.sweep(london("2026-01-21T10:00"))
    assert open_rules(app_wire) == set()
    await app_wire.sweep(london("2026-01-22T10:00"))
    assert open_rules(app_wire) == {(1, "stalled")}


async def test_a_user_change_without_a_user_changes_nothing(app_wire):
    assert await deliver(app_wire, {"type": "user_change", "user": "UDANA"}) == 200
    assert person(app_wire, "UDANA") is None
