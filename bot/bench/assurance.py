"""`python -m bot.bench.assurance [--seeds 1,2,3,4,5] [--write DIR] [--policy K=V ...]`:
generated quarters of a 12-person firm, each replayed through the real `simulate` path and
judged against its truth by every figure of product.md §6 "Assurance quality"."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import yaml

from bot.monitor.policy import Policy, PolicyError
from bot.sim.assurance import AssuranceFigures, judge, render
from bot.sim.quarter import generate
from bot.sim.replay import replay
from bot.sim.scenario.load import parse_scenario
from bot.sim.scenario.source import ScenarioError
from bot.sim.simulate import transcript

COLUMNS = (
    ("seed", 4),
    ("recall", 12),
    ("lead d", 6),
    ("lead", 5),
    ("false al.", 9),
    ("pings/task", 10),
    ("max/day", 7),
    ("chan/wk", 7),
    ("chan max", 8),
    ("reposted", 8),
    ("conflicts", 9),
    ("unowned", 7),
    ("s", 4),
)


def write_seed(folder: Path, seed: int, scenario: dict, truth: dict) -> tuple[Path, Path]:
    """The scenario as YAML (what `simulate` reads) and its truth as JSON (`--truth`)."""
    folder.mkdir(parents=True, exist_ok=True)
    scenario_path = folder / f"quarter-seed{seed}.yaml"
    truth_path = folder / f"quarter-seed{seed}.truth.json"
    header = (
        f"# A generated quarter (seed {seed}) of a 12-person firm: python -m bot.bench.assurance\n"
        f"#   python -m bot simulate {scenario_path} --truth {truth_path}\n"
    )
    body = yaml.safe_dump(scenario, sort_keys=False, width=100, default_flow_style=None)
    scenario_path.write_text(header + body, encoding="utf-8")
    truth_path.write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    return scenario_path, truth_path


def run_seed(seed: int, overrides: list[str]) -> tuple[AssuranceFigures, dict, float]:
    scenario_dict, truth = generate(seed)
    scenario = parse_scenario(scenario_dict, name=f"quarter-seed{seed}", overrides=overrides)
    started = time.perf_counter()
    result = asyncio.run(replay(scenario))
    elapsed = time.perf_counter() - started
    return judge(transcript(result), truth), truth, elapsed


def summary_row(seed: int, fig: AssuranceFigures, seconds: float) -> list[str]:
    busiest = (fig.busiest or {}).get("pings", 0)
    share = "-" if fig.lead_share is None else f"{fig.lead_share:.2f}"
    days = "-" if fig.lead_days is None else f"{fig.lead_days:.1f}"
    pings = "-" if fig.owner_pings_median is None else f"{fig.owner_pings_median:g}"
    return [
        str(seed),
        f"{len(fig.caught)}/{fig.late}",
        days,
        share,
        f"{len(fig.false_alarms)}/{fig.healthy}",
        f"{pings} (max {fig.owner_pings_max})",
        str(busiest),
        f"{fig.channel_mean:.1f}",
        str(fig.channel_max),
        str(len(fig.reposted)),
        f"{fig.conflicts[0]}/{fig.conflicts[1]}",
        f"{fig.unowned[0]}/{fig.unowned[1]}",
        f"{seconds:.1f}",
    ]


def table(rows: list[list[str]]) -> str:
    widths = [max(w, *(len(r[i]) for r in rows)) for i, (_, w) in enumerate(COLUMNS)]
    head = "  ".join(name.rjust(w) for (name, _), w in zip(COLUMNS, widths, strict=True))
    body = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join([head, *body])


def _seeds(text: str) -> list[int]:
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seeds such as 1,2,3, got {text!r}") from None
    if not seeds:
        raise argparse.ArgumentTypeError("expected at least one seed, such as 1")
    return seeds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.bench.assurance", description=__doc__)
    parser.add_argument("--seeds", type=_seeds, default=[1, 2, 3, 4, 5], help="e.g. 1,2,3")
    parser.add_argument("--write", metavar="DIR", help="write each seed's scenario and truth")
    parser.add_argument(
        "--policy", action="append", default=[], metavar="KEY=VALUE", help="e.g. stall_days=5"
    )
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="seeds replayed side by side"
    )
    args = parser.parse_args(argv)
    try:
        Policy().with_overrides(args.policy)
    except PolicyError as exc:
        print(f"vigil: --policy: {exc}", file=sys.stderr)
        return 2
    rows = []
    jobs = max(1, min(args.jobs, len(args.seeds)))
    with ProcessPoolExecutor(jobs) as pool:
        runs = [pool.submit(run_seed, seed, args.policy) for seed in args.seeds]
        for seed, run in zip(args.seeds, runs, strict=True):
            try:
                fig, truth, seconds = run.result()
            except ScenarioError as exc:
                print(f"vigil: seed {seed}: {exc}", file=sys.stderr)
                return 1
            print(render(fig, truth))
            print(f"  (replayed in {seconds:.1f} s)\n")
            rows.append(summary_row(seed, fig, seconds))
            if args.write:
                paths = write_seed(Path(args.write), seed, *generate(seed))
                print(f"  written: {paths[0]} and {paths[1]}\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
