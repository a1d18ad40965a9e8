"""Generated quarters: the scenario is a valid file of the shape asked for, the same seed gives
the same quarter, and its truth holds when checked again from the generated updates alone."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.bench.assurance import write_seed
from bot.calendar import WorkCalendar
from bot.sim.quarter import generate
from bot.sim.scenario.load import load_scenario, parse_scenario
from bot.sim.scenario.model import Scenario, ScenarioTask

CAL = WorkCalendar("Europe/London", "GB-ENG")
MAIN_PATTERNS = {"healthy", "staller", "slow", "late_starter", "never_finished", "unowned"}


@pytest.fixture(scope="module", params=[1, 4])
def quarter(request) -> tuple[Scenario, dict]:
    raw, truth = generate(request.param)
    return parse_scenario(raw), truth["tasks"]


def progress(task: ScenarioTask) -> list[tuple[datetime, int]]:
    return [(u.at, u.changes["progress"]) for u in task.updates if "progress" in u.changes]


def finished(task: ScenarioTask) -> datetime | None:
    return next(
        (
            u.at
            for u in task.updates
            if u.changes.get("progress") == 100 or u.changes.get("status") == "done"
        ),
        None,
    )


def dues(task: ScenarioTask) -> list[tuple[datetime, datetime]]:
    return [(task.created, task.due)] + [
        (u.at, u.changes["due"][0]) for u in task.updates if "due" in u.changes
    ]


def due_at(task: ScenarioTask, moment: datetime) -> datetime:
    return [d for since, d in dues(task) if since <= moment][-1]


def away_days(scenario: Scenario, who: str | None) -> set:
    person = next((p for p in scenario.people if p.id == who), None)
    days = set()
    for spell in person.away if person else ():
        day = CAL.local_date(spell.start)
        while CAL.start_of_day(day) < spell.until:
            days.add(day)
            day = CAL.next_working_day(day)
    return days


def gaps_ok(times: list[datetime], away: set) -> bool:
    """A report at least every 3 working days (days the owner is away do not count)."""
    for a, b in zip(times, times[1:], strict=False):
        first, last = CAL.local_date(a), CAL.local_date(b)
        n = CAL.working_days_between(first, last) - sum(1 for d in away if first < d <= last)
        if n > 3:
            return False
    return True


def on_pace(task: ScenarioTask) -> bool:
    """At or ahead of the share of working time used, at every report."""
    for at, p in progress(task):
        due = due_at(task, at)
        share = CAL.working_seconds(task.created, at) / CAL.working_seconds(task.created, due)
        if p < 100 and p < 100 * share - 1e-6:
            return False
    return True


def test_the_same_seed_gives_the_same_quarter_and_another_seed_another():
    assert generate(5) == generate(5)
    assert generate(6)[0]["tasks"] != generate(5)[0]["tasks"]


def test_a_twelve_person_firm_and_about_300_tasks_of_3_to_25_working_days(quarter):
    scenario, truth = quarter
    assert len(scenario.people) == 12 and len(scenario.managers) == 2
    assert 1 <= sum(p.tz == "America/New_York" for p in scenario.people) <= 2
    assert 2 <= sum(bool(p.away) for p in scenario.people) <= 3
    assert 300 <= len(scenario.tasks) <= 305 and set(truth) == {t.key for t in scenario.tasks}
    for task in scenario.tasks:
        last_day = CAL.local_date(task.due) - timedelta(days=1)  # due: the end of that day
        planned = CAL.working_days_between(CAL.local_date(task.created), last_day)
        assert 3 <= planned + 1 <= 25, task.key


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_the_pattern_mix_has_about_a_quarter_of_the_tasks_in_trouble(seed):
    truth = generate(seed)[1]["tasks"]
    troubled = sum(f["troubled"] for f in truth.values()) / len(truth)
    assert 0.18 <= troubled <= 0.35
    patterns = {f["pattern"] for f in truth.values()}
    assert MAIN_PATTERNS | {"parent", "subtask", "conflict", "away"} <= patterns
    assert sum(f["late"] for f in truth.values()) >= 25
    assert sum(f["conflict"] for f in truth.values()) >= 1
    assert sum(f["unowned"] for f in truth.values()) >= 3


def test_a_healthy_task_is_healthy_when_checked_again_from_its_updates(quarter):
    scenario, truth = quarter
    children: dict[str, list[ScenarioTask]] = {}
    for task in scenario.tasks:
        if task.parent:
            children.setdefault(task.parent, []).append(task)
    checked = 0
    for task in scenario.tasks:
        if not truth[task.key]["healthy"]:
            continue
        done = finished(task)
        assert task.owner is not None, task.key
        assert done is not None and done <= dues(task)[-1][1], task.key
        assert not any(u.changes.get("status") == "blocked" for u in task.updates), task.key
        subs = children.get(task.key, [])
        away = away_days(scenario, task.owner)
        reported = sorted(at for t in (subs or [task]) for at, _ in progress(t))
        assert gaps_ok([task.created, *[t for t in reported if t <= done], done], away), task.key
        if not away:  # an owner who was away is judged on the days they were there
            assert all(on_pace(t) for t in (subs or [task])), task.key
            checked += 1
        for sub in subs:  # a parent's work is its subtasks': each of them healthy on its own
            sub_done, sub_away = finished(sub), away_days(scenario, sub.owner)
            assert sub_done is not None and sub_done <= dues(sub)[-1][1], (task.key, sub.key)
            sub_reports = [at for at, _ in progress(sub) if at <= sub_done]
            assert gaps_ok([sub.created, *sub_reports, sub_done], sub_away), (task.key, sub.key)
    assert checked >= 150


def test_a_late_task_really_ends_late_and_was_knowable_by_its_deadline(quarter):
    scenario, truth = quarter
    for task in scenario.tasks:
        fact, done, due = truth[task.key], finished(task), dues(task)[-1][1]
        late = (done is None and due <= scenario.end) or (done is not None and done > due)
        assert fact["late"] == late, task.key
        if late:
            assert datetime.fromisoformat(fact["knowable_at"]) <= due, task.key
            assert datetime.fromisoformat(fact["knowable_at"]) >= task.created, task.key


def test_conflicts_and_tasks_without_an_owner_are_what_the_truth_says(quarter):
    scenario, truth = quarter
    by_key = {t.key: t for t in scenario.tasks}
    for task in scenario.tasks:
        assert truth[task.key]["unowned"] == (task.owner is None), task.key
        if not truth[task.key]["conflict"]:
            continue
        parent = by_key[task.parent]
        moments = [at for at, _ in dues(task) + dues(parent) if at >= task.created]
        assert any(due_at(task, m) > due_at(parent, m) for m in moments), task.key


def test_the_written_scenario_is_the_generated_one_and_simulate_reads_it(tmp_path):
    raw, truth = generate(2)
    scenario_path, truth_path = write_seed(tmp_path, 2, raw, truth)
    assert load_scenario(scenario_path) == parse_scenario(raw, name="quarter-seed2")
    assert json.loads(truth_path.read_text()) == truth


def test_the_shipped_seed_1_quarter_is_what_the_generator_makes():
    """data/scenarios/quarter-seed1.*: regenerate them with `--write data/scenarios --seeds 1`
    whenever the generator changes, so that the shipped truth stays the generator's."""
    shipped = Path(__file__).parents[2] / "data" / "scenarios"
    raw, truth = generate(1)
    assert json.loads((shipped / "quarter-seed1.truth.json").read_text()) == truth
    assert load_scenario(shipped / "quarter-seed1.yaml") == parse_scenario(
        raw, name="quarter-seed1"
    )
