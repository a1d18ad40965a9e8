"""Every button on the bot's DMs and managers' messages, clicked as Slack sends the click:
each changes the task through the same service as /task, and the message it came from stops
looking clickable."""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import select

from bot.db import transaction
from bot.models import Finding, Task
from bot.slack import ids
from bot.standin.wire import SlackWire, settle
from tests.app.test_app import dm_click, everything_valid
from tests.conftest import MANAGERS, london


@pytest.fixture
async def wire(standin, database_url):
    w = SlackWire(standin, database_url, london("2026-01-12T09:00"))
    await w.start()
    yield w
    await w.stop()


async def stalled_dm(w: SlackWire):
    """#1, owned by Dana, stalled: her DM (Friday) and the managers' message (Monday)."""
    await w.command("add Q3 filing <@UDANA|dana> due 2026-02-27", user="UMARCUS")
    await w.sweep(london("2026-01-16T09:30"))
    await w.sweep(london("2026-01-19T09:30"))
    w.clock.now = london("2026-01-19T10:00")
    dm = w.standin.messages(w.standin.dm_channel("UDANA"))[0]
    managers = [m for m in w.standin.messages(MANAGERS) if m.thread_ts is None][0]
    return dm, managers


def task(w: SlackWire) -> Task:
    with transaction(w.ctx.engine) as s:
        return s.get(Task, 1)


async def click(w: SlackWire, message, action: dict, user: str = "UDANA") -> dict | None:
    before = len(w.standin.responses)
    resp = await w.interact(dm_click(w, message, action, user=user, key=f"k{before}"))
    assert resp.status == 200
    return await w.next_response(before)


async def test_done_closes_the_task_and_the_sweep_resolves_both_messages(wire, standin):
    dm, _ = await stalled_dm(wire)
    answer = await click(
        wire, dm, {"action_id": ids.ACTION_DONE, "type": "button", "value": "done"}
    )
    assert answer["replace_original"] and "marked done" in answer["text"]
    assert task(wire).status == "done"
    await wire.sweep(london("2026-01-19T10:05"))
    assert "no longer stalled: marked done" in standin.messages(MANAGERS)[0].text
    everything_valid(standin)


async def test_done_on_a_dm_takes_the_task_off_the_clickers_app_home(wire, standin):
    dm, _ = await stalled_dm(wire)
    homes = lambda: [c for c in standin.calls_to("views.publish") if c.params["user_id"] == "UDANA"]  # noqa: E731
    seen = len(homes())
    await click(wire, dm, {"action_id": ids.ACTION_DONE, "type": "button", "value": "done"})
    await settle(lambda: len(homes()) > seen)
    home = json.dumps(homes()[-1].params["view"])
    assert len(homes()) > seen and "Q3 filing" not in home


async def test_snooze_holds_reminders(wire, standin):
    dm, _ = await stalled_dm(wire)
    answer = await click(
        wire,
        dm,
        {
            "action_id": ids.ACTION_SNOOZE,
            "type": "static_select",
            "selected_option": {"value": "2"},
        },
    )
    assert "snoozed until Wed 21 Jan" in answer["text"]
    with transaction(wire.ctx.engine) as s:
        assert s.execute(select(Finding.snoozed_until)).scalar() == london("2026-01-21T10:00")


async def test_move_the_deadline_from_the_datepicker(wire, standin):
    dm, _ = await stalled_dm(wire)
    reminder = copy.deepcopy(dm)  # the same buttons, on a later reminder
    answer = await click(
        wire,
        dm,
        {
            "action_id": ids.ACTION_MOVE_DEADLINE,
            "type": "datepicker",
            "selected_date": "2026-03-06",
        },
    )
    assert "due Fri 6 Mar" in answer["text"]
    assert not any(b["type"] == "actions" for b in dm.blocks)  # the DM lost its buttons
    answer = await click(
        wire,
        reminder,
        {
            "action_id": ids.ACTION_MOVE_DEADLINE,
            "type": "datepicker",
            "selected_date": "2025-03-06",
        },
    )
    assert "in the past" in answer["text"] and answer["response_type"] == "ephemeral"


async def test_managers_reassign_and_ping_the_owner(wire, standin):
    _, managers = await stalled_dm(wire)
    copies = [copy.deepcopy(managers) for _ in range(2)]  # as another manager still sees it
    answer = await click(
        wire,
        managers,
        {"action_id": ids.ACTION_REASSIGN, "type": "users_select", "selected_user": "UTOM"},
        user="UMARCUS",
    )
    assert "now owned by <@UTOM>" in answer["text"] and task(wire).owner_id == "UTOM"
    answer = await click(
        wire,
        copies[0],
        {"action_id": ids.ACTION_PING_OWNER, "type": "button", "value": "ping"},
        user="UMARCUS",
    )
    assert "pinged <@UTOM>" in json.dumps(answer["blocks"])
    assert "asking about #1" in standin.messages(standin.dm_channel("UTOM"))[-1].text
    # Pinging is for managers.
    answer = await click(
        wire,
        copies[1],
        {"action_id": ids.ACTION_PING_OWNER, "type": "button", "value": "ping"},
        user="ULEE",
    )
    assert "for managers" in answer["text"]


async def test_someone_else_clicking_changes_nothing(wire, standin):
    dm, _ = await stalled_dm(wire)
    answer = await click(
        wire, dm, {"action_id": ids.ACTION_DONE, "type": "button", "value": "done"}, user="ULEE"
    )
    assert (
        "Only the owner, the creator or a manager" in answer["text"]
        and answer["response_type"] == "ephemeral"
    )
    assert task(wire).status == "open"


async def test_blocked_opens_a_modal_whose_reason_goes_to_the_managers(wire, standin):
    dm, _ = await stalled_dm(wire)
    payload = dm_click(
        wire, dm, {"action_id": ids.ACTION_BLOCKED, "type": "button", "value": "blocked"}
    )
    await wire.interact(payload)
    await settle(lambda: standin.calls_to("views.open"))
    modal = standin.calls_to("views.open")[-1].params["view"]
    assert modal["callback_id"] == ids.VIEW_BLOCKED
    submission = {
        "type": "view_submission",
        "user": {"id": "UDANA"},
        "team": {"id": "T0STANDIN"},
        "api_app_id": "A0VIGIL",
        "view": {
            **modal,
            "id": "V0B",
            "state": {
                "values": {
                    ids.INPUT_REASON: {
                        ids.INPUT_REASON: {
                            "type": "plain_text_input",
                            "value": "waiting for Acme's ledger",
                        }
                    }
                }
            },
        },
    }
    await wire.interact(submission)
    await settle(lambda: task(wire).status == "blocked")
    assert task(wire).block_reason == "waiting for Acme's ledger"
    await settle(lambda: standin.calls_to("chat.update"))
    updated = standin.calls_to("chat.update")[-1].params
    assert updated["ts"] == dm.ts and all(b["type"] != "actions" for b in updated["blocks"])
    await wire.sweep(london("2026-01-19T10:05"))
    assert any("waiting for Acme" in json.dumps(m.blocks) for m in standin.messages(MANAGERS))


async def test_other_progress_opens_a_modal_with_a_note(wire, standin):
    dm, _ = await stalled_dm(wire)
    await wire.interact(
        dm_click(
            wire, dm, {"action_id": ids.ACTION_PROGRESS_OTHER, "type": "button", "value": "other"}
        )
    )
    await settle(lambda: standin.calls_to("views.open"))
    modal = standin.calls_to("views.open")[-1].params["view"]

    def submit(value: str) -> dict:
        values = {
            ids.INPUT_PROGRESS: {ids.INPUT_PROGRESS: {"type": "number_input", "value": value}},
            ids.INPUT_NOTE: {ids.INPUT_NOTE: {"type": "plain_text_input", "value": "figures in"}},
        }
        return {
            "type": "view_submission",
            "user": {"id": "UDANA"},
            "team": {"id": "T0STANDIN"},
            "api_app_id": "A0VIGIL",
            "view": {**modal, "id": "V0P", "state": {"values": values}},
        }

    from tests.app.test_app import _form

    body = _form(submit("130"))
    async with wire.http.post(
        f"{wire.url}/slack/events",
        data=body,
        headers=wire._headers(body, "application/x-www-form-urlencoded"),
    ) as resp:
        assert (await resp.json())["errors"] == {
            ids.INPUT_PROGRESS: "A whole number from 0 to 100."
        }
    assert task(wire).progress == 0
    await wire.interact(submit("55"))
    await settle(lambda: task(wire).progress == 55)
    assert task(wire).progress == 55


async def test_app_home_buttons_refresh_the_home_view(wire, standin):
    await wire.command("add Payroll <@UDANA|dana> due 2026-02-27", user="UDANA")
    await wire.event({"type": "app_home_opened", "user": "UDANA", "tab": "home"})

    def danas_home() -> list[dict]:
        return [
            c.params["view"]
            for c in standin.calls_to("views.publish")
            if c.params["user_id"] == "UDANA"
        ]

    await settle(lambda: danas_home())
    view = danas_home()[-1]
    block = next(b for b in view["blocks"] if b["type"] == "actions")
    select_ = next(e for e in block["elements"] if e["type"] == "static_select")
    seen = len(danas_home())
    await wire.interact(
        {
            "type": "block_actions",
            "user": {"id": "UDANA"},
            "team": {"id": "T0STANDIN"},
            "api_app_id": "A0VIGIL",
            "trigger_id": "t-home",
            "container": {"type": "view", "view_id": "V0HOME"},
            "view": {**view, "id": "V0HOME"},
            "actions": [
                {
                    "action_id": select_["action_id"],
                    "block_id": block["block_id"],
                    "type": "static_select",
                    "selected_option": {"value": "30"},
                }
            ],
        }
    )
    bar = "progress ▰▰▰▱▱▱▱▱▱▱ 30%"
    await settle(lambda: any(bar in json.dumps(v, ensure_ascii=False) for v in danas_home()[seen:]))
    assert task(wire).progress == 30
    assert any(bar in json.dumps(v, ensure_ascii=False) for v in danas_home()[seen:])


async def test_pinging_an_owner_who_left_tells_the_manager_what_to_do(wire, standin, caplog):
    _, managers = await stalled_dm(wire)
    standin.add_user("UDANA", name="Dana", tz="Europe/London", deleted=True)
    answer = await click(
        wire,
        managers,
        {"action_id": ids.ACTION_PING_OWNER, "type": "button", "value": "ping"},
        user="UMARCUS",
    )
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert "could not message <@UDANA>" in answer["text"] and "user_disabled" in answer["text"]
    assert "Reassign #1" in answer["text"]
    assert "Traceback" in caplog.text  # logged with its traceback, for whoever runs the bot
    assert not any("asking about" in m.text for m in standin.messages(standin.dm_channel("UDANA")))


@pytest.mark.parametrize(
    ("action_id", "instead"),
    [
        (ids.ACTION_BLOCKED, "`/task block 1 &lt;reason&gt;`"),
        (ids.ACTION_PROGRESS_OTHER, "`/task progress 1 &lt;0-100&gt;`"),
    ],
)
async def test_a_form_that_slack_will_not_open_is_explained(wire, standin, action_id, instead):
    dm, _ = await stalled_dm(wire)
    standin.fail("views.open", error="expired_trigger_id")
    answer = await click(wire, dm, {"action_id": action_id, "type": "button", "value": "x"})
    assert answer["response_type"] == "ephemeral"
    assert "did not open (Slack said `expired_trigger_id`)" in answer["text"]
    assert instead in answer["text"]
    assert task(wire).status == "open"


async def test_a_task_made_in_the_form_is_confirmed_in_it_even_when_the_dm_fails(wire, standin):
    from tests.slack.test_payloads import new_task_form, submit

    standin.fail("chat.postMessage", error="fatal_error")
    status, answer = await submit(wire, new_task_form(title="Board pack", owner="UDANA"))
    assert status == 200 and answer["response_action"] == "update"
    assert "Created" in json.dumps(answer["view"]) and task(wire).title == "Board pack"
    await settle(lambda: standin.calls_to("views.update"))
    updated = standin.calls_to("views.update")[-1]
    assert updated.params["view_id"] == "V0NEW" and updated.response["ok"]
    note = json.dumps(updated.params["view"])
    assert "could not send you a copy in a DM" in note and "`/task 1` shows it" in note
    everything_valid(standin)


async def test_the_progress_form_closes_at_once_and_a_refusal_arrives_where_the_button_was(
    wire, standin
):
    dm, _ = await stalled_dm(wire)
    await wire.interact(
        dm_click(wire, dm, {"action_id": ids.ACTION_PROGRESS_OTHER, "type": "button"}, key="o")
    )
    await settle(lambda: standin.calls_to("views.open"))
    modal = standin.calls_to("views.open")[-1].params["view"]
    await wire.command("done 1", user="UMARCUS")  # meanwhile, a manager closes it
    from tests.slack.test_payloads import submit

    before = len(standin.responses)
    values = {ids.INPUT_PROGRESS: {ids.INPUT_PROGRESS: {"type": "number_input", "value": "70"}}}
    status, answer = await submit(wire, {**modal, "id": "V0P", "state": {"values": values}})
    assert status == 200 and answer is None  # acked before the database was touched
    refusal = await wire.next_response(before)
    assert refusal["key"] == "o" and "#1 is already done" in refusal["text"]
    assert task(wire).progress == 100
