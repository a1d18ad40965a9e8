"""A realistic quarter of a 12-person firm, with its truth: `generate(seed)`.

About 300 tasks of 3 to 25 working days, created through the quarter, in the patterns real
work has, each one randomised (cadence, step sizes, times of day, who reports): healthy work,
stalls, slow work, late starts, work never finished, tasks created without an owner, parents
whose progress lives in their subtasks, subtasks due after their parent, owners away for a
week, reassignments, deadlines moved, blocks. The truth of each task comes from what was
generated (bot/sim/truth.py), never from the bot.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.calendar import WorkCalendar
from bot.sim.truth import Plan, Watcher, judge_plan

TEAM_TZ = "Europe/London"
HOLIDAYS = "GB-ENG"
START, END = date(2026, 1, 5), date(2026, 3, 31)
LAST_DUE = date(2026, 3, 25)  # leaves a few days in the quarter to finish late
MANAGERS = ("UMARCUS", "UPRIYA")
STAFF = ("UDANA", "ULEE", "UTOM", "USARA", "UOMAR", "UKEMI", "UELENA", "URAFA", "UMEI", "UJONAS")
NAMES = {p: p[1:].title() for p in (*MANAGERS, *STAFF)}
CLIENTS = (
    "Acme",
    "Birch & Co",
    "Calder",
    "Dunmore",
    "Elm Street Dental",
    "Fenwick",
    "Gale",
    "Harlow Trust",
    "Ironbridge",
    "Juniper",
    "Kestrel",
    "Linden",
)
WORK = (
    "VAT return",
    "payroll run",
    "year-end accounts",
    "management accounts",
    "audit file",
    "tax computation",
    "bank reconciliation",
    "budget review",
    "R&D claim",
    "board pack",
)
BLOCKS = (
    "waiting for the client's bank statements",
    "access to the client's ledger",
    "waiting for sign-off from the partner",
    "missing payroll data",
)
# Standalone patterns and their weights; families (parents, conflicts) come on top.
PATTERNS = {
    "healthy": 0.66,
    "staller": 0.05,
    "slow": 0.04,
    "late_starter": 0.04,
    "never_finished": 0.025,
    "unowned": 0.035,
    "away": 0.04,
    "blocked": 0.035,
    "reassigned": 0.04,
    "due_later": 0.025,
    "due_earlier": 0.02,
}
HEALTHY_TRIES = 6


class Quarter:
    """The firm, its calendar and the random source one seed drives."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.cal = WorkCalendar(TEAM_TZ, HOLIDAYS)
        self.days = [d for d in _dates(START, END) if self.cal.is_working_day(d)]
        self.end = datetime.combine(END, time(18), ZoneInfo(TEAM_TZ)).astimezone(UTC)
        abroad = ["ULEE"] + (["UJONAS"] if seed % 2 else [])
        self.tz = {p: ("America/New_York" if p in abroad else TEAM_TZ) for p in NAMES}
        self.away = self._away()
        self.watcher = Watcher(self.cal, self.away)
        self.plans: list[Plan] = []

    def _away(self) -> dict[str, list[tuple[datetime, datetime]]]:
        """Two or three people away for a week, Monday to Monday, in different weeks."""
        mondays = [d for d in self.days if d.weekday() == 0][2:11]
        people = self.rng.sample(STAFF, self.rng.randint(2, 3))
        weeks = self.rng.sample(mondays, len(people))
        return {
            p: [(self.cal.start_of_day(m), self.cal.start_of_day(m + timedelta(days=7)))]
            for p, m in zip(people, weeks, strict=True)
        }

    # -- time ---------------------------------------------------------------------------
    def at(self, i: int, who: str | None, lo: int = 9, hi: int = 17) -> datetime:
        """A time of day on working day `i`, in the person's own working hours."""
        tz = ZoneInfo(self.tz.get(who or "", TEAM_TZ))
        clock = time(self.rng.randint(lo, hi), self.rng.randrange(0, 60, 5))
        return datetime.combine(self.day(i), clock, tz).astimezone(UTC)

    def day(self, i: int) -> date:
        """Working day `i` of the quarter; past its end, the working days that follow."""
        if i < len(self.days):
            return self.days[i]
        return self.cal.add_working_days(self.days[-1], i - len(self.days) + 1)

    def due_end(self, i: int) -> datetime:
        return self.cal.end_of_day(self.day(i))

    def index(self, moment: datetime) -> int:
        day = self.cal.local_date(moment)
        return max(i for i, d in enumerate(self.days) if d <= day)

    def due_index(self, due_end: datetime) -> int:
        """The working day a deadline (the end of that day) falls on."""
        return self.index(due_end - timedelta(seconds=1))

    def is_away(self, who: str, a: int, b: int) -> bool:
        lo, hi = self.cal.start_of_day(self.days[a]), self.due_end(min(b, len(self.days) - 1))
        return any(x < hi and lo < y for x, y in self.away.get(who, []))

    def pick_owner(self, a: int, b: int, exclude: str | None = None) -> str:
        choices = [p for p in STAFF if p != exclude and not self.is_away(p, a, b + 8)]
        if self.rng.random() < 0.06:
            choices = list(MANAGERS)
        return self.rng.choice(choices)

    def reporter(self, owner: str, creator: str) -> str:
        """Mostly the owner; now and then the creator or a manager reports for them."""
        roll = self.rng.random()
        if roll < 0.05:
            return creator
        if roll < 0.09:
            return self.rng.choice(MANAGERS)
        return owner

    # -- building blocks ----------------------------------------------------------------
    def new_plan(
        self,
        key: str,
        pattern: str,
        c: int,
        length: int,
        owner: str | None,
        creator: str | None = None,
        parent: str | None = None,
    ) -> Plan:
        creator = creator or (
            owner if owner and self.rng.random() < 0.3 else self.rng.choice(MANAGERS)
        )
        created = self.at(c, creator, 9, 15)
        return Plan(
            key=key,
            pattern=pattern,
            title=self.title(),
            creator=creator,
            created=created,
            due=self.due_end(c + length - 1),
            owner=owner,
            parent=parent,
        )

    def title(self) -> str:
        return f"{self.rng.choice(WORK).capitalize()} for {self.rng.choice(CLIENTS)}"

    def report(
        self, plan: Plan, i: int, progress: int, owner: str, at: datetime | None = None
    ) -> datetime | None:
        at = at or self.at(i, owner)
        last = plan.reports[-1] if plan.reports else None
        if at <= plan.created or (last and (at <= last[0] or progress <= last[1])):
            at = (last[0] if last else plan.created) + timedelta(minutes=30)
            if last and progress <= last[1]:
                return None
        plan.reports.append((at, min(progress, 100), self.reporter(owner, plan.creator)))
        return at

    def on_pace(
        self,
        plan: Plan,
        owner: str,
        first: int,
        finish: int,
        *,
        cadence: tuple[int, int] = (1, 3),
        margin: tuple[int, int] = (0, 8),
        final: bool = True,
    ) -> None:
        """Reports every `cadence` working days from after day `first`, each at or ahead of the
        share of working time used (against the task's deadline as planned so far), and 100%
        on day `finish`; with `final=False`, on pace up to day `finish` and no further."""
        due = plan.final_due()
        off = self.watcher.off(plan)
        i = first
        while True:
            i += self.rng.randint(*cadence)
            if i > finish or (final and i == finish):
                break
            at = self.at(i, owner)
            need = math.ceil(100 * self.watcher.share(plan, at, due, off))
            last = plan.reports[-1][1] if plan.reports else 0
            progress = min(99, max(last + 1, need + self.rng.randint(*margin)))
            if progress >= need and progress > last:
                self.report(plan, i, progress, owner, at)
        if final:
            self.report(plan, finish, 100, owner)

    def last_day(self, plan: Plan, default: int) -> int:
        """The working day of the latest report, or `default` when there is none."""
        return self.index(plan.reports[-1][0]) if plan.reports else default

    def last_progress(self, plan: Plan) -> int:
        return plan.reports[-1][1] if plan.reports else 0

    def linear(
        self,
        plan: Plan,
        owner: str,
        first: int,
        finish: int,
        start_p: int,
        cadence: tuple[int, int] = (1, 2),
        end_p: int = 100,
    ) -> None:
        """Steady steps from `start_p` after day `first` to `end_p` on day `finish`."""
        i = first
        while i < finish:
            i = min(finish, i + self.rng.randint(*cadence))
            share = (i - first) / max(1, finish - first)
            self.report(plan, i, round(start_p + (end_p - start_p) * share), owner)

    def change(self, plan: Plan, i: int, by: str, **change: object) -> datetime:
        at = self.at(i, by)
        if at <= plan.created:
            at = plan.created + timedelta(minutes=20)
        if "due" in change:
            change["due_end"] = self.due_end(int(change.pop("due")))
        plan.changes.append((at, by, dict(change)))
        return at


def _dates(a: date, b: date) -> list[date]:
    return [a + timedelta(days=n) for n in range((b - a).days + 1)]


def generate(seed: int, tasks: int = 300) -> tuple[dict, dict]:
    """A scenario (the format `load_scenario` reads) and its truth, for `seed`."""
    from bot.sim import patterns  # the patterns build on Quarter

    q = Quarter(seed)
    subtasks: dict[str, list[Plan]] = {}
    conflicts: set[str] = set()
    n = 0
    while n < tasks:
        family = q.rng.random()
        if family < 0.035:
            made = patterns.parent_family(q, n)
        elif family < 0.05:
            made = patterns.conflict_family(q, n)
            conflicts.add(made[0].key)
        else:
            pattern = q.rng.choices(list(PATTERNS), weights=list(PATTERNS.values()))[0]
            made = [patterns.single(q, f"t{n:03d}", pattern)]
        for plan in made:
            _clip(plan, q.end)
            if plan.parent:
                subtasks.setdefault(plan.parent, []).append(plan)
        q.plans.extend(made)
        n += len(made)
    truth = {
        p.key: judge_plan(
            p, subtasks.get(p.key, []), q.watcher, q.end, parent_conflict=p.key in conflicts
        )
        for p in q.plans
    }
    return _scenario(q, seed), {"scenario": f"quarter-seed{seed}", "seed": seed, "tasks": truth}


def _clip(plan: Plan, end: datetime) -> None:
    """What would happen after the quarter ends is not in the scenario, nor in its truth."""
    plan.reports = [r for r in plan.reports if r[0] <= end]
    plan.changes = [c for c in plan.changes if c[0] <= end]
    if plan.done_at and plan.done_at > end:
        plan.done_at = None


def _local(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(TEAM_TZ)).strftime("%Y-%m-%dT%H:%M")


def _scenario(q: Quarter, seed: int) -> dict:
    people = []
    for pid, name in NAMES.items():
        entry: dict = {"id": pid, "name": name, "tz": q.tz[pid]}
        if pid in q.away:
            entry["away"] = [
                {"from": _local(a), "until": _local(b), "emoji": ":palm_tree:", "text": "Vacation"}
                for a, b in q.away[pid]
            ]
        people.append(entry)
    return {
        "name": f"quarter-seed{seed}",
        "team": {
            "timezone": TEAM_TZ,
            "holidays": HOLIDAYS,
            "channel": "CMANAGERS",
            "managers": list(MANAGERS),
        },
        "people": people,
        "start": f"{START.isoformat()}T08:00",
        "end": _local(q.end),
        "sweep_every": "30m",
        "tasks": [_task(p) for p in sorted(q.plans, key=lambda p: (p.created, p.key))],
    }


def _task(plan: Plan) -> dict:
    task: dict = {
        "key": plan.key,
        "title": plan.title,
        "creator": plan.creator,
        "created": _local(plan.created),
        "due": _local_date(plan.due),
    }
    if plan.owner:
        task["owner"] = plan.owner
    if plan.parent:
        task["parent"] = plan.parent
    updates = [(at, {"by": by, "progress": p}) for at, p, by in plan.reports]
    for at, by, change in plan.changes:
        entry = {"by": by, **{k: v for k, v in change.items() if k != "due_end"}}
        if "due_end" in change:
            entry["due"] = _local_date(change["due_end"])
        updates.append((at, entry))
    if plan.done_at:
        updates.append((plan.done_at, {"by": plan.owner or plan.creator, "status": "done"}))
    updates.sort(key=lambda u: u[0])
    if updates:
        task["updates"] = [{"at": _local(at), **u} for at, u in updates]
    return task


def _local_date(due_end: datetime) -> str:
    """A due given as the end of a day in the team's zone, written as that day."""
    return (due_end.astimezone(ZoneInfo(TEAM_TZ)) - timedelta(seconds=1)).date().isoformat()
