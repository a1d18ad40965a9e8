"""The replay: jumping over idle sweeps changes nothing that was said, and what cannot be known
before it runs becomes a warning."""

from __future__ import annotations

from bot.demo import demo_path
from bot.replay import replay
from bot.scenario import load_scenario, parse_scenario
from bot.simulate import transcript


def scenario(*updates: dict, owner: str = "UDANA", managers: tuple = ("UMARCUS",)) -> dict:
    return {
        "team": {"timezone": "Europe/London", "channel": "CMANAGERS", "managers": list(managers)},
        "people": [{"id": "UDANA"}, {"id": "UMARCUS"}, {"id": "UTOM"}, {"id": "ULEE"}],
        "start": "2026-01-05T08:00",
        "end": "2026-01-16T18:00",
        "tasks": [
            {
                "key": "filing",
                "title": "Q3 filing",
                "owner": owner,
                "creator": "ULEE",
                "created": "2026-01-05T09:00",
                "due": "2026-01-16",
                "updates": list(updates),
            }
        ],
    }


async def test_skipping_idle_sweeps_leaves_the_transcript_unchanged():
    demo = load_scenario(demo_path())
    fast = await replay(demo)
    slow = await replay(demo, skip_idle=False)
    assert fast.swept < slow.swept == fast.sweeps  # it did skip, and counted them all
    assert fast.messages and fast.messages == slow.messages
    assert transcript(fast) == transcript(slow)


async def test_what_cannot_be_known_before_the_replay_is_a_warning_not_a_crash():
    raw = scenario(
        {"at": "2026-01-06T10:00", "by": "UDANA", "snooze": "stalled"},  # no alert open yet
        {"at": "2026-01-07T10:00", "by": "UDANA", "progress": 100},
        {"at": "2026-01-08T10:00", "by": "UDANA", "progress": 50},  # after done
    )
    result = await replay(parse_scenario(raw))
    assert len(result.warnings) == 2
    assert "no open stalled alert to snooze" in result.warnings[0]
    assert "already done" in result.warnings[1]
    assert result.final["filing"]["status"] == "done"
