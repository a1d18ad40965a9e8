"""The assurance report of a replay: would Vigil have caught what went wrong, how early, and
how much noise would the team have had?

Everything here is computed from the transcript alone (the messages sent, and every task's
final state and history, as `simulate --json` writes them), so anyone can recompute it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.blocks import day_label
from bot.calendar import WorkCalendar

ALERTS = ("dm", "reminder", "escalation")
ACTIVITY = ("created", "progress", "owner")  # what restarts the clock a silence is measured on


@dataclass(frozen=True)
class TaskLine:
    key: str
    title: str
    outcome: str  # on time, late, never finished, open (not yet due), cancelled
    due: datetime | None
    finished: datetime | None
    first_flag: datetime | None
    first_flag_to: str | None
    lead_days: int | None  # working days between the first flag and the deadline (< 0: after)
    silence_days: float | None  # working days from the last activity to the first flag
    alerts: int


@dataclass
class Report:
    name: str
    start: datetime
    end: datetime
    people: int
    tasks: list[TaskLine] = field(default_factory=list)
    dms_per_person_week: dict[str, dict[date, int]] = field(default_factory=dict)
    managers_per_week: dict[date, int] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def late(self) -> list[TaskLine]:
        return [t for t in self.tasks if t.outcome in ("late", "never finished")]

    @property
    def on_time(self) -> list[TaskLine]:
        return [t for t in self.tasks if t.outcome == "on time"]

    @property
    def noise(self) -> int:
        """Alerts about tasks that finished on time."""
        return sum(t.alerts for t in self.on_time)

    @property
    def longest_silence(self) -> TaskLine | None:
        candidates = [t for t in self.late if t.silence_days is not None]
        return max(candidates, key=lambda t: t.silence_days) if candidates else None


def _at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def week_of(moment: datetime, cal: WorkCalendar) -> date:
    day = cal.local_date(moment)
    return day - timedelta(days=day.weekday())


def compute_report(transcript: dict) -> Report:
    sc = transcript["scenario"]
    cal = WorkCalendar(sc["timezone"], sc.get("holidays"))
    end = datetime.fromisoformat(sc["end"])
    report = Report(
        name=sc["name"],
        start=datetime.fromisoformat(sc["start"]),
        end=end,
        people=len(sc.get("people", [])),
    )
    messages = [m for m in transcript["messages"] if not m.get("edit")]
    by_task: dict[str, list[dict]] = defaultdict(list)
    for m in messages:
        by_task[m["task"]].append(m)

    for key, task in transcript["tasks"].items():
        due, finished = _at(task["due"]), _at(task["closed_at"])
        status = task["status"]
        if status == "cancelled":
            outcome = "cancelled"
        elif status == "done":
            outcome = "late" if due and finished and finished > due else "on time"
        elif due and due <= end:
            outcome = "never finished"
        else:
            outcome = "open (not yet due)"
        flags = [m for m in by_task.get(key, []) if m["kind"] in ("dm", "escalation")]
        first = flags[0] if flags else None
        first_at = _at(first["at"]) if first else None
        lead = None
        if first_at and due:
            flag_day, due_day = (
                cal.local_date(first_at),
                cal.local_date(due - timedelta(microseconds=1)),
            )
            lead = (
                cal.working_days_between(flag_day, due_day)
                if flag_day <= due_day
                else -cal.working_days_between(due_day, flag_day)
            )
        silence = None
        if outcome in ("late", "never finished"):
            until = first_at or min(end, finished or end)
            activity = [
                _at(e["at"])
                for e in task["history"]
                if e["kind"] in ACTIVITY and _at(e["at"]) <= until
            ]
            since = max(activity) if activity else _at(task["created"])
            silence = round(cal.working_seconds(since, until) / cal.day_seconds(), 1)
        report.tasks.append(
            TaskLine(
                key=key,
                title=task["title"],
                outcome=outcome,
                due=due,
                finished=finished,
                first_flag=first_at,
                first_flag_to=(
                    "managers" if first and first["kind"] == "escalation" else first["to"]
                )
                if first
                else None,
                lead_days=lead,
                silence_days=silence,
                alerts=sum(1 for m in by_task.get(key, []) if m["kind"] in ALERTS),
            )
        )

    dms: dict[str, Counter] = defaultdict(Counter)
    managers: Counter = Counter()
    for m in messages:
        week = week_of(_at(m["at"]), cal)
        if m["kind"] in ("dm", "reminder"):
            dms[m["to"]][week] += 1
        elif m["kind"] == "escalation":
            managers[week] += 1
    weeks = []
    week = week_of(report.start, cal)
    while week <= cal.local_date(end):
        weeks.append(week)
        week += timedelta(days=7)
    report.managers_per_week = {w: managers.get(w, 0) for w in weeks}
    report.dms_per_person_week = {p: dict(sorted(c.items())) for p, c in sorted(dms.items())}
    kinds = Counter(m["kind"] for m in messages)
    report.totals = {
        "dm": kinds["dm"],
        "reminder": kinds["reminder"],
        "escalation": kinds["escalation"],
        "resolution": kinds["resolution"],
    }
    return report


def _day(moment: datetime | None, cal: WorkCalendar) -> str:
    return day_label(cal.local_date(moment)) if moment else "-"


def render_report(report: Report, transcript: dict) -> str:
    sc = transcript["scenario"]
    cal = WorkCalendar(sc["timezone"], sc.get("holidays"))
    names = {p["id"]: p.get("name") or p["id"] for p in sc.get("people", [])}
    out = [
        f"Assurance report: {report.name}, {report.people} people, {len(report.tasks)} tasks, "
        f"{_day(report.start, cal)} to {_day(report.end, cal)} {cal.local_date(report.end).year}",
        "",
    ]
    late = report.late
    out.append(f"Late or never finished: {len(late)} of {len(report.tasks)} tasks")
    if late:
        out.append(
            f"  {'task':<18} {'due':<11} {'finished':<11} {'first flagged':<24} {'lead time':<22} silence before"
        )
        for t in late:
            flagged = (
                f"{_day(t.first_flag, cal)} ({names.get(t.first_flag_to, t.first_flag_to)})"
                if t.first_flag
                else "never"
            )
            if t.lead_days is None:
                lead = "-"
            elif t.lead_days >= 0:
                lead = f"{t.lead_days} working days before"
            else:
                lead = f"{-t.lead_days} working days after"
            out.append(
                f"  {t.key[:18]:<18} {_day(t.due and t.due - timedelta(microseconds=1), cal):<11} "
                f"{_day(t.finished, cal):<11} "
                f"{flagged:<24} {lead:<22} {t.silence_days} working days"
            )
    longest = report.longest_silence
    if longest:
        out.append(
            f"Longest silence before a late task was flagged: {longest.silence_days} working days ({longest.key})."
        )
    on_time = report.on_time
    alerted = [t for t in on_time if t.alerts]
    out.append(
        f"Alerts on tasks that finished on time: {report.noise} messages on {len(alerted)} of {len(on_time)} tasks."
    )
    out.append("")
    out.append("Managers' messages per week")
    top = max(report.managers_per_week.values(), default=0)
    for week, n in report.managers_per_week.items():
        bar = "█" * n if top <= 40 else "█" * round(40 * n / top)
        out.append(f"  w/c {day_label(week):<11} {bar} {n}")
    out.append("")
    out.append("DMs and reminders per person per week")
    weeks = list(report.managers_per_week)
    if report.dms_per_person_week:
        out.append("  " + " " * 10 + "".join(f"{w.day:>3}/{w.month:<3}" for w in weeks) + "  total")
        for person, counts in report.dms_per_person_week.items():
            cells = "".join(f"{counts.get(w, 0) or '·':>7}" for w in weeks)
            out.append(f"  {names.get(person, person)[:10]:<10}{cells}  {sum(counts.values()):>5}")
    else:
        out.append("  none")
    t = report.totals
    out.append("")
    out.append(
        f"In all: {t['dm']} DMs, {t['reminder']} reminders, {t['escalation']} managers' messages, "
        f"{t['resolution']} resolutions."
    )
    return "\n".join(out)
