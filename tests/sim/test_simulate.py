"""`python -m bot simulate`: Marcus's quarter, the quiet month, the JSON transcript that
recomputes every figure of the report, each policy override, people in other time zones, and
the report's own arithmetic."""

from __future__ import annotations

import contextlib
import io
import json
import re
from collections import Counter
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
import yaml

from bot.calendar import WorkCalendar
from bot.sim.replay import replay
from bot.sim.scenario.load import load_scenario, parse_scenario
from bot.sim.simulate import run_simulate
from bot.standin import SlackStandIn

SCENARIOS = Path(__file__).parents[2] / "data" / "scenarios"
MARCUS = SCENARIOS / "marcus-quarter.yaml"
QUIET = SCENARIOS / "quiet-month.yaml"
DAY = r"\w{3} \d{1,2} \w{3}"


def flags(messages: list[dict], task: str) -> list[dict]:
    """The messages that flagged `task` to someone: its owner's DM, the managers' digest or
    a message of its own (not edits; a batched DM or a digest names several tasks)."""
    return [
        m
        for m in messages
        if task in m["tasks"] and not m["edit"] and m["kind"] in ("dm", "escalation", "digest")
    ]


def simulate(tmp_path: Path, scenario: Path | dict, *overrides: str) -> tuple[str, dict]:
    """Run the command as a user would; what it printed, and the JSON it wrote."""
    if isinstance(scenario, dict):
        path = tmp_path / f"{scenario['name']}.yaml"
        path.write_text(yaml.safe_dump(scenario, sort_keys=False))
        scenario = path
    out = tmp_path / f"{scenario.stem}-{len(list(tmp_path.iterdir()))}.json"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert run_simulate(str(scenario), str(out), list(overrides)) == 0
    return printed.getvalue(), json.loads(out.read_text())


def firm(*tasks: dict, end: str = "2026-01-23T18:00") -> dict:
    """A small firm over three weeks of January, with the tasks given."""
    return {
        "name": "small",
        "team": {
            "timezone": "Europe/London",
            "holidays": "GB-ENG",
            "channel": "CMANAGERS",
            "managers": ["UMARCUS"],
        },
        "people": [
            {"id": "UDANA", "name": "Dana", "tz": "Europe/London"},
            {"id": "UMARCUS", "name": "Marcus", "tz": "Europe/London"},
            {"id": "ULEE", "name": "Lee", "tz": "America/New_York"},
            {"id": "UTOM", "name": "Tom", "tz": "Europe/London"},
        ],
        "start": "2026-01-05T08:00",
        "end": end,
        "tasks": list(tasks),
    }


def stuck(key: str = "filing", owner: str = "UDANA", *updates: dict) -> dict:
    """A task that reaches 40% on Tuesday 6 January and then sits there past its deadline."""
    return {
        "key": key,
        "title": f"Work {key}",
        "owner": owner,
        "creator": "UMARCUS",
        "created": "2026-01-05T09:00",
        "due": "2026-01-21",
        "updates": [{"at": "2026-01-06T10:00", "by": owner, "progress": 40}, *updates],
    }


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture(scope="module")
def stuck_run(tmp_path_factory):
    """The default policy on two stuck tasks: Dana's in London, Lee's in New York. Each
    override below is compared with this run."""
    path = tmp_path_factory.mktemp("stuck") / "stuck.yaml"
    path.write_text(yaml.safe_dump(firm(stuck(), stuck("boston", "ULEE")), sort_keys=False))
    return path, *simulate(path.parent, path)


# -- Marcus's quarter ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def marcus_run(tmp_path_factory):
    """One replay of Marcus's quarter through the command, with its printed report and JSON."""
    return simulate(tmp_path_factory.mktemp("sim"), MARCUS)


def test_the_filing_is_flagged_on_the_4th_working_day_and_to_managers_a_day_later(marcus_run):
    printed, data = marcus_run
    first_dm, first_escalation = flags(data["messages"], "filing")[:2]
    # 40% on Monday 9 November; Tue, Wed, Thu without progress; Friday 13 is the 4th day.
    assert (first_dm["at"], first_dm["to"], first_dm["rules"]) == (
        "2026-11-13T09:00:00+00:00",
        "UDANA",
        ["stalled"],
    )
    # The managers hear of it in Monday's digest, at 09:30.
    assert (first_escalation["at"], first_escalation["to"], first_escalation["kind"]) == (
        "2026-11-16T09:30:00+00:00",
        "CMANAGERS",
        "digest",
    )
    assert re.search(
        r"filing\s+Fri 27 Nov\s+Fri 4 Dec\s+Fri 13 Nov \(Dana\)\s+10 working days before", printed
    )


def test_the_json_writes_typed_settings_and_each_tasks_parent(marcus_run):
    _, data = marcus_run
    policy = data["scenario"]["policy"]
    assert policy["stall_days"] == 3 and policy["reminder_cap"] == 2 and policy["digest"] == "on"
    assert policy["working_hours"] == "09:00-18:00" and policy["disabled"] == []
    assert data["tasks"]["acme-stock"]["parent"] == "acme-pack"
    assert data["tasks"]["filing"]["parent"] is None
    assert all("blocked_reason" in t for t in data["tasks"].values())


def recompute(data: dict) -> dict:
    """Every figure of the report, from the JSON transcript alone."""
    sc = data["scenario"]
    start_h, end_h = (time.fromisoformat(t) for t in sc["policy"]["working_hours"].split("-"))
    cal = WorkCalendar(sc["timezone"], sc["holidays"], start_h, end_h)
    end = at(sc["end"])
    sent = [m for m in data["messages"] if not m["edit"]]

    def week(m: dict):
        day = cal.local_date(at(m["at"]))
        return day - timedelta(days=day.weekday())

    figures: dict = {"late": {}, "noise": {}}
    for key, task in data["tasks"].items():
        due = at(task["due"]) if task["due"] else None
        closed = at(task["closed_at"]) if task["closed_at"] else None
        finished_late = task["status"] == "done" and due and closed > due
        never = task["status"] in ("open", "blocked") and due and due <= end
        alerts = [
            m
            for m in sent
            if key in m["tasks"] and m["kind"] in ("dm", "reminder", "escalation", "digest")
        ]
        if task["status"] == "done" and not finished_late and alerts:
            figures["noise"][key] = (len(alerts), Counter(r for m in alerts for r in m["rules"]))
        if not (finished_late or never):
            continue
        first = flags(data["messages"], key)[0]
        flagged = at(first["at"])
        flag_day, due_day = cal.local_date(flagged), cal.local_date(due - timedelta(seconds=1))
        lead = cal.working_days_between(flag_day, due_day)
        # The stall clock restarts on a change of progress or owner, or an unblock.
        restarts = [
            at(e["at"])
            for e in task["history"]
            if at(e["at"]) <= flagged
            and (
                e["kind"] == "created"
                or e["kind"] in ("progress", "owner")
                and e["old"] != e["new"]
                or (e["kind"], e["old"], e["new"]) == ("status", "blocked", "open")
            )
        ]
        silence = cal.working_seconds(max(restarts), flagged) / cal.day_seconds()
        figures["late"][key] = (flagged, first["to"], lead, round(silence, 1))
    figures["managers"] = Counter(
        week(m) for m in sent if m["kind"] in ("escalation", "digest") and not m["thread"]
    )
    figures["dms"] = Counter((m["to"], week(m)) for m in sent if m["kind"] in ("dm", "reminder"))
    return figures


def read_report(printed: str, names: dict[str, str]) -> dict:
    """The same figures, read back from the printed report."""
    figures: dict = {"late": {}, "noise": {}}
    for m in re.finditer(
        rf"\n  (\S+)\s+{DAY}\s+(?:{DAY}|-)\s+({DAY}) \((\w+)\)\s+(\d+) working days before"
        rf"\s+([\d.]+) working days\n",
        printed,
    ):
        figures["late"][m[1]] = (m[2], m[3], int(m[4]), float(m[5]))
    longest = re.search(
        r"Longest silence before a late task was flagged: ([\d.]+) working days \((\S+)\)", printed
    )
    figures["longest"] = (float(longest[1]), longest[2])
    noise = printed.split("Alerts on tasks that finished on time:")[1].split("\n\n")[0]
    for line in noise.splitlines()[1:]:
        key, n, rules = line.split(maxsplit=2)
        figures["noise"][key] = (
            int(n),
            dict((r, int(c)) for r, c in (x.split() for x in rules.split(", "))),
        )
    figures["managers"] = {m[1]: int(m[2]) for m in re.finditer(rf"w/c ({DAY})\s+(\d+)", printed)}
    table = printed.split("DMs and reminders per person per week\n")[1].split("\n\n")[0]
    head, *rows = table.splitlines()
    weeks = head.split()[:-1]
    by_name = {v: k for k, v in names.items()}
    figures["dms"] = {}
    for row in rows:
        name, *cells, _total = row.split()
        for w, cell in zip(weeks, cells, strict=True):
            if cell != "·":
                figures["dms"][(by_name[name], w)] = int(cell)
    return figures


def test_the_json_transcript_recomputes_every_figure_of_the_report(marcus_run):
    printed, data = marcus_run
    names = {p["id"]: p["name"] for p in data["scenario"]["people"]}
    mine, shown = recompute(data), read_report(printed, names)
    cal = WorkCalendar(data["scenario"]["timezone"], data["scenario"]["holidays"])

    def label(moment: datetime) -> str:
        day = cal.local_date(moment)
        return f"{day:%a} {day.day} {day:%b}"

    assert shown["late"] == {
        key: (label(flagged), names.get(to, to), lead, silence)
        for key, (flagged, to, lead, silence) in mine["late"].items()
    }
    worst = max(mine["late"].items(), key=lambda kv: kv[1][3])
    assert shown["longest"] == (worst[1][3], worst[0])
    assert shown["noise"] == {k: (n, dict(c)) for k, (n, c) in mine["noise"].items()}
    assert {k: v for k, v in shown["managers"].items() if v} == {
        f"{w:%a} {w.day} {w:%b}": n for w, n in mine["managers"].items()
    }
    assert shown["dms"] == {(p, f"{w.day}/{w.month}"): n for (p, w), n in mine["dms"].items()}
    assert len(mine["late"]) == 1 and mine["noise"]  # the quarter has both to check


async def test_a_quiet_month_sends_nothing_to_the_managers():
    result = await replay(load_scenario(QUIET))
    assert result.warnings == []
    assert [m for m in result.messages if m.to == "CMANAGERS"] == []
    assert result.messages == []  # and nothing to anyone: silence means on track


async def test_holidays_keep_christmas_week_from_looking_like_a_stall():
    raw = yaml.safe_load(MARCUS.read_text())
    raw["tasks"] = [t for t in raw["tasks"] if t["key"] == "dec-payroll"]
    with_holidays = await replay(parse_scenario(raw))
    assert [m for m in with_holidays.messages if m.task == "dec-payroll"] == []
    raw["team"]["holidays"] = None  # 25 and 28 December become working days
    without = await replay(parse_scenario(raw))
    assert [m.rules for m in without.messages if m.kind == "dm"] == [("stalled",)]


# -- the same scenario in JSON -------------------------------------------------------------
def test_a_json_scenario_gives_the_same_result_as_its_yaml(tmp_path, stuck_run):
    from bot.sim.scenario.source import read_source

    as_yaml, printed_yaml, data_yaml = stuck_run
    as_json = tmp_path / "stuck.json"
    as_json.write_text(json.dumps(read_source(as_yaml.read_text(), is_json=False).data))
    printed_json, data_json = simulate(tmp_path, as_json)
    assert data_json == data_yaml and data_yaml["messages"]
    timing = re.compile(r"replayed in [\d.]+ s|transcript written to .*")
    assert timing.sub("", printed_json) == timing.sub("", printed_yaml)


# -- each policy override changes what is said ---------------------------------------------
def test_stall_days_moves_the_first_flag(tmp_path, stuck_run):
    _, _, default = stuck_run
    _, patient = simulate(tmp_path, firm(stuck()), "stall_days=5")
    # 40% on Tuesday 6: the 4th working day without progress is Monday 12, the 6th Wednesday 14.
    assert flags(default["messages"], "filing")[0]["at"] == "2026-01-12T09:00:00+00:00"
    assert flags(patient["messages"], "filing")[0]["at"] == "2026-01-14T09:00:00+00:00"
    assert patient["scenario"]["policy"]["stall_days"] == 5


def test_how_much_time_is_used_before_pace_is_judged_is_a_setting(tmp_path):
    slow = {
        "key": "accounts",
        "title": "Year-end accounts",
        "owner": "UDANA",
        "creator": "UMARCUS",
        "created": "2026-01-05T09:00",
        "due": "2026-01-16",
        "updates": [
            {"at": f"2026-01-{day:02d}T10:00", "by": "UDANA", "progress": 5 * i}
            for i, day in enumerate((6, 7, 8, 9, 12, 13, 14), start=1)
        ],
    }

    def first_pace(data):
        return next(
            m["at"] for m in flags(data["messages"], "accounts") if "behind_pace" in m["rules"]
        )

    _, default = simulate(tmp_path, firm(slow))
    _, tolerant = simulate(tmp_path, firm(slow), "pace_min_used=50")
    assert first_pace(default) < first_pace(tolerant)


def test_the_escalation_window_decides_when_managers_hear(tmp_path, stuck_run):
    def escalated(data):
        return next(m["at"] for m in flags(data["messages"], "filing") if m["to"] == "CMANAGERS")

    _, _, default = stuck_run
    _, later = simulate(tmp_path, firm(stuck()), "escalation_days=2")
    # The owner hears on Monday 12; the managers one working day later, or two, in the digest.
    assert escalated(default) == "2026-01-13T09:30:00+00:00"
    assert escalated(later) == "2026-01-14T09:30:00+00:00"


def test_the_reminder_cap_limits_the_reminders(tmp_path, stuck_run):
    def reminders(data):
        return sum(
            1
            for m in data["messages"]
            if "filing" in m["tasks"] and m["kind"] == "reminder" and "stalled" in m["rules"]
        )

    _, _, default = stuck_run
    _, capped = simulate(tmp_path, firm(stuck()), "reminder_cap=1")
    assert (reminders(default), reminders(capped)) == (2, 1)


def test_working_hours_move_the_messages_and_the_silence_measured(tmp_path):
    printed, data = simulate(tmp_path, firm(stuck()), "working_hours=13:00-14:00")
    first = flags(data["messages"], "filing")[0]
    assert first["at"] == "2026-01-12T13:00:00+00:00"  # the start of Monday's working hours
    # Silence counted in those hours: Tuesday's 40% came at 10:00, before they start, so
    # Tuesday to Friday are four whole working days; in 09:00-18:00 it would be 4.3.
    thirteen = WorkCalendar("Europe/London", "GB-ENG", time(13), time(14))
    silence = thirteen.working_seconds(at("2026-01-06T10:00+00:00"), at(first["at"]))
    assert silence / thirteen.day_seconds() == 4.0
    assert re.search(r"\n  filing .* 4\.0 working days\n", printed)
    nine_to_six = WorkCalendar("Europe/London", "GB-ENG")
    other = nine_to_six.working_seconds(at("2026-01-06T10:00+00:00"), at(first["at"]))
    assert round(other / nine_to_six.day_seconds(), 1) == 4.3


# -- people and the report's arithmetic ----------------------------------------------------
def test_a_person_in_another_time_zone_hears_at_their_own_nine(stuck_run):
    _, _, data = stuck_run
    london = flags(data["messages"], "filing")[0]["at"]
    boston = flags(data["messages"], "boston")[0]["at"]
    assert london == "2026-01-12T09:00:00+00:00"  # 09:00 in London
    assert boston == "2026-01-12T14:00:00+00:00"  # 09:00 in New York


def test_reporting_the_same_progress_again_does_not_shorten_the_silence(tmp_path):
    again = {"at": "2026-01-08T10:00", "by": "UDANA", "progress": 40}
    printed, data = simulate(tmp_path, firm(stuck("filing", "UDANA", again)))
    first = flags(data["messages"], "filing")[0]["at"]
    # The stall clock ran from Tuesday's change to 40%, not from Thursday's repeat of it.
    assert first == "2026-01-12T09:00:00+00:00"
    cal = WorkCalendar("Europe/London", "GB-ENG")
    since_change = cal.working_seconds(at("2026-01-06T10:00+00:00"), at(first))
    since_repeat = cal.working_seconds(at("2026-01-08T10:00+00:00"), at(first))
    silence, wrong = (round(s / cal.day_seconds(), 1) for s in (since_change, since_repeat))
    assert (silence, wrong) == (3.9, 1.9)
    assert "Longest silence before a late task was flagged: 3.9 working days (filing)." in printed


def test_alerts_on_tasks_finished_on_time_are_shown_per_task(marcus_run):
    printed, _ = marcus_run
    # Each day's digest that names a task is an alert about it (product.md §6).
    assert "Alerts on tasks that finished on time: 14 messages on 3 of 17 tasks." in printed
    assert re.search(r"\n  insurance\s+5  missing_owner 5\n", printed)
    assert re.search(r"\n  acme-stock\s+4  deadline_conflict 4, stalled 2\n", printed)


def test_refused_updates_are_counted_in_the_report(tmp_path):
    intruder = {"at": "2026-01-07T10:00", "by": "UTOM", "progress": 90}
    printed, data = simulate(tmp_path, firm(stuck("filing", "UDANA", intruder)))
    assert data["refused"] == [
        {"at": "2026-01-07T10:00:00+00:00", "task": "filing", "by": "UTOM", "what": "progress 90"}
    ]
    assert "Updates refused (only the owner, the creator or a manager may change a task): 1." in (
        printed
    )
    assert "warning: 2026-01-07T10:00:00+00:00 filing: progress 90 by UTOM refused" in printed
    assert data["tasks"]["filing"]["progress"] == 40


def test_the_week_chart_and_the_table_line_up(marcus_run):
    printed, _ = marcus_run
    chart = [line for line in printed.splitlines() if line.startswith("  w/c ")]
    assert len({line.index(" ", 17) for line in chart}) == 1  # counts end in one column
    assert len({line.rstrip("█ ").rindex(" ") for line in chart}) == 1
    table = printed.split("DMs and reminders per person per week\n")[1].split("\n\n")[0]
    rows = table.splitlines()
    ends = lambda line: [m.end() for m in re.finditer(r"\S+", line)][1:]  # noqa: E731
    head = [m.end() for m in re.finditer(r"\S+", rows[0])]
    assert all(ends(row) == head for row in rows[1:])  # every cell ends under its week


# -- refused before anything runs ----------------------------------------------------------
def test_a_bad_policy_override_is_refused(capsys):
    assert run_simulate(str(MARCUS), None, ["stall_days=soon"]) == 2
    assert "--policy: stall_days takes a whole number" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["missing-folder/out.json", "."])
def test_a_json_path_that_cannot_be_written_fails_before_the_replay(tmp_path, capsys, where):
    standin = SlackStandIn()
    out = tmp_path / where
    assert run_simulate(str(MARCUS), str(out), [], standin=standin) == 2
    captured = capsys.readouterr()
    assert len(captured.err.strip().splitlines()) == 1 and "vigil: --json:" in captured.err
    assert captured.out == "" and standin.calls == []  # nothing replayed


def test_a_scenario_that_cannot_be_read_is_one_line(tmp_path, capsys):
    assert run_simulate(str(tmp_path / "nowhere.yaml"), None, []) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("vigil: ") and "cannot read the file" in err and "\n" not in err
