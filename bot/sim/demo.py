"""`python -m bot demo`: two weeks of a small firm, replayed through the real monitor against
the built-in Slack stand-in, printed as the conversation it produced, day by day."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from bot.sim.replay import calendar_for, replay
from bot.sim.report import compute_report, render_report
from bot.sim.scenario.load import load_scenario
from bot.sim.simulate import transcript
from bot.sim.transcript import Message, ReplayResult
from bot.slack.blocks import day_label


def demo_path() -> Path:
    return Path(str(resources.files("bot.sim") / "scenarios" / "demo.yaml"))


def _plain(text: str, names: dict[str, str]) -> str:
    text = " ".join(text.split())
    text = re.sub(r"<@([A-Z0-9]+)>", lambda m: "@" + names.get(m.group(1), m.group(1)), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def render_conversation(result: ReplayResult) -> str:
    """Every message as the people would see it, day by day: new messages, replies in a thread
    (indented), and edits of a message already there, marked as edits (they notify nobody)."""
    scenario = result.scenario
    cal = calendar_for(scenario)
    names = {p.id: p.name or p.id for p in scenario.people}
    names[scenario.channel] = "#managers"
    lines: list[str] = []
    day = None
    for msg in result.messages:
        local = msg.at.astimezone(cal.tz)
        if local.date() != day:
            day = local.date()
            lines.append("")
            lines.append(f"{day_label(day)} {day.year}")
        who = names.get(msg.to, msg.to)
        lines.append(f"  {local:%H:%M}  {_kind(msg, who):<28} {_plain(msg.text, names)}")
    return "\n".join(lines)


def _kind(msg: Message, who: str) -> str:
    if msg.edit:
        return f"  ✎ edited ({who})"
    if msg.thread:
        return f"  ↳ in the thread ({who})"
    if msg.kind in ("dm", "reminder"):
        return f"{'DM' if msg.kind == 'dm' else 'reminder'} → {who}"
    if msg.kind == "digest":
        return f"digest → {who}"
    return f"→ {who}"


def summary(result: ReplayResult) -> str:
    pings = [m for m in result.messages if not m.edit]
    counts = {kind: sum(1 for m in pings if m.kind == kind) for kind in ("dm", "reminder", "digest", "escalation")}
    threads = sum(1 for m in pings if m.thread)
    own = sum(1 for m in pings if m.kind == "escalation" and not m.thread)
    edits = len(result.messages) - len(pings)
    named = {t for m in result.messages for t in m.tasks}
    quiet = [k for k in result.final if k not in named]
    return (
        f"{result.sweeps} sweeps; {counts['dm']} DMs, {counts['reminder']} reminders, "
        f"{counts['digest']} managers' digests, {own} managers' "
        f"messages of their own, {threads} replies in a thread, {edits} edits of a message "
        f"already there (an edit notifies nobody). {len(quiet)} of {len(result.final)} tasks "
        "went to plan and Vigil said nothing about them: silence means on track."
    )


async def run_demo() -> int:
    started = time.perf_counter()
    scenario = load_scenario(demo_path())
    print(
        f"Vigil demo: {len(scenario.people)} people, {len(scenario.tasks)} tasks, "
        f"{day_label(scenario.start.date())} to {day_label(scenario.end.date())} {scenario.end.year}, "
        f"a sweep every {int(scenario.sweep_every.total_seconds() // 60)} minutes of simulated time.\n"
        "Everything below went through the real rules, ladder and Slack Web API calls "
        "(to a local stand-in): no Slack account needed."
    )
    result = await replay(scenario)
    print(render_conversation(result))
    print()
    print(summary(result))
    print()
    data = transcript(result)
    print(render_report(compute_report(data), data))
    for warning in result.warnings:
        print(f"warning: {warning}")
    print()
    print("And from Slack itself: signed requests to the real app, as Slack sends them.")
    for line in await slack_tour():
        print(line)
    print(f"\n(all in {time.perf_counter() - started:.1f} s)")
    return 0


async def slack_tour() -> list[str]:
    """A few slash commands and a button click through the real Bolt app over HTTP."""
    import tempfile

    from bot.standin import SlackStandIn
    from bot.standin.wire import MANAGERS, SlackWire, settle

    names = {"UMARCUS": "Marcus", "UOMAR": "Omar"}
    standin = SlackStandIn(token="xoxb-test")
    for user, name in names.items():
        standin.add_user(user, name=name, tz="Europe/London")
    standin.add_channel(MANAGERS, name="managers")
    await standin.start()
    monday = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
    with tempfile.TemporaryDirectory(prefix="vigil-tour-") as tmp:
        wire = SlackWire(standin, f"sqlite:///{tmp}/tour.db", monday)
        await wire.start()
        try:
            out = await _typed(wire, names)
            report = await wire.sweep(datetime(2026, 2, 6, 9, 30, tzinfo=UTC))
            dm = standin.messages(standin.dm_channel("UOMAR"))[-1]
            out.append(
                f"  Friday's sweep: {len(report.sent)} message(s); Omar's DM: {_plain(dm.text, names)}"
            )
            wire.clock.now = datetime(2026, 2, 6, 10, 0, tzinfo=UTC)
            clicked = await _click_done(wire, dm, "UOMAR")
            out.append(
                f"  Omar clicks Done ↳ the DM becomes: {_plain(clicked['text'], names) if clicked else '?'}"
            )
            await wire.sweep(datetime(2026, 2, 6, 10, 5, tzinfo=UTC))
            await settle(lambda: True)
            out.append(
                f"  The next sweep edits it: {_plain(standin.messages(dm.channel)[-1].text, names)}"
            )
        finally:
            await wire.stop()
            await standin.stop()
    return out


async def _typed(wire, names: dict[str, str]) -> list[str]:  # type: ignore[no-untyped-def]
    """Commands as people type them, each with the answer only they see."""
    out: list[str] = []
    for user, text in (
        ("UMARCUS", "add Board pack for Birch <@UOMAR|omar> due friday"),
        ("UOMAR", "progress 1 150"),
        ("UOMAR", "progress 1 30 first draft"),
        ("UOMAR", "due 1 yesterday"),
    ):
        answer = await wire.command(text, user=user)
        shown = text.replace("<@UOMAR|omar>", "@omar")
        out.append(f"  {names[user]:<7} /task {shown}")
        out.append(f"          ↳ {_plain(answer['text'], names) if answer else '(no answer)'}")
    return out


async def _click_done(wire, dm, user: str) -> dict | None:  # type: ignore[no-untyped-def]
    """`user` clicks Done on the DM, as Slack posts the click; the app's answer on the
    response URL."""
    from bot.slack import ids

    standin = wire.standin
    block = next(b for b in dm.blocks if b["type"] == "actions")
    before = len(standin.responses)
    await wire.interact(
        {
            "type": "block_actions",
            "user": {"id": user},
            "team": {"id": "T0STANDIN"},
            "api_app_id": "A0VIGIL",
            "trigger_id": "tour",
            "response_url": standin.response_url("tour"),
            "container": {"type": "message", "channel_id": dm.channel, "message_ts": dm.ts},
            "message": {"ts": dm.ts, "text": dm.text, "blocks": dm.blocks},
            "actions": [
                {
                    "action_id": ids.ACTION_DONE,
                    "block_id": block["block_id"],
                    "type": "button",
                    "value": "done",
                }
            ],
        }
    )
    return await wire.next_response(before)
