"""`/task import` through the real app, with signed requests as Slack sends them: a manager
uploads an export, sees the preview, clicks, and the tasks exist, even when the click reaches
another replica; a late or second click stores nothing; anyone else is refused."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.commands import import_views
from bot.db import reading
from bot.importing.plan import Plan
from bot.models import Task
from bot.slack import ids
from bot.standin.wire import SlackWire, settle
from tests.blockkit import view_errors
from tests.conftest import london
from tests.importing.helpers import FIXTURES


@pytest.fixture
async def wire(standin, database_url):
    standin.set_email("UDANA", "dana@firm.example")
    standin.set_email("ULEE", "lee@firm.example")
    w = SlackWire(standin, database_url, london("2026-01-05T09:00"))
    await w.start()
    yield w
    await w.stop()


def upload_submission(view: dict, user: str, uploaded: dict | None) -> dict:
    files = [uploaded] if uploaded else []
    return {
        "type": "view_submission",
        "user": {"id": user},
        "team": {"id": "T0STANDIN"},
        "api_app_id": "A0VIGIL",
        "view": view
        | {
            "id": "V0IMPORT",
            "state": {
                "values": {ids.INPUT_FILE: {ids.INPUT_FILE: {"type": "file_input", "files": files}}}
            },
        },
    }


def click_go(view: dict, user: str) -> dict:
    [button] = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    return {
        "type": "block_actions",
        "user": {"id": user},
        "team": {"id": "T0STANDIN"},
        "api_app_id": "A0VIGIL",
        "trigger_id": uuid.uuid4().hex,
        "container": {"type": "view", "view_id": "V0IMPORT"},
        "view": view | {"id": "V0IMPORT"},
        "actions": [
            {
                "type": "button",
                "action_id": button["action_id"],
                "block_id": "import_go",
                "value": button["value"],
            }
        ],
    }


def updates(standin) -> list[dict]:
    return [c.params["view"] for c in standin.calls_to("views.update")]


def titles(w: SlackWire) -> dict[str, Task]:
    with reading(w.ctx.engine) as s:
        return {t.title: t for t in s.execute(select(Task)).scalars()}


async def submit(w: SlackWire, payload: dict) -> dict | None:
    resp = await w.interact(payload)
    assert resp.status == 200
    return None


async def test_someone_who_is_not_a_manager_is_refused(wire, standin):
    reply = await wire.command("import", user="UDANA")
    assert "Only managers can import" in reply["text"]
    assert standin.calls_to("views.open") == []


async def test_a_manager_uploads_sees_the_preview_clicks_and_the_tasks_exist(wire, standin):
    await wire.command("import", user="UMARCUS", reply=False)
    await settle(lambda: standin.calls_to("views.open"))
    form = standin.calls_to("views.open")[0].params["view"]
    assert not view_errors(form)
    assert any(b.get("element", {}).get("type") == "file_input" for b in form["blocks"])

    uploaded = standin.upload("asana.csv", (FIXTURES / "asana.csv").read_bytes(), user="UMARCUS")
    await submit(wire, upload_submission(form, "UMARCUS", uploaded))
    await settle(lambda: any("To create" in json.dumps(v) for v in updates(standin)))

    preview = updates(standin)[-1]
    text = json.dumps(preview)
    assert not view_errors(preview)
    assert "*To create:* 3" in text and "Q3 filing for Acme" in text
    assert "pat@elsewhere.example (1)" in text  # the one person Slack does not know
    assert titles(wire) == {}  # a preview stores nothing
    assert standin.calls_to("files.info")[0].params["file"] == uploaded["id"]

    await wire.interact(click_go(preview, "UMARCUS"))
    await settle(lambda: any("created" in json.dumps(v) for v in updates(standin)))

    assert "*3* created" in json.dumps(updates(standin)[-1])
    tasks = titles(wire)
    assert set(tasks) == {"Q3 filing for Acme", "Gather receipts from Acme", "Payroll for Birch"}
    assert tasks["Q3 filing for Acme"].owner_id == "UDANA"
    assert tasks["Gather receipts from Acme"].parent_id == tasks["Q3 filing for Acme"].id
    assert {t.creator_id for t in tasks.values()} == {"UMARCUS"}


async def test_an_export_with_refused_rows_offers_no_button(wire, standin):
    uploaded = standin.upload("bad.csv", b"title,progress\nBudget,140\n", user="UMARCUS")
    await submit(wire, upload_submission(import_views.build_upload_modal(), "UMARCUS", uploaded))
    await settle(lambda: any("Rows refused" in json.dumps(v) for v in updates(standin)))
    preview = updates(standin)[-1]
    assert not any(b["type"] == "actions" for b in preview["blocks"])
    assert "line 2" in json.dumps(preview) and titles(wire) == {}


async def test_a_file_that_is_not_an_export_is_one_sentence(wire, standin):
    uploaded = standin.upload("board.xlsx", b"not a workbook", user="UMARCUS")
    await submit(wire, upload_submission(import_views.build_upload_modal(), "UMARCUS", uploaded))
    await settle(lambda: any("warning" in json.dumps(v) for v in updates(standin)))
    assert "is not an Excel workbook" in json.dumps(updates(standin)[-1])


def test_the_preview_is_valid_block_kit_however_long():
    plan = Plan("trello", create=500)
    for n in range(40):
        plan.example("create", f"Task <{n}> " + "x" * 150)
    plan.unmatched = {f"Person {n}": n for n in range(1, 60)}
    view = import_views.build_preview_modal(plan, "k", storable=True)
    assert not view_errors(view)
    assert "&lt;0&gt;" in json.dumps(view)  # a title is shown, never read as a link


async def test_the_stand_in_serves_an_upload_only_with_the_bot_token(wire, standin):
    uploaded = standin.upload("asana.csv", b"Task ID,Name\n1,A\n")
    async with wire.http.get(uploaded["url_private"]) as resp:
        assert resp.content_type == "text/html"  # Slack's sign-in page, as Slack does
    headers = {"Authorization": f"Bearer {wire.token}"}
    async with wire.http.get(uploaded["url_private"], headers=headers) as resp:
        assert await resp.read() == b"Task ID,Name\n1,A\n"


async def preview_of(w: SlackWire, standin, name: str = "asana.csv") -> dict:
    """A manager uploads the fixture `name` through `w`; the preview Slack showed."""
    uploaded = standin.upload(name, (FIXTURES / name).read_bytes(), user="UMARCUS")
    await submit(w, upload_submission(import_views.build_upload_modal(), "UMARCUS", uploaded))
    await settle(lambda: any("To create" in json.dumps(v) for v in updates(standin)))
    return updates(standin)[-1]


async def test_the_click_is_stored_by_another_replica_after_the_first_stopped(
    standin, database_url
):
    standin.set_email("UDANA", "dana@firm.example")
    first = SlackWire(standin, database_url, london("2026-01-05T09:00"))
    await first.start()
    preview = await preview_of(first, standin)
    await first.stop()  # the replica that showed the preview is gone (a restart, a deploy)

    second = SlackWire(standin, database_url, london("2026-01-05T09:20"))
    await second.start()
    try:
        await second.interact(click_go(preview, "UMARCUS"))
        await settle(lambda: any("created" in json.dumps(v) for v in updates(standin)))
        assert "*3* created" in json.dumps(updates(standin)[-1])
        tasks = titles(second)
        assert set(tasks) == {
            "Q3 filing for Acme",
            "Gather receipts from Acme",
            "Payroll for Birch",
        }
        assert tasks["Q3 filing for Acme"].owner_id == "UDANA"

        await second.interact(click_go(preview, "UMARCUS"))  # the same button again
        await settle(lambda: "expired" in json.dumps(updates(standin)[-1]))
        assert len(titles(second)) == 3  # nothing twice
    finally:
        await second.stop()


async def test_after_half_an_hour_the_preview_has_expired_and_nothing_is_stored(wire, standin):
    preview = await preview_of(wire, standin)
    wire.clock.now += timedelta(minutes=31)
    await wire.interact(click_go(preview, "UMARCUS"))
    await settle(lambda: "expired" in json.dumps(updates(standin)[-1]))
    assert "upload the file again" in json.dumps(updates(standin)[-1])
    assert titles(wire) == {}
