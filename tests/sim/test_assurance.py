"""The assurance figures of product.md §6, on small hand-made transcripts whose figures are
known: what counts as a ping, an alert, a false alarm, a top-level post, a case posted twice."""

from __future__ import annotations

import json

import pytest

from bot.sim.assurance import judge, render
from bot.sim.simulate import run_simulate
from bot.standin.server import SlackStandIn

SCENARIO = {
    "name": "hand-made",
    "timezone": "Europe/London",
    "holidays": None,
    "channel": "CMANAGERS",
    "people": [
        {"id": "UDANA", "tz": "Europe/London"},
        {"id": "ULEE", "tz": "America/New_York"},
    ],
    "start": "2026-01-05T08:00:00+00:00",
    "end": "2026-01-30T18:00:00+00:00",
    "policy": {"working_hours": "09:00-18:00"},
}


def fact(pattern: str, *, late=False, healthy=False, due="2026-01-30T00:00:00+00:00", **more):
    return {
        "pattern": pattern,
        "late": late,
        "healthy": healthy,
        "troubled": not healthy,
        "due": due,
        "duration_working_days": more.pop("duration", 10.0),
        "knowable_at": more.pop("knowable_at", None),
        "conflict": more.pop("conflict", False),
        "unowned": more.pop("unowned", False),
    }


TRUTH = {
    "scenario": "hand-made",
    "tasks": {
        # Due at the end of Thursday 15 January (London is on UTC in January).
        "late1": fact(
            "staller",
            late=True,
            due="2026-01-16T00:00:00+00:00",
            knowable_at="2026-01-12T09:00:00+00:00",
        ),
        "late2": fact("slow", late=True, due="2026-01-23T00:00:00+00:00", duration=5.0),
        "ok1": fact("healthy", healthy=True),
        "ok2": fact("healthy", healthy=True),
        "orphan": fact("unowned", unowned=True),
        "clash": fact("conflict", conflict=True),
    },
}


def msg(at, to, kind, task=None, rules=(), *, edit=False, tasks=None, thread=None):
    m = {"at": at, "to": to, "kind": kind, "task": task, "rules": list(rules), "edit": edit}
    if tasks is not None:
        m["tasks"] = tasks
    if thread is not None:
        m["thread"] = thread
    return m


MESSAGES = [
    msg("2026-01-13T09:00:00+00:00", "UDANA", "dm", "late1", ["stalled"]),
    msg("2026-01-14T09:00:00+00:00", "CMANAGERS", "escalation", "late1", ["stalled"]),
    msg("2026-01-14T10:00:00+00:00", "CMANAGERS", "escalation", "late1", ["behind_pace"]),
    msg("2026-01-14T09:00:00+00:00", "UDANA", "reminder", "late1", ["stalled"]),
    # A batched DM of the new kind: it names two tasks, one of them healthy.
    msg("2026-01-14T09:30:00+00:00", "UDANA", "dm", None, ["behind_pace"], tasks=["ok1", "late1"]),
    msg("2026-01-14T09:40:00+00:00", "UDANA", "update", "ok2", ["stalled"], edit=True),
    msg("2026-01-14T11:00:00+00:00", "UDANA", "dm", "orphan", ["missing_owner"]),
    msg("2026-01-14T12:00:00+00:00", "UDANA", "reminder", "clash", ["stalled"]),
    # 21:00 in New York on Wednesday 14: Lee's Wednesday, whatever London's date.
    msg("2026-01-15T02:00:00+00:00", "ULEE", "dm", "clash", ["stalled"]),
    # A resolution posted in its case's thread, as transcripts without the flag have it.
    msg("2026-01-15T10:00:00+00:00", "CMANAGERS", "resolution", "late1", ["stalled"]),
    msg("2026-01-20T09:30:00+00:00", "CMANAGERS", "digest", None, ["stalled"],
        tasks=["late1", "clash"], thread=False),
    msg("2026-01-20T11:00:00+00:00", "CMANAGERS", "digest", "clash", ["stalled"], thread=True),
    msg("2026-01-26T10:00:00+00:00", "CMANAGERS", "escalation", "late2", ["overdue"]),
]  # fmt: skip


@pytest.fixture
def figures():
    return judge({"scenario": SCENARIO, "messages": MESSAGES, "tasks": {}}, TRUTH)


def test_recall_counts_alerts_before_the_deadline_only(figures):
    assert (figures.caught, figures.missed, figures.late) == (["late1"], ["late2"], 2)
    assert figures.recall == 0.5


def test_lead_is_working_time_from_the_first_alert_to_the_deadline(figures):
    # Tuesday 09:00 to the end of Thursday: three working days of a ten-day task.
    assert figures.lead_days == pytest.approx(3.0)
    assert figures.lead_share == pytest.approx(0.3)
    # A perfect watcher knew on Monday 09:00: four working days.
    assert figures.watcher_share == pytest.approx(0.4)


def test_a_healthy_task_named_in_a_batched_dm_is_a_false_alarm_and_an_edit_is_not(figures):
    assert [a["task"] for a in figures.false_alarms] == ["ok1"]
    assert figures.false_alarms[0]["rules"] == ["behind_pace"]


def test_owner_pings_per_troubled_task_count_people_not_the_channel(figures):
    # late1: dm, reminder, batched dm; late2: none; orphan: one; clash: two (Dana, Lee).
    assert figures.owner_pings_median == 1.5
    assert (figures.owner_pings_max, figures.owner_pings_max_task) == (3, "late1")


def test_the_busiest_person_and_day_in_their_own_zone(figures):
    assert figures.busiest == {"who": "UDANA", "day": "2026-01-14", "pings": 4}


def test_top_level_posts_a_week_leave_out_thread_replies_and_edits(figures):
    assert figures.channel_weeks == {
        "2026-01-05": 0,
        "2026-01-12": 2,
        "2026-01-19": 1,
        "2026-01-26": 1,
    }
    assert (figures.channel_mean, figures.channel_max) == (1.0, 2)


def test_a_case_posted_on_its_own_twice_in_one_spell_is_named(figures):
    assert [r["task"] for r in figures.reposted] == ["late1"]


def test_conflicts_need_a_conflict_alert_and_unowned_a_missing_owner_one(figures):
    assert (figures.conflicts, figures.conflicts_missed) == ((0, 1), ["clash"])
    assert (figures.unowned, figures.unowned_missed) == ((1, 1), [])


def test_per_pattern_rows(figures):
    assert figures.per_pattern["healthy"] == {
        "tasks": 2,
        "late": 0,
        "caught": 0,
        "healthy": 2,
        "false_alarms": 1,
    }
    assert figures.per_pattern["staller"]["caught"] == 1
    assert figures.per_pattern["slow"] == {
        "tasks": 1,
        "late": 1,
        "caught": 0,
        "healthy": 0,
        "false_alarms": 0,
    }


def _posts(*times_and_kinds):
    return [
        msg(at, "CMANAGERS", kind, "late1", ["stalled"], edit=False, thread=False)
        for at, kind in times_and_kinds
    ]


@pytest.mark.parametrize(
    ("resolved_at", "reposted"),
    [
        ("2026-01-06T10:00:00+00:00", False),  # 6 working days before it opened again
        ("2026-01-12T10:00:00+00:00", True),  # 2 working days: the same case, back
        (None, True),  # never resolved in between
    ],
)
def test_a_case_that_comes_back_within_the_regress_window_is_the_same_case(resolved_at, reposted):
    messages = _posts(("2026-01-05T10:00:00+00:00", "escalation"))
    if resolved_at:
        messages.append(msg(resolved_at, "CMANAGERS", "resolution", "late1", edit=True))
    messages += _posts(("2026-01-14T10:00:00+00:00", "escalation"))
    fig = judge({"scenario": SCENARIO, "messages": messages}, TRUTH)
    assert bool(fig.reposted) is reposted


def test_the_text_gives_every_figure_and_says_which_targets_are_missed(figures):
    text = render(figures, TRUTH)
    assert "MISS recall: 1 of 2 late tasks alerted before their deadline (50.0%" in text
    assert "ok   lead: median 3.0 working days, 0.30 of the task's duration" in text
    assert "missed: late2 (slow)" in text
    assert "MISS false alarms: 1 of 2 healthy tasks alerted" in text
    assert "ok1 (healthy): first 2026-01-14T09:30, behind_pace" in text
    assert "MISS most pings to one person on one day: 4 (UDANA, 2026-01-14)" in text
    assert "ok   managers' channel, top-level posts a week: mean 1.0, max 2" in text
    assert "MISS cases posted on their own more than once: 1" in text
    assert "MISS planning conflicts alerted: 0 of 1; missed clash" in text
    assert "ok   tasks without an owner alerted: 1 of 1" in text
    data = figures.as_dict()
    assert data["recall"] == 0.5 and data["meets"]["lead"] and not data["meets"]["recall"]


SMALL = """\
team: {timezone: Europe/London, channel: CMANAGERS, managers: [UMARCUS]}
people: [{id: UDANA}, {id: UMARCUS}]
start: 2026-01-05T08:00
end: 2026-01-16T18:00
tasks:
  - {key: filing, title: Q3 filing, owner: UDANA, creator: UMARCUS, created: 2026-01-05T09:00,
     due: 2026-01-16, updates: [{at: 2026-01-06T10:00, by: UDANA, progress: 20}]}
"""


def test_simulate_with_a_truth_prints_the_figures(tmp_path, capsys):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SMALL)
    truth = tmp_path / "t.json"
    facts = {"filing": fact("staller", late=True, due="2026-01-17T00:00:00+00:00", duration=10)}
    truth.write_text(json.dumps({"tasks": facts}))
    assert run_simulate(str(scenario), None, [], truth_path=str(truth)) == 0
    out = capsys.readouterr().out
    assert "ok   recall: 1 of 1 late tasks alerted before their deadline (100.0%" in out


def test_a_truth_about_another_scenario_is_refused_before_anything_runs(tmp_path, capsys):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SMALL)
    truth = tmp_path / "t.json"
    truth.write_text(json.dumps({"tasks": {"payroll": fact("healthy", healthy=True)}}))
    standin = SlackStandIn()
    assert run_simulate(str(scenario), None, [], standin=standin, truth_path=str(truth)) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"vigil: --truth: {truth} is not about this scenario: it has tasks payroll that s does not"
    )
    assert standin.calls == []
