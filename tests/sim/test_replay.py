"""The replay: jumping over idle sweeps changes nothing that was said, and an update obeys the
same rule as the slash commands (the owner, the creator or a manager may change a task)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from bot.db import make_engine, transaction
from bot.models import Event
from bot.sim.demo import demo_path
from bot.sim.replay import replay
from bot.sim.scenario.load import load_scenario, parse_scenario
from bot.sim.simulate import transcript
from bot.standin.server import SlackStandIn


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


async def test_an_update_by_someone_who_may_not_change_the_task_is_refused(tmp_path):
    raw = scenario(
        {"at": "2026-01-06T10:00", "by": "UTOM", "progress": 40},  # neither owner nor creator
        {"at": "2026-01-07T10:00", "by": "UDANA", "progress": 50},  # the owner
        {"at": "2026-01-08T10:00", "by": "UMARCUS", "progress": 60},  # a manager
        {"at": "2026-01-09T10:00", "by": "ULEE", "progress": 70},  # the creator
    )
    result = await replay(parse_scenario(raw), workdir=tmp_path)
    task = result.final["filing"]
    progress = [(e["by"], e["new"]) for e in task["history"] if e["kind"] == "progress"]
    assert progress == [("UDANA", "50"), ("UMARCUS", "60"), ("ULEE", "70")]
    assert result.refused == [
        {"at": "2026-01-06T10:00:00+00:00", "task": "filing", "by": "UTOM", "what": "progress 40"}
    ]
    assert len(result.warnings) == 1
    assert (
        "progress 40 by UTOM refused: Only the owner, the creator or a manager can change #1"
        in (result.warnings[0])
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'replay.db'}")
    with transaction(engine) as session:  # the refused update left no trace
        assert session.execute(select(func.count()).where(Event.actor == "UTOM")).scalar() == 0
    engine.dispose()


async def test_a_former_owner_may_no_longer_change_the_task():
    raw = scenario(
        {"at": "2026-01-06T10:00", "by": "UMARCUS", "owner": "UTOM"},
        {"at": "2026-01-07T10:00", "by": "UDANA", "progress": 40},  # no longer the owner
        {"at": "2026-01-07T11:00", "by": "UTOM", "progress": 45},  # the new owner
    )
    result = await replay(parse_scenario(raw))
    assert [r["by"] for r in result.refused] == ["UDANA"]
    assert result.final["filing"]["progress"] == 45


async def test_what_cannot_be_known_before_the_replay_is_a_warning_not_a_crash():
    raw = scenario(
        {"at": "2026-01-06T10:00", "by": "UDANA", "snooze": "stalled"},  # no alert open yet
        {"at": "2026-01-07T10:00", "by": "UDANA", "progress": 100},
        {"at": "2026-01-08T10:00", "by": "UDANA", "progress": 50},  # after done
    )
    result = await replay(parse_scenario(raw))
    assert len(result.warnings) == 2 and result.refused == []
    assert "no open stalled alert to snooze" in result.warnings[0]
    assert "already done" in result.warnings[1]
    assert result.final["filing"]["status"] == "done"


async def test_what_happens_after_the_last_sweep_still_counts_in_the_final_state():
    raw = scenario({"at": "2026-01-16T18:05", "by": "UDANA", "progress": 100})
    raw["end"] = "2026-01-16T18:10"  # the last sweep of 30 minutes is at 18:00
    result = await replay(parse_scenario(raw))
    assert result.final["filing"]["status"] == "done"
    assert result.final["filing"]["closed_at"] == "2026-01-16T18:05:00+00:00"


class StatusStandIn(SlackStandIn):
    """The stand-in, keeping every status it was told to show."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.statuses: list[tuple[str, str, str, int]] = []

    def set_status(self, user_id: str, text: str, emoji: str, expiration: int) -> dict:
        self.statuses.append((user_id, text, emoji, expiration))
        return super().set_status(user_id, text, emoji, expiration)


async def test_a_person_away_is_shown_away_then_back_and_gets_no_dm_meanwhile():
    raw = scenario({"at": "2026-01-06T10:00", "by": "UDANA", "progress": 20})
    raw["people"][0]["away"] = [
        {
            "from": "2026-01-07T00:00",
            "until": "2026-01-09T00:00",
            "emoji": ":palm_tree:",
            "text": "Vacation",
        }
    ]
    standin = StatusStandIn(token="xoxb-standin")
    result = await replay(parse_scenario(raw), standin=standin)
    until = int(datetime(2026, 1, 9, tzinfo=UTC).timestamp())  # London is on UTC in January
    assert standin.statuses == [
        ("UDANA", "Vacation", ":palm_tree:", until),
        ("UDANA", "", "", 0),
    ]
    assert not [m for m in result.messages if m.to == "UDANA" and m.at.day in (7, 8)]
