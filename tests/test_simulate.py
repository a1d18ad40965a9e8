"""`python -m bot simulate`: Marcus's quarter, the quiet month, the JSON transcript that
recomputes the report, policy overrides, and precise errors for a malformed scenario."""

from __future__ import annotations

import contextlib
import io
import json
import re
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml

from bot.calendar import WorkCalendar
from bot.replay import replay
from bot.scenario import load_scenario, parse_scenario
from bot.simulate import run_simulate

SCENARIOS = Path(__file__).parent.parent / "data" / "scenarios"
MARCUS = SCENARIOS / "marcus-quarter.yaml"
QUIET = SCENARIOS / "quiet-month.yaml"


def flags(result, task):
    return [
        m
        for m in result.messages
        if m.task == task and not m.edit and m.kind in ("dm", "escalation")
    ]


@pytest.fixture(scope="module")
def marcus_run(tmp_path_factory):
    """One replay of Marcus's quarter through the command, with its printed report and JSON."""
    out = tmp_path_factory.mktemp("sim") / "marcus.json"
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = run_simulate(str(MARCUS), str(out), [])
    assert code == 0
    return buffer.getvalue(), json.loads(out.read_text())


def test_the_filing_is_flagged_on_the_4th_working_day_and_to_managers_a_day_later(marcus_run):
    printed, data = marcus_run
    filing = [m for m in data["messages"] if m["task"] == "filing" and not m["edit"]]
    first_dm = next(m for m in filing if m["kind"] == "dm")
    first_escalation = next(m for m in filing if m["kind"] == "escalation")
    # 40% on Monday 9 November; Tue, Wed, Thu without progress; Friday 13 is the 4th day.
    assert (first_dm["at"], first_dm["to"], first_dm["rules"]) == (
        "2026-11-13T09:00:00+00:00",
        "UDANA",
        ["stalled"],
    )
    assert (first_escalation["at"], first_escalation["to"]) == (
        "2026-11-16T09:00:00+00:00",
        "CMANAGERS",
    )
    assert re.search(
        r"filing\s+Fri 27 Nov\s+Fri 4 Dec\s+Fri 13 Nov \(Dana\)\s+10 working days before", printed
    )


def test_the_json_transcript_recomputes_the_reports_figures(marcus_run):
    printed, data = marcus_run
    cal = WorkCalendar(data["scenario"]["timezone"], data["scenario"]["holidays"])
    new = [m for m in data["messages"] if not m["edit"]]
    # Managers' messages per week, counted here from the raw messages.
    weeks = Counter()
    for m in new:
        if m["kind"] == "escalation":
            day = cal.local_date(datetime.fromisoformat(m["at"]))
            weeks[day - timedelta(days=day.weekday())] += 1
    for week, n in weeks.items():
        assert re.search(rf"w/c \w+ {week.day} {week:%b}\s+█+ {n}\n", printed)
    assert f"{sum(weeks.values())} managers' messages" in printed
    # DMs and reminders per person, in total.
    per_person = Counter(m["to"] for m in new if m["kind"] in ("dm", "reminder"))
    names = {p["id"]: p["name"] for p in data["scenario"]["people"]}
    for person, n in per_person.items():
        assert re.search(rf"\n  {names[person]}\s.*\s{n}\n", printed)
    # Late tasks: finished after the deadline, from the final states.
    late = [
        k
        for k, t in data["tasks"].items()
        if t["due"]
        and t["closed_at"]
        and t["closed_at"] > t["due"]
        or (t["status"] == "open" and t["due"] and t["due"] < data["scenario"]["end"])
    ]
    assert f"Late or never finished: {len(late)} of {len(data['tasks'])} tasks" in printed
    assert late == ["filing"]


async def test_a_quiet_month_sends_nothing_to_the_managers():
    result = await replay(load_scenario(QUIET))
    assert result.warnings == []
    assert [m for m in result.messages if m.to == "CMANAGERS"] == []
    assert result.messages == []  # and nothing to anyone: silence means on track


async def test_holidays_keep_christmas_week_from_looking_like_a_stall():
    raw = yaml.safe_load(MARCUS.read_text())
    raw["tasks"] = [t for t in raw["tasks"] if t["key"] == "dec-payroll"]
    with_holidays = await replay(parse_scenario(raw))
    assert flags(with_holidays, "dec-payroll") == []
    raw["team"]["holidays"] = None  # 25 and 28 December become working days
    without = await replay(parse_scenario(raw))
    assert [m.rules for m in flags(without, "dec-payroll")] == [("stalled",)]


async def test_a_policy_override_changes_what_is_said():
    stricter = await replay(load_scenario(MARCUS, ["stall_days=5"]))
    first = flags(stricter, "filing")[0]
    assert first.at.isoformat() == "2026-11-17T09:00:00+00:00"  # the 6th working day


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "team: {timezone: Europe/London, channel: CMANAGERS}\npeople: []\nstart: 2026-01-05T08:00\nend: 2026-01-01T08:00\ntasks: []\n",
            "end: must be after start",
        ),
        ("team: [1, 2]\n", "team: expected a mapping"),
        ("{{{", "not valid YAML"),
    ],
)
def test_a_malformed_scenario_is_refused_with_where_and_what(tmp_path, capsys, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    assert run_simulate(str(path), str(tmp_path / "out.json"), []) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out.json").exists()  # nothing run, nothing written


def test_a_bad_policy_override_is_refused(tmp_path, capsys):
    assert run_simulate(str(MARCUS), None, ["stall_days=soon"]) == 2
    assert "--policy: stall_days takes a whole number" in capsys.readouterr().err
