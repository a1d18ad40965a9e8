"""Clicks and form submissions with values no button offers, or that lost their context: each
gets one clear sentence back, through the response URL or beside the field, and changes
nothing. Never a traceback, never Slack's "unhandled request"."""

from __future__ import annotations

import copy
import json

from sqlalchemy import func, select

from bot.commands import service
from bot.db import transaction
from bot.models import Task
from bot.slack import ids
from bot.standin.wire import settle
from tests.blockkit import view_errors
from tests.slackio import click, new_task_form, rows, stalled_dm, submit, task

ODD_CLICKS = (
    (
        {"action_id": ids.ACTION_PROGRESS_SELECT, "selected_option": {"value": "abc"}},
        "Pick a percentage from the list",
    ),
    (
        {"action_id": ids.ACTION_PROGRESS_SELECT, "selected_option": {"value": "²"}},
        "Pick a percentage from the list",
    ),
    ({"action_id": ids.ACTION_PROGRESS_SELECT}, "Pick a percentage from the list"),
    (
        {"action_id": ids.ACTION_PROGRESS_SELECT, "selected_option": None},
        "Pick a percentage from the list",
    ),
    (
        {"action_id": ids.ACTION_MOVE_DEADLINE, "selected_date": "soon"},
        "Pick a date from the calendar",
    ),
    (
        {"action_id": ids.ACTION_MOVE_DEADLINE, "selected_date": "2026-02-30"},
        "Pick a date from the calendar",
    ),
    ({"action_id": ids.ACTION_ASSIGN, "selected_user": None}, "Pick a person from the list"),
    ({"action_id": ids.ACTION_ASSIGN, "selected_user": "<!here>"}, "Pick a person"),
    (
        {"action_id": ids.ACTION_SNOOZE, "selected_option": {"value": "99"}},
        "Pick how many working days from the list",
    ),
)


async def test_a_click_with_a_value_no_button_offers_is_refused_in_one_sentence(wire):
    dm, _ = await stalled_dm(wire)
    before = rows(wire)
    for action, says in ODD_CLICKS:
        # The buttons in the DM carry these action ids; the values are what no button offers.
        message = copy.deepcopy(dm)
        block = next(b for b in message.blocks if b["type"] == "actions")
        block["elements"] = [{**action}]
        answer = await click(wire, message, action)
        assert answer["response_type"] == "ephemeral" and says in answer["text"], action
        assert "Traceback" not in answer["text"] and answer["replace_original"] is False
    assert rows(wire) == before and task(wire).owner_id == "UDANA"


async def test_an_unexpected_failure_is_logged_and_the_user_is_told(wire, monkeypatch, caplog):
    dm, _ = await stalled_dm(wire)

    def broken(*_a, **_k):
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(service, "run", broken)
    answer = await click(wire, dm, {"action_id": ids.ACTION_DONE, "type": "button"})
    assert "Something went wrong on our side" in answer["text"]
    assert "fire" not in answer["text"] and answer["response_type"] == "ephemeral"
    assert "the disk is on fire" in caplog.text  # the traceback is in the log
    assert task(wire).status == "open"


def progress_form(metadata: str, value: str = "55") -> dict:
    return {
        "id": "V0FORM",
        "type": "modal",
        "callback_id": ids.VIEW_PROGRESS,
        "private_metadata": metadata,
        "state": {
            "values": {
                ids.INPUT_PROGRESS: {ids.INPUT_PROGRESS: {"type": "number_input", "value": value}}
            }
        },
    }


def blocked_form(metadata: str) -> dict:
    return {
        "id": "V0FORM",
        "type": "modal",
        "callback_id": ids.VIEW_BLOCKED,
        "private_metadata": metadata,
        "state": {
            "values": {
                ids.INPUT_REASON: {
                    ids.INPUT_REASON: {"type": "plain_text_input", "value": "waiting"}
                }
            }
        },
    }


async def test_a_form_that_lost_its_task_says_so_beside_the_field(wire):
    await wire.command("add Payroll <@UDANA|dana> due friday", user="UDANA")
    before = rows(wire)
    for form, field in ((progress_form, ids.INPUT_PROGRESS), (blocked_form, ids.INPUT_REASON)):
        for metadata in ("", "{bad", "[1]", '{"task": "1"}', '{"task": true}'):
            status, answer = await submit(wire, form(metadata))
            assert status == 200 and answer["response_action"] == "errors", metadata
            assert "lost track of its task" in answer["errors"][field]
    assert rows(wire) == before


BAD_FIELDS = (
    ({"deadline": "2026-02-30"}, ids.INPUT_DEADLINE, "Pick a date from the calendar"),
    ({"deadline": "friday"}, ids.INPUT_DEADLINE, "Pick a date from the calendar"),
    ({"parent": "²"}, ids.INPUT_PARENT, "A task number such as 12"),
    ({"parent": "#0"}, ids.INPUT_PARENT, "A task number such as 12"),
    ({"parent": "99"}, ids.INPUT_PARENT, "There is no task #99"),
    ({"title": "x" * 201}, ids.INPUT_TITLE, "a title has at most 200"),
    ({"title": "\x00\x07 "}, ids.INPUT_TITLE, "A task needs a title"),
    ({"description": "y" * 3001}, ids.INPUT_DESCRIPTION, "a description has at most 3000"),
    ({"owner": "<!channel>"}, ids.INPUT_OWNER, "Pick a person"),
)


async def test_the_new_task_form_refuses_bad_values_beside_their_field(wire):
    before = rows(wire)
    for values, field, says in BAD_FIELDS:
        status, answer = await submit(wire, new_task_form(**({"title": "Board pack"} | values)))
        assert status == 200 and answer["response_action"] == "errors", values
        assert set(answer["errors"]) == {field} and says in answer["errors"][field], values
    assert rows(wire) == before


async def test_the_new_task_form_takes_a_title_of_exactly_200_and_strips_control_characters(
    wire,
):
    status, answer = await submit(wire, new_task_form(title="a\x00b" + "x" * 198))
    assert status == 200 and answer["response_action"] == "update"
    with transaction(wire.ctx.engine) as s:
        assert s.get(Task, 1).title == "ab" + "x" * 198


async def test_the_new_task_form_with_odd_metadata_still_creates_the_task_without_a_link(wire):
    for n, metadata in enumerate(("", "{bad", '{"link": "javascript:alert(1)"}'), 1):
        form = new_task_form(metadata, title="Board pack") | {"id": f"V0NEW{n}"}
        status, answer = await submit(wire, form)
        assert status == 200 and answer["response_action"] == "update", metadata
        assert f"Created *#{n} Board pack*" in json.dumps(answer["view"])
        assert not view_errors(answer["view"])  # what the form turns into is a valid modal
    with transaction(wire.ctx.engine) as s:
        assert s.execute(select(func.count()).select_from(Task)).scalar_one() == 3
        assert s.execute(select(Task.link).where(Task.link.is_not(None))).all() == []
    await settle(lambda: len(wire.standin.calls_to("chat.postMessage")) == 3)
