"""What the tests send Slack's way and read back, shared by every test that drives the app
through the wire (the `wire` fixture in conftest.py): clicks and form submissions as Slack
sends them, the task as stored, and the command line run in its own process."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from urllib.parse import urlencode

from sqlalchemy import func, select

from bot.db import transaction
from bot.models import Event, Task
from bot.slack import ids
from bot.standin.wire import SlackWire
from tests.blockkit import block_errors, view_errors
from tests.conftest import MANAGERS, london


def rows(w: SlackWire) -> tuple[int, int]:
    """(tasks, events) stored: what a refused request must leave as it was."""
    with transaction(w.ctx.engine) as s:
        return (
            s.execute(select(func.count()).select_from(Task)).scalar_one(),
            s.execute(select(func.count()).select_from(Event)).scalar_one(),
        )


def task(w: SlackWire, task_id: int = 1) -> Task:
    with transaction(w.ctx.engine) as s:
        return s.get(Task, task_id)


def everything_valid(standin) -> None:
    """Every message, modal and Home view the app sent is valid Block Kit within Slack's limits."""
    for call in standin.calls:
        if "view" in call.params:
            assert not view_errors(call.params["view"]), (
                call.method,
                view_errors(call.params["view"]),
            )
        elif call.params.get("blocks"):
            assert not block_errors(call.params["blocks"]), call.method
    for response in standin.responses:
        if response.get("blocks"):
            assert not block_errors(response["blocks"])


def dm_click(w: SlackWire, message, action: dict, user: str = "UDANA", key: str = "click") -> dict:
    """A block_actions payload for a click on a message in a DM, as Slack sends it (the
    element's action id may carry a suffix making it unique in the message)."""
    block, element = next(
        (b, e)
        for b in message.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"].split(":")[0] == action["action_id"]
    )
    action = {**action, "action_id": element["action_id"]}
    return {
        "type": "block_actions",
        "user": {"id": user},
        "api_app_id": "A0VIGIL",
        "team": {"id": "T0STANDIN"},
        "trigger_id": f"trigger-{key}",
        "response_url": w.standin.response_url(key, channel=message.channel, ts=message.ts),
        "container": {"type": "message", "channel_id": message.channel, "message_ts": message.ts},
        "channel": {"id": message.channel},
        "message": {"ts": message.ts, "text": message.text, "blocks": message.blocks},
        "actions": [{**action, "block_id": block["block_id"], "action_ts": "1.1"}],
    }


async def click(w: SlackWire, message, action: dict, user: str = "UDANA") -> dict | None:
    """Click `action` on `message`; what the app answered through the response URL."""
    before = len(w.standin.responses)
    resp = await w.interact(dm_click(w, message, action, user=user, key=f"k{before}"))
    assert resp.status == 200
    return await w.next_response(before)


async def stalled_dm(w: SlackWire):
    """#1, owned by Dana, stalled: her DM (Friday) and the managers' message (Monday)."""
    await w.command("add Q3 filing <@UDANA|dana> due 2026-02-27", user="UMARCUS")
    await w.sweep(london("2026-01-16T09:30"))
    await w.sweep(london("2026-01-19T09:30"))
    w.clock.now = london("2026-01-19T10:00")
    dm = w.standin.messages(w.standin.dm_channel("UDANA"))[0]
    managers = [m for m in w.standin.messages(MANAGERS) if m.thread_ts is None][0]
    return dm, managers


def form_body(payload: dict) -> str:
    """An interaction payload as Slack posts it: form-encoded, the JSON in `payload`."""
    return urlencode({"payload": json.dumps(payload)})


async def submit(w: SlackWire, view: dict, user: str = "UDANA") -> tuple[int, dict | None]:
    """Submit a modal as `user`; the HTTP status and the app's answer (errors beside fields,
    or the view it becomes), which Slack reads from the response body."""
    payload = {
        "type": "view_submission",
        "user": {"id": user},
        "team": {"id": "T0STANDIN"},
        "api_app_id": "A0VIGIL",
        "view": view,
    }
    body = form_body(payload)
    async with w.http.post(
        f"{w.url}/slack/events",
        data=body,
        headers=w._headers(body, "application/x-www-form-urlencoded"),
    ) as resp:
        text = await resp.text()
        return resp.status, (json.loads(text) if text else None)


def new_task_form(metadata: str = "", **values: object) -> dict:
    """The new-task modal as submitted, with `values` typed into its fields."""

    def field(block: str, kind: str, key: str) -> dict:
        return {block: {block: {"type": kind, key: values.get(block)}}}

    return {
        "id": "V0NEW",
        "type": "modal",
        "callback_id": ids.VIEW_NEW_TASK,
        "private_metadata": metadata,
        "state": {
            "values": field(ids.INPUT_TITLE, "plain_text_input", "value")
            | field(ids.INPUT_OWNER, "users_select", "selected_user")
            | field(ids.INPUT_DEADLINE, "datepicker", "selected_date")
            | field(ids.INPUT_PARENT, "plain_text_input", "value")
            | field(ids.INPUT_DESCRIPTION, "plain_text_input", "value")
        },
    }


async def run_cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    """`python -m bot ARGS` in its own process with only `env` (and PATH): exit code, output,
    errors."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env={"PATH": os.environ.get("PATH", ""), **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    return proc.returncode, out.decode(), err.decode()
