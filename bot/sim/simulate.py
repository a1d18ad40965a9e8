"""`python -m bot simulate FILE [--json OUT] [--policy KEY=VALUE ...]`: replay a scenario
through the real product and print the assurance report."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

from bot.monitor.policy import Policy, PolicyError
from bot.sim.assurance import judge
from bot.sim.assurance import render as render_assurance
from bot.sim.replay import replay
from bot.sim.report import compute_report, render_report
from bot.sim.scenario.load import load_scenario
from bot.sim.scenario.model import Scenario
from bot.sim.scenario.source import ScenarioError
from bot.sim.transcript import ReplayResult
from bot.standin import SlackStandIn


def policy_json(policy: Policy) -> dict:
    """Every setting, typed, under the name `--policy` takes: feeding these back as overrides
    gives the same policy."""
    return {
        "stall_days": policy.stall_days,
        "pace_late_days": policy.pace_late_days,
        "pace_late_share": policy.pace_late_share,
        "pace_min_used": policy.pace_min_used,
        "escalation_days": policy.escalation_days,
        "overdue_escalation_days": policy.overdue_escalation_days,
        "reminder_cap": policy.reminder_cap,
        "reminder_every_days": policy.reminder_every_days,
        "regress_days": policy.regress_days,
        "ping_cap": policy.ping_cap,
        "digest": "on" if policy.digest else "off",
        "digest_at": f"{policy.digest_at:%H:%M}",
        "snooze_days": policy.snooze_days,
        "snooze_max_days": policy.snooze_max_days,
        "working_hours": f"{policy.day_start:%H:%M}-{policy.day_end:%H:%M}",
        "send_budget": policy.send_budget,
        "disabled": sorted(policy.disabled),
    }


def scenario_json(s: Scenario) -> dict:
    return {
        "name": s.name,
        "timezone": s.timezone,
        "holidays": s.holiday_country,
        "channel": s.channel,
        "managers": list(s.managers),
        "people": [{"id": p.id, "name": p.name, "tz": p.tz} for p in s.people],
        "start": s.start.isoformat(),
        "end": s.end.isoformat(),
        "sweep_every_seconds": int(s.sweep_every.total_seconds()),
        "policy": policy_json(s.policy),
    }


def transcript(result: ReplayResult) -> dict:
    """What `--json` writes: every message in the order sent, every task's final state, and
    what could not be done (refused updates among the warnings)."""
    return {
        "scenario": scenario_json(result.scenario),
        "messages": [m.as_json() for m in result.messages],
        "tasks": result.final,
        "refused": result.refused,
        "warnings": result.warnings,
    }


def _writable(json_out: str) -> str | None:
    """Why `--json OUT` cannot be written, found before the replay spends any time."""
    out = Path(json_out)
    if out.is_dir():
        return f"{json_out} is a folder; give a file name such as out.json"
    folder = out.parent
    if not folder.is_dir():
        return f"the folder {folder} does not exist"
    if not os.access(out if out.exists() else folder, os.W_OK):
        return f"cannot write {json_out} (permission denied)"
    return None


def read_truth(path: str, scenario: Scenario) -> dict:
    """The truth of each task (`--truth`), checked against the scenario it claims to be of."""
    try:
        truth = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read {path} ({exc.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not JSON ({exc})") from None
    tasks = truth.get("tasks") if isinstance(truth, dict) else None
    if not isinstance(tasks, dict) or not all(isinstance(f, dict) for f in tasks.values()):
        raise ValueError(
            f'{path} has no tasks; expected {{"tasks": {{key: {{late, healthy, ...}}}}}}'
        )
    unknown = sorted(set(tasks) - {t.key for t in scenario.tasks})
    if unknown:
        raise ValueError(
            f"{path} is not about this scenario: it has tasks {', '.join(unknown[:5])} "
            f"that {scenario.name} does not"
        )
    missing = [k for k, f in tasks.items() if not {"late", "healthy", "due"} <= set(f)]
    if missing:
        raise ValueError(f"{path}: task {missing[0]} needs at least late, healthy and due")
    return truth


def run_simulate(
    path: str,
    json_out: str | None,
    overrides: list[str],
    *,
    standin: SlackStandIn | None = None,
    truth_path: str | None = None,
) -> int:
    try:
        Policy().with_overrides(overrides)
    except PolicyError as exc:
        print(f"vigil: --policy: {exc}", file=sys.stderr)
        return 2
    if json_out and (problem := _writable(json_out)):
        print(f"vigil: --json: {problem}", file=sys.stderr)
        return 2
    try:
        scenario = load_scenario(path, overrides)
    except ScenarioError as exc:
        print(f"vigil: {exc}", file=sys.stderr)
        return 2
    try:
        truth = read_truth(truth_path, scenario) if truth_path else None
    except ValueError as exc:
        print(f"vigil: --truth: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    result = asyncio.run(replay(scenario, standin=standin))
    data = transcript(result)
    print(render_report(compute_report(data), data))
    if truth is not None:
        print()
        print(render_assurance(judge(data, truth), truth))
    for warning in result.warnings:
        print(f"warning: {warning}")
    print(
        f"({result.sweeps:,} sweeps of simulated time, {result.swept:,} with something to do, "
        f"replayed in {time.perf_counter() - started:.1f} s)"
    )
    if json_out:
        try:
            Path(json_out).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
        except OSError as exc:
            print(f"vigil: --json: cannot write {json_out} ({exc.strerror})", file=sys.stderr)
            return 1
        print(f"transcript written to {json_out}")
    return 0
