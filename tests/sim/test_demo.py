"""`python -m bot demo` tells the story product.md promises, through the real monitor."""

import asyncio

import pytest

from bot.sim.demo import demo_path, render_conversation, summary
from bot.sim.replay import replay
from bot.sim.scenario import load_scenario
from bot.standin import SlackStandIn
from tests.blockkit import block_errors


@pytest.fixture(scope="module")
def demo():
    """One replay of the demo, against a stand-in that checks every message's Block Kit."""
    standin = SlackStandIn(token="xoxb-standin", block_validator=block_errors)
    result = asyncio.run(replay(load_scenario(demo_path()), standin=standin))
    return result, standin


def test_the_demo_catches_the_filing_on_the_4th_working_day_and_tells_managers_a_day_later(
    demo,
):
    result, _ = demo
    filing = [m for m in result.messages if m.task == "filing" and not m.edit]
    first_dm = next(m for m in filing if m.kind == "dm" and "stalled" in m.rules)
    escalation = next(m for m in filing if m.kind == "escalation")
    # Progress on Tuesday 6 January; Wed, Thu, Fri, Mon: flagged on Monday 12 at 09:00.
    assert first_dm.at.isoformat() == "2026-01-12T09:00:00+00:00" and first_dm.to == "UDANA"
    assert escalation.at.isoformat() == "2026-01-13T09:00:00+00:00" and escalation.to == "CMANAGERS"
    assert any(m.kind == "resolution" for m in result.messages if m.task == "filing")
    # The payroll run goes overdue: owner and managers hear at once, on Monday morning.
    overdue = [
        m for m in result.messages if m.task == "payroll" and "overdue" in m.rules and not m.edit
    ]
    assert {m.kind for m in overdue} >= {"dm", "escalation"}
    # Work that goes to plan gets no message at all.
    for quiet in ("invoices", "ledger", "tax-hale", "backup", "pension"):
        assert not [m for m in result.messages if m.task == quiet], quiet
    assert result.warnings == []
    text = render_conversation(result)
    assert "Mon 12 Jan 2026" in text and "#managers" in text


def test_the_conversation_shows_every_resolution_once(demo):
    result, _ = demo
    text = render_conversation(result)
    resolved = [line for line in text.splitlines() if "✓" in line]
    # Each resolution is shown once: by the managers' thread reply where they heard of it, by
    # the edit of the owner's DM where only the owner did.
    in_thread = sum("✓ #managers" in line for line in resolved)
    assert in_thread and len(resolved) > in_thread
    assert (
        "  11:00  ✓ DM to Sara edited        Resolved: #10 Update the client onboarding "
        "checklist is no longer without a deadline" in text
    )
    assert text.index("Mon 5 Jan 2026") < text.index("11:00  ✓ DM to Sara") < text.index("Tue 6")
    assert (
        f"{len(resolved)} findings resolved ({in_thread} of them in the managers' thread)"
        in summary(result)
    )


def test_every_message_the_demo_sends_is_valid_block_kit(demo):
    result, standin = demo
    posted = [c for c in standin.calls if c.method in ("chat.postMessage", "chat.update")]
    assert len(posted) == len(result.messages)
    failed = [c.response for c in posted if not c.response["ok"]]
    assert failed == []
