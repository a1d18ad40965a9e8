"""`python -m bot demo` tells the story product.md promises, through the real monitor."""

from bot.demo import demo_path, render_conversation
from bot.replay import replay
from bot.scenario import load_scenario


async def test_the_demo_catches_the_filing_on_the_4th_working_day_and_tells_managers_a_day_later():
    result = await replay(load_scenario(demo_path()))
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
