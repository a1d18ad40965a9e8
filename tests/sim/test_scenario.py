"""Scenario files: the demo's own firm loads, and a malformed file is refused before anything
runs, with the file, the line, the place and what was expected there."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from bot.sim.demo import demo_path
from bot.sim.scenario.load import load_scenario
from bot.sim.scenario.source import ScenarioError
from bot.sim.simulate import run_simulate
from bot.standin import SlackStandIn

REPO = Path(__file__).parents[2]

GOOD = """\
team: {timezone: Europe/London, holidays: GB, channel: CMANAGERS, managers: [UMARCUS]}
people: [{id: UDANA, tz: Europe/London}, {id: UMARCUS}]
start: 2026-01-05T08:00
end: 2026-01-30T18:00
tasks:
  - key: filing
    title: Q3 filing for Acme
    owner: UDANA
    creator: UMARCUS
    created: 2026-01-05T09:00
    due: 2026-01-30
    updates:
      - {at: 2026-01-08T10:00, by: UDANA, progress: 20}
  - key: sub
    title: Gather the receipts
    owner: UDANA
    creator: UMARCUS
    parent: filing
    created: 2026-01-06T09:00
    due: 2026-01-20
    updates:
      - {at: 2026-01-07T10:00, by: UDANA, progress: 50}
"""


def write(tmp_path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def line_of(text: str, fragment: str, occurrence: int = 1) -> int:
    """The 1-based line of the n-th line containing `fragment`."""
    hits = [i + 1 for i, line in enumerate(text.splitlines()) if fragment in line]
    return hits[occurrence - 1]


def test_the_demo_firm_loads():
    scenario = load_scenario(demo_path())
    assert len(scenario.people) == 12 and len(scenario.tasks) >= 20
    assert scenario.channel == "CMANAGERS"


def test_the_demo_firm_and_the_packaged_copy_are_one_file():
    shipped = REPO / "data" / "scenarios" / "demo.yaml"
    assert shipped.is_symlink()
    assert shipped.resolve() == demo_path().resolve()


def test_a_good_file_loads_with_deadlines_at_the_end_of_the_day(tmp_path):
    s = load_scenario(write(tmp_path, GOOD))
    filing = s.tasks[0]
    assert filing.due.isoformat() == "2026-01-31T00:00:00+00:00"
    assert filing.updates[0].changes == {"progress": 20}


# (the text changed, the place named, what the message says, the line it points at)
BAD = [
    (
        ("  - key: filing\n", "  - key: filing\n    parent: sub\n"),
        "tasks[0].parent",
        "makes a cycle: filing → sub → filing",
        "parent: sub",
    ),
    (
        ("created: 2026-01-06T09:00", "created: 2026-01-05T08:30"),
        "tasks[1].created",
        "is before its parent 'filing' is created (2026-01-05T09:00)",
        "created: 2026-01-05T08:30",
    ),
    (
        ("managers: [UMARCUS]", "managers: [[1]]"),
        "team.managers[0]",
        "expected a user id such as UMARCUS, got [1]",
        "managers: [[1]]",
    ),
    (
        ("    due: 2026-01-30\n", "    due: 2026-01-30\n    description: [1, 2]\n"),
        "tasks[0].description",
        "expected text, got [1, 2]",
        "description: [1, 2]",
    ),
    (
        ("created: 2026-01-05T09:00", "created: 2026-01-02T09:00"),
        "tasks[0].created",
        "is before the scenario starts (2026-01-05T08:00)",
        "created: 2026-01-02T09:00",
    ),
    (
        ("at: 2026-01-07T10:00", "at: 2026-02-07T10:00"),
        "tasks[1].updates[0].at",
        "is after the scenario ends (2026-01-30T18:00)",
        "at: 2026-02-07T10:00",
    ),
    (
        ("due: 2026-01-20", "due: 2026-01-05"),
        "tasks[1].due",
        "is before the task is created (2026-01-06T09:00)",
        "due: 2026-01-05",
    ),
    (
        ("    title: Q3 filing for Acme\n", "    title: Q3 filing for Acme\n    title: Other\n"),
        "tasks[0].title",
        "given twice (first on line 7)",
        "title: Other",
    ),
    (
        ("start: 2026-01-05T08:00\n", "start: 2026-01-05T08:00\nstart: 2026-01-06T08:00\n"),
        "start",
        "given twice (first on line 3)",
        "start: 2026-01-06T08:00",
    ),
    (
        ("{id: UMARCUS}", "{id: UDANA}"),
        "people[1].id",
        "'UDANA' is listed twice (also people[0])",
        "people:",
    ),
    (
        ("end: 2026-01-30T18:00\n", "end: 2026-01-30T18:00\nsweep_every: 30s\n"),
        "sweep_every",
        "expected 1m or more, got '30s'",
        "sweep_every",
    ),
    (
        ("end: 2026-01-30T18:00\n", "end: 2026-12-30T18:00\nsweep_every: 1m\n"),
        "sweep_every",
        "sweeps; at most 100,000",
        "sweep_every",
    ),
    (
        ("{id: UMARCUS}", "UMARCUS"),
        "people[1]",
        "expected a mapping {id, tz}, got 'UMARCUS'",
        "people:",
    ),
    (
        (
            "    updates:\n      - {at: 2026-01-08T10:00, by: UDANA, progress: 20}\n",
            "    updates: soon\n",
        ),
        "tasks[0].updates",
        "expected a list of updates, got 'soon'",
        "updates: soon",
    ),
    (("start: 2026-01-05T08:00\n", ""), "start", "missing; expected an ISO-8601 time", "team:"),
    (
        ("progress: 20}", "progress: 120}"),
        "tasks[0].updates[0].progress",
        "0 to 100",
        "progress: 120",
    ),
    (
        ("owner: UDANA\n    creator", "owner: UNOBODY\n    creator"),
        "tasks[0].owner",
        "people",
        "UNOBODY",
    ),
    (("due: 2026-01-30", "due: 2026-13-30"), "tasks[0].due", "2026-01-30", "2026-13-30"),
    (("due: 2026-01-30", "due: friday"), "tasks[0].due", "expected a date such as", "friday"),
    (("timezone: Europe/London,", "timezone: Mars/Base,"), "team.timezone", "IANA", "Mars"),
    (("channel: CMANAGERS", "channel: managers"), "team.channel", "channel id", "channel"),
    (("created: 2026-01-05T09:00", "created: yesterday"), "tasks[0].created", "ISO-8601", "yest"),
    (
        (
            "    owner: UDANA\n    creator: UMARCUS\n    created: 2026-01-05",
            "    owner: UDANA\n    colour: red\n    creator: UMARCUS\n    created: 2026-01-05",
        ),
        "tasks[0].colour",
        "unknown key",
        "colour",
    ),
    (
        ("progress: 50}", "status: blocked}"),
        "tasks[1].updates[0].reason",
        "missing; a blocked status needs a reason",
        "status: blocked",
    ),
]


@pytest.mark.parametrize(("change", "where", "problem", "at_line"), BAD)
def test_a_malformed_scenario_is_refused_before_anything_runs(
    tmp_path, capsys, change, where, problem, at_line
):
    text = GOOD.replace(*change)
    assert text != GOOD
    path = write(tmp_path, text)
    standin = SlackStandIn()
    out = tmp_path / "out.json"
    assert run_simulate(str(path), str(out), [], standin=standin) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith(f"vigil: {path}:{line_of(text, at_line)}: {where}: ")
    assert problem in err
    assert not out.exists()  # nothing run, nothing written
    assert standin.calls == []  # and nothing reached Slack


def test_a_key_given_twice_in_json_names_its_line(tmp_path, capsys):
    data = json.dumps(load_scenario_json(), indent=1)
    # A second "title" in the first task, as a hand edit would leave it.
    text = data.replace(
        '"title": "Q3 filing for Acme",', '"title": "Q3 filing for Acme",\n   "title": "Other",', 1
    )
    path = write(tmp_path, text, "s.json")
    assert run_simulate(str(path), None, []) == 2
    err = capsys.readouterr().err.strip()
    line = line_of(text, '"title": "Other"')
    assert err.startswith(f"vigil: {path}:{line}: tasks[0].title: given twice (first on line ")


def test_a_json_error_names_the_keys_line(tmp_path):
    raw = load_scenario_json()
    raw["tasks"][1]["updates"][0]["progress"] = 150
    text = json.dumps(raw, indent=1)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(tmp_path, text, "s.json"))
    assert caught.value.where == "tasks[1].updates[0].progress"
    assert caught.value.line == line_of(text, '"progress": 150')


def test_broken_yaml_names_the_line(tmp_path):
    with pytest.raises(ScenarioError, match=r"s.yaml:\d+: not valid YAML"):
        load_scenario(write(tmp_path, GOOD + "  - {key: [unclosed\n"))


def load_scenario_json() -> dict:
    """GOOD as a JSON document (YAML's own reading of it, dates left as text)."""
    from bot.sim.scenario.source import read_source

    return read_source(GOOD, is_json=False).data


# -- people away ---------------------------------------------------------------------------
AWAY = GOOD.replace(
    "people: [{id: UDANA, tz: Europe/London}, {id: UMARCUS}]",
    "people:\n"
    "  - id: UDANA\n"
    "    away:\n"
    "      - {from: 2026-01-12T00:00, until: 2026-01-19T00:00, emoji: ':palm_tree:', text: Vacation}\n"
    "  - {id: UMARCUS}",
)


def test_a_person_away_is_read_in_the_teams_zone(tmp_path):
    scenario = load_scenario(write(tmp_path, AWAY))
    (spell,) = scenario.people[0].away
    assert (spell.start.isoformat(), spell.until.isoformat()) == (
        "2026-01-12T00:00:00+00:00",
        "2026-01-19T00:00:00+00:00",
    )
    assert (spell.emoji, spell.text) == (":palm_tree:", "Vacation")
    assert scenario.people[1].away == ()


BAD_AWAY = [
    (
        ("until: 2026-01-19T00:00", "until: 2026-01-10T00:00"),
        "people[0].away[0].until",
        "must be after from (2026-01-12T00:00)",
    ),
    (("':palm_tree:'", "palm tree"), "people[0].away[0].emoji", "an emoji such as :palm_tree:"),
    ((", emoji: ':palm_tree:', text: Vacation", ""), "people[0].away[0]", "says nothing"),
    (("text: Vacation", "txt: Vacation"), "people[0].away[0].txt", "unknown key"),
    (
        ("from: 2026-01-12T00:00, until: 2026-01-19", "from: 2026-02-12T00:00, until: 2026-02-19"),
        "people[0].away[0].from",
        "is after the scenario ends (2026-01-30T18:00)",
    ),
    (
        ("text: Vacation}\n", "text: Vacation}\n      - {from: 2026-01-16T00:00, "
         "until: 2026-01-20T00:00, text: Sick}\n"),
        "people[0].away[1].from",
        "overlaps people[0].away[0]",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("change", "where", "problem"), BAD_AWAY)
def test_a_malformed_away_spell_is_refused_with_its_line(tmp_path, capsys, change, where, problem):
    text = AWAY.replace(*change)
    assert text != AWAY
    path = write(tmp_path, text)
    assert run_simulate(str(path), None, []) == 2
    err = capsys.readouterr().err.strip()
    spell = int(where.split("away[")[1][0]) if "away[" in where else 0
    line = line_of(text, "- {from:", spell + 1) if "- {from:" in text else line_of(text, "away:")
    assert err.startswith(f"vigil: {path}:{line}: {where}: "), err
    assert problem in err
