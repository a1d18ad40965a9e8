"""Every button on the bot's DMs and managers' messages, clicked as Slack sends the click:
each changes the task through the same service as /task, and the message it came from stops
looking clickable."""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import select

from bot.db import transaction
from bot.models import Case
from bot.slack import ids
from bot.standin.wire import settle
from tests.conftest import MANAGERS, london
from tests.slackio import click, dm_click, everything_valid, new_task_form, stalled_dm, submit, task


async def test_done_closes_the_task_and_the_sweep_resolves_both_messages(wire, standin):
    dm, _ = await stalled_dm(wire)
    answer = await click(
        wire, dm, {"action_id": ids.ACTION_DONE, "type": "button", "value": "done"}
    )
    assert answer["replace_original"] and "marked done" in answer["text"]
    assert task(wire).status == "done"
    await wire.sweep(london("2026-01-19T10:05"))
    [digest] = standin.messages(MANAGERS)
    [dm] = standin.messages(standin.dm_channel("UDANA"))
    for message in (digest, dm):  # both edited in place, nothing posted again
        assert "no longer needs attention: marked done" in json.dumps(message.blocks)
        assert all(b["type"] != "actions" for b in message.blocks)
    assert "0 tasks need someone" in digest.text and digest.edits >= 1
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
    assert "snoozed until Wed 21 Jan" in json.dumps(answer["blocks"])
    with transaction(wire.ctx.engine) as s:
        assert s.execute(select(Case.snoozed_until)).scalar() == london("2026-01-21T10:00")
    # The reminder was due Tuesday (two working days after Friday's DM): held until Wednesday
    # 10:00, then one comes.
    dana = standin.dm_channel("UDANA")
    await wire.sweep(london("2026-01-20T10:00"))
    await wire.sweep(london("2026-01-21T09:59"))
    assert len(standin.messages(dana)) == 1
    await wire.sweep(london("2026-01-21T10:01"))
    assert len(standin.messages(dana)) == 2
    assert "Reminder" in standin.messages(dana)[-1].text


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
    shown = json.dumps(answer["blocks"], ensure_ascii=False)
    assert "<@UDANA>: due Fri 6 Mar" in shown and "owner <@UDANA>  ·  due Fri 6 Mar" in shown
    # Still stalled: the DM, redrawn where it was, keeps the buttons that fix that.
    assert answer["replace_original"] and "no progress" in answer["text"]
    assert any(e["action_id"].startswith(ids.ACTION_DONE) for e in elements(dm.blocks))
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


def elements(blocks: list[dict]) -> list[dict]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


async def test_managers_ping_and_reassign_are_recorded_on_the_entry(wire, standin):
    _, managers = await stalled_dm(wire)
    copies = [copy.deepcopy(managers) for _ in range(2)]  # as another manager still sees it
    ping = {"action_id": ids.ACTION_PING_OWNER, "type": "button", "value": "ping"}
    answer = await click(wire, managers, ping, user="UMARCUS")
    assert "asking about #1" in standin.messages(standin.dm_channel("UDANA"))[-1].text
    # The digest, redrawn: the case records who pinged when, and keeps its buttons.
    shown = json.dumps(answer["blocks"], ensure_ascii=False)
    assert "pinged the owner by <@UMARCUS> at 10:00" in shown
    assert {e["action_id"].split(":")[0] for e in elements(answer["blocks"])} == {
        ids.ACTION_REASSIGN,
        ids.ACTION_MOVE_DEADLINE,
        ids.ACTION_PING_OWNER,
    }
    # The next edit of the digest (any sweep's) still shows it.
    with transaction(wire.ctx.engine) as s:
        assert s.execute(select(Case.notes)).scalar() == ["pinged the owner by <@UMARCUS> at 10:00"]

    answer = await click(
        wire,
        copies[0],
        {"action_id": ids.ACTION_REASSIGN, "type": "users_select", "selected_user": "UTOM"},
        user="UMARCUS",
    )
    assert task(wire).owner_id == "UTOM"
    shown = json.dumps(answer["blocks"], ensure_ascii=False)
    assert "<@UMARCUS>: now owned by <@UTOM>" in shown
    # A new owner restarts the stall clock: the entry shows the case resolved, and why.
    assert "no longer needs attention: <@UTOM> owns it now" in shown
    # Pinging is for managers.
    answer = await click(wire, copies[1], ping, user="ULEE")
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

    def form(value: str) -> dict:
        values = {
            ids.INPUT_PROGRESS: {ids.INPUT_PROGRESS: {"type": "number_input", "value": value}},
            ids.INPUT_NOTE: {ids.INPUT_NOTE: {"type": "plain_text_input", "value": "figures in"}},
        }
        return {**modal, "id": "V0P", "state": {"values": values}}

    status, answer = await submit(wire, form("130"))
    assert status == 200
    assert answer["errors"] == {ids.INPUT_PROGRESS: "A whole number from 0 to 100."}
    assert task(wire).progress == 0
    await submit(wire, form("55"))
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

    before = len(standin.responses)
    values = {ids.INPUT_PROGRESS: {ids.INPUT_PROGRESS: {"type": "number_input", "value": "70"}}}
    status, answer = await submit(wire, {**modal, "id": "V0P", "state": {"values": values}})
    assert status == 200 and answer is None  # acked before the database was touched
    refusal = await wire.next_response(before)
    assert refusal["key"] == "o" and "#1 is already done" in refusal["text"]
    assert task(wire).progress == 100
