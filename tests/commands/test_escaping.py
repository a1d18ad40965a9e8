"""Text people type is shown, never acted on: every reply, DM, form and Home view the commands
and buttons produce is scanned for markup Slack would act on (`<!channel>`, a placeholder such
as `<title>` read as a link, a typed `<@U…>`) that the bot did not make itself."""

from __future__ import annotations

import json
from types import SimpleNamespace

from bot.slack import ids
from bot.standin.wire import settle
from tests.slackio import click, dm_click, new_task_form, submit
from tests.slackmarkup import mrkdwn_texts, stray

PEOPLE = ("UDANA", "UMARCUS", "ULEE", "UTOM")
HOSTILE = "<!channel> &amp; &lt;@UEVIL&gt; <!here|here> <http://evil.example|click> <#C1|general>"


def message(task_id: int, *action_ids: str) -> SimpleNamespace:
    """A message of Vigil's with buttons on task `task_id`, as a click payload carries it."""
    elements = [{"type": "button", "action_id": a, "value": "x"} for a in action_ids]
    return SimpleNamespace(
        channel="D0DANA",
        ts="1.000001",
        text="Vigil",
        blocks=[
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*#{task_id}*"}},
            {
                "type": "actions",
                "block_id": ids.context_block_id(task_id, None, "m"),
                "elements": elements,
            },
        ],
    )


def everything_shown(standin) -> list[tuple[str, str]]:
    """(where, text) for every mrkdwn text the app sent anywhere."""
    found = []
    for response in standin.responses:
        found += [("response", t) for t in mrkdwn_texts(response)]
    for call in standin.calls:
        shown = {k: v for k, v in call.params.items() if k in ("text", "blocks", "view")}
        found += [(call.method, t) for t in mrkdwn_texts(shown)]
    return found


async def test_no_reply_view_or_dm_lets_slack_act_on_what_someone_typed(wire, standin):
    commands = [
        ("UMARCUS", f"add {HOSTILE} <@UDANA|dana> due 2026-02-27"),
        ("UDANA", f"progress 1 20 {HOSTILE}"),
        ("UDANA", "1"),
        ("UDANA", "list"),
        ("UDANA", f"block 1 {HOSTILE}"),
        ("UDANA", "unblock 1"),
        ("UMARCUS", "team"),
        ("UDANA", "help"),
        ("UDANA", "<!channel>"),
        ("UDANA", "done <!here>"),
        ("UDANA", "due 1 friday <!channel>"),
        ("UDANA", "due 1 &lt;date&gt;"),
        ("UDANA", "progress &lt;id&gt; 5"),
        ("UDANA", f"add {HOSTILE} due yesterday"),
        ("UDANA", "add Unowned and undated"),
        ("ULEE", "progress 1 50"),  # refused: names the owner to ask
        ("UDANA", "assign 1 <@UNOBODY|ghost>"),
    ]
    for user, text in commands:
        assert await wire.command(text, user=user) is not None, text

    # The forms: a title typed into the modal, a note, a reason.
    await submit(wire, new_task_form(title="<!channel> & <@U1> <title>", owner="UDANA"))
    other = message(1, ids.ACTION_PROGRESS_OTHER)
    await wire.interact(dm_click(wire, other, {"action_id": ids.ACTION_PROGRESS_OTHER}))
    await settle(lambda: standin.calls_to("views.open"))
    progress = standin.calls_to("views.open")[-1].params["view"]
    await submit(
        wire,
        {
            **progress,
            "id": "V0P",
            "state": {
                "values": {
                    ids.INPUT_PROGRESS: {
                        ids.INPUT_PROGRESS: {"type": "number_input", "value": "60"}
                    },
                    ids.INPUT_NOTE: {
                        ids.INPUT_NOTE: {"type": "plain_text_input", "value": "<!here>"}
                    },
                }
            },
        },
    )
    await settle(lambda: standin.calls_to("chat.update"))
    # A manager pings the owner: the DM names the commands with their placeholders.
    await click(
        wire,
        message(1, ids.ACTION_PING_OWNER),
        {"action_id": ids.ACTION_PING_OWNER},
        user="UMARCUS",
    )
    await wire.event({"type": "app_home_opened", "user": "ULEE", "tab": "home"})  # empty Home
    await wire.event({"type": "app_home_opened", "user": "UMARCUS", "tab": "home"})
    await settle(lambda: len(standin.calls_to("views.publish")) >= 2)

    shown = everything_shown(standin)
    methods = {where for where, _ in shown}
    assert {"response", "chat.postMessage", "chat.update", "views.publish", "views.open"} <= methods
    leaks = [(where, text, stray(text, PEOPLE)) for where, text in shown if stray(text, PEOPLE)]
    assert not leaks, json.dumps(leaks, indent=1, ensure_ascii=False)
    # ...and escaped exactly once: no entity shows up escaped a second time.
    twice = [(where, text) for where, text in shown if "&amp;lt;" in text or "&amp;gt;" in text]
    assert not twice, twice
    # What was typed still shows, as text.
    everything = json.dumps(shown, ensure_ascii=False)
    assert "@channel" in everything and "&lt;title&gt;" in everything
