"""Scenario files: the demo's own firm loads, and a malformed file is refused precisely."""

from __future__ import annotations

import textwrap

import pytest

from bot.demo import demo_path
from bot.scenario import ScenarioError, load_scenario

GOOD = """
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
"""


def write(tmp_path, text: str, name: str = "s.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_the_demo_firm_loads():
    scenario = load_scenario(demo_path())
    assert len(scenario.people) == 12 and len(scenario.tasks) >= 20
    assert scenario.channel == "CMANAGERS"


def test_a_good_file_loads_with_deadlines_at_the_end_of_the_day(tmp_path):
    s = load_scenario(write(tmp_path, GOOD))
    filing = s.tasks[0]
    assert filing.due.isoformat() == "2026-01-31T00:00:00+00:00"
    assert filing.updates[0].changes == {"progress": 20}


@pytest.mark.parametrize(
    ("change", "where", "problem"),
    [
        (("progress: 20", "progress: 120"), "tasks[0].updates[0].progress", "0 to 100"),
        (("owner: UDANA", "owner: UNOBODY"), "tasks[0].owner", "people's ids"),
        (("due: 2026-01-30", "due: 2026-13-30"), "tasks[0].due", "2026-01-30"),
        (("timezone: Europe/London", "timezone: Mars/Base"), "team.timezone", "IANA"),
        (("channel: CMANAGERS", "channel: managers"), "team.channel", "channel id"),
        (("created: 2026-01-05T09:00", "created: yesterday"), "tasks[0].created", "ISO-8601"),
        (
            ("    owner: UDANA\n", "    owner: UDANA\n    colour: red\n"),
            "tasks[0].colour",
            "unknown key",
        ),
    ],
)
def test_a_malformed_scenario_names_the_key_and_what_was_expected(tmp_path, change, where, problem):
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(tmp_path, GOOD.replace(*change)))
    assert caught.value.where == where and problem in caught.value.problem


def test_broken_yaml_names_the_line(tmp_path):
    with pytest.raises(ScenarioError, match=r"s.yaml:\d+: not valid YAML"):
        load_scenario(write(tmp_path, GOOD + "  - {key: [unclosed\n"))
