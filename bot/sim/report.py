"""The assurance report of a replay: would Vigil have caught what went wrong, how early, and
how much noise would the team have had?

Everything here is computed from the transcript alone (the scenario's settings, the messages
sent, and every task's final state and history, as `simulate --json` writes them), so anyone
can recompute it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from bot.calendar import WorkCalendar
from bot.slack.blocks import day_label

# product.md §6: a ping is a message that is not an edit; an alert about a task is a ping of one
# of these kinds that names it. The first alert is when the task was first flagged.
ALERTS = ("dm", "reminder", "escalation", "digest")
FLAGS = ALERTS
CHART_WIDTH = 40


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
    alert_rules: dict[str, int] = field(default_factory=dict)  # alerts by rule


@dataclass
class Report:
    name: str
    start: datetime
    end: datetime
    people: int
    tasks: list[TaskLine] = field(default_factory=list)
    dms_per_person_week: dict[str, dict[date, int]] = field(default_factory=dict)
    pings_per_person_day: dict[tuple[str, date], int] = field(default_factory=dict)
    managers_per_week: dict[date, int] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    refused: int = 0

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


def calendar_of(scenario: dict) -> WorkCalendar:
    """The team's working time as the replay used it: zone, holidays and working hours."""
    hours = scenario.get("policy", {}).get("working_hours", "09:00-18:00")
    start, end = (time.fromisoformat(part) for part in hours.split("-"))
    return WorkCalendar(scenario["timezone"], scenario.get("holidays"), start, end)


def week_of(moment: datetime, cal: WorkCalendar) -> date:
    day = cal.local_date(moment)
    return day - timedelta(days=day.weekday())


def restarts_stall_clock(event: dict) -> bool:
    """What restarts the stall clock (bot/tasks.py): creation, a change of progress value, a
    new owner, an unblock. Reporting the same value again, a note or a snooze does not."""
    kind = event["kind"]
    if kind == "created":
        return True
    if kind in ("progress", "owner"):
        return event["old"] != event["new"]
    return kind == "status" and event["old"] == "blocked" and event["new"] == "open"


def lead_days(first: datetime, due: datetime, cal: WorkCalendar) -> int:
    """Working days from the day of the first flag to the deadline's day; negative after."""
    flag_day = cal.local_date(first)
    due_day = cal.due_day(due)
    if flag_day <= due_day:
        return cal.working_days_between(flag_day, due_day)
    return -cal.working_days_between(due_day, flag_day)


def compute_report(transcript: dict) -> Report:
    sc = transcript["scenario"]
    cal = calendar_of(sc)
    end = datetime.fromisoformat(sc["end"])
    report = Report(
        name=sc["name"],
        start=datetime.fromisoformat(sc["start"]),
        end=end,
        people=len(sc.get("people", [])),
        refused=len(transcript.get("refused", [])),
    )
    messages = [m for m in transcript["messages"] if not m.get("edit")]
    by_task: dict[str, list[dict]] = defaultdict(list)
    for m in messages:
        for key in tasks_of(m):
            by_task[key].append(m)
    for key, task in transcript["tasks"].items():
        report.tasks.append(_task_line(key, task, by_task.get(key, []), end, cal))
    _count_messages(report, messages, cal)
    kinds = Counter(m["kind"] for m in messages if not m.get("thread"))
    report.totals = {k: kinds[k] for k in ("dm", "reminder", "escalation", "digest")}
    report.totals["resolved"] = resolved_cases(transcript["messages"])
    return report


def _outcome(task: dict, end: datetime) -> str:
    due, finished = _at(task["due"]), _at(task["closed_at"])
    if task["status"] == "cancelled":
        return "cancelled"
    if task["status"] == "done":
        return "late" if due and finished and finished > due else "on time"
    if due and due <= end:
        return "never finished"
    return "open (not yet due)"


def _task_line(
    key: str, task: dict, about: list[dict], end: datetime, cal: WorkCalendar
) -> TaskLine:
    """How one task ended, and what Vigil said about it (`about`: the messages naming it)."""
    due, finished = _at(task["due"]), _at(task["closed_at"])
    outcome = _outcome(task, end)
    first = next((m for m in about if m["kind"] in FLAGS), None)
    first_at = _at(first["at"]) if first else None
    silence = None
    if outcome in ("late", "never finished"):
        until = first_at or min(end, finished or end)
        since = max(
            (
                _at(e["at"])
                for e in task["history"]
                if restarts_stall_clock(e) and _at(e["at"]) <= until
            ),
            default=_at(task["created"]),
        )
        silence = round(cal.working_seconds(since, until) / cal.day_seconds(), 1)
    alerts = [m for m in about if m["kind"] in ALERTS]
    rules = Counter(rule for m in alerts for rule in m["rules"])
    return TaskLine(
        key=key,
        title=task["title"],
        outcome=outcome,
        due=due,
        finished=finished,
        first_flag=first_at,
        first_flag_to=(
            ("managers" if first["kind"] in ("escalation", "digest") else first["to"])
            if first
            else None
        ),
        lead_days=lead_days(first_at, due, cal) if first_at and due else None,
        silence_days=silence,
        alerts=len(alerts),
        alert_rules=dict(sorted(rules.items())),
    )


def _count_messages(report: Report, messages: list[dict], cal: WorkCalendar) -> None:
    """Pings per person a day and a week, and the managers' messages a week."""
    dms: dict[str, Counter] = defaultdict(Counter)
    per_day: Counter = Counter()
    managers: Counter = Counter()
    for m in messages:
        week = week_of(_at(m["at"]), cal)
        if m["kind"] in ("dm", "reminder"):
            dms[m["to"]][week] += 1
            per_day[(m["to"], cal.local_date(_at(m["at"])))] += 1
        elif m["kind"] in ("escalation", "digest") and not m.get("thread"):
            managers[week] += 1
    report.pings_per_person_day = dict(per_day)
    weeks = []
    week = week_of(report.start, cal)
    while week <= cal.local_date(report.end):
        weeks.append(week)
        week += timedelta(days=7)
    report.managers_per_week = {w: managers.get(w, 0) for w in weeks}
    report.dms_per_person_week = {p: dict(sorted(c.items())) for p, c in sorted(dms.items())}


def tasks_of(m: dict) -> list[str]:
    """The keys of the tasks a message names (`task` alone in transcripts before `tasks`)."""
    return list(m.get("tasks") or ([m["task"]] if m.get("task") else []))


def resolved_cases(messages: list[dict]) -> int:
    """Cases whose resolution reached someone: a resolution edits every message that showed
    the case (and replies in its thread), so count each task once per flag."""
    flagged: set[str] = set()
    resolved = 0
    for m in messages:
        if m["kind"] in FLAGS and not m.get("edit"):
            flagged.update(tasks_of(m))
        elif m["kind"] == "resolution":
            for key in tasks_of(m):
                if key in flagged:
                    flagged.discard(key)
                    resolved += 1
    return resolved


# -- the text ------------------------------------------------------------------------------
def _day(moment: datetime | None, cal: WorkCalendar) -> str:
    return day_label(cal.local_date(moment)) if moment else "-"


def _lead(days: int | None) -> str:
    if days is None:
        return "-"
    return f"{abs(days)} working days {'before' if days >= 0 else 'after'}"


def render_report(report: Report, transcript: dict) -> str:
    sc = transcript["scenario"]
    cal = calendar_of(sc)
    names = {p["id"]: p.get("name") or p["id"] for p in sc.get("people", [])}
    out = [
        f"Assurance report: {report.name}, {report.people} people, {len(report.tasks)} tasks, "
        f"{_day(report.start, cal)} to {_day(report.end, cal)} {cal.local_date(report.end).year}",
        "",
    ]
    out += _late_section(report, cal, names)
    out += _noise_section(report)
    if report.refused:
        out.append(
            f"Updates refused (only the owner, the creator or a manager may change a task): "
            f"{report.refused}."
        )
    out += ["", "Managers' messages per week"]
    out += _week_chart(report)
    out += ["", "DMs and reminders per person per week"]
    out += _person_table(report, names)
    out += ["", "Messages to one person on one working day (how many person-days had each count)"]
    out += _per_day_chart(report, names)
    t = report.totals
    out.append("")
    out.append(
        f"In all: {t['dm']} DMs, {t['reminder']} reminders, {t['digest']} managers' digests, "
        f"{t['escalation']} managers' messages of their own, {t['resolved']} cases resolved."
    )
    return "\n".join(out)


def _late_section(report: Report, cal: WorkCalendar, names: dict[str, str]) -> list[str]:
    late = report.late
    out = [f"Late or never finished: {len(late)} of {len(report.tasks)} tasks"]
    if late:
        out.append(
            f"  {'task':<18} {'due':<11} {'finished':<11} {'first flagged':<24} "
            f"{'lead time':<23} silence before"
        )
        for t in late:
            flagged = (
                f"{_day(t.first_flag, cal)} ({names.get(t.first_flag_to, t.first_flag_to)})"
                if t.first_flag
                else "never"
            )
            due_day = day_label(cal.due_day(t.due)) if t.due else "-"
            out.append(
                f"  {t.key[:18]:<18} {due_day:<11} {_day(t.finished, cal):<11} "
                f"{flagged:<24} {_lead(t.lead_days):<23} {t.silence_days} working days"
            )
    longest = report.longest_silence
    if longest:
        out.append(
            f"Longest silence before a late task was flagged: {longest.silence_days} working "
            f"days ({longest.key})."
        )
    return out


def _noise_section(report: Report) -> list[str]:
    on_time = report.on_time
    alerted = [t for t in on_time if t.alerts]
    out = [
        f"Alerts on tasks that finished on time: {report.noise} messages on {len(alerted)} "
        f"of {len(on_time)} tasks."
    ]
    for t in sorted(alerted, key=lambda t: (-t.alerts, t.key)):
        rules = ", ".join(f"{rule} {n}" for rule, n in t.alert_rules.items())
        out.append(f"  {t.key[:18]:<18} {t.alerts:>3}  {rules}")
    return out


def _week_chart(report: Report) -> list[str]:
    top = max(report.managers_per_week.values(), default=0)
    out = []
    for week, n in report.managers_per_week.items():
        width = n if top <= CHART_WIDTH else round(CHART_WIDTH * n / top)
        out.append(f"  w/c {day_label(week):<11} {n:>3} {'█' * width}".rstrip())
    return out


def _per_day_chart(report: Report, names: dict[str, str]) -> list[str]:
    counts = Counter(report.pings_per_person_day.values())
    if not counts:
        return ["  none"]
    out = [f"  {n} a day  {counts[n]:>4} {'█' * min(CHART_WIDTH, counts[n])}" for n in sorted(counts)]
    (who, day), most = max(report.pings_per_person_day.items(), key=lambda kv: (kv[1], kv[0][1]))
    out.append(f"  most: {most}, to {names.get(who, who)} on {day_label(day)}")
    return out


def _person_table(report: Report, names: dict[str, str]) -> list[str]:
    if not report.dms_per_person_week:
        return ["  none"]
    weeks = list(report.managers_per_week)
    head = "".join(f"{f'{w.day}/{w.month}':>7}" for w in weeks)
    out = [f"  {'':<10}{head}  {'total':>5}"]
    for person, counts in report.dms_per_person_week.items():
        cells = "".join(f"{counts.get(w, 0) or '·':>7}" for w in weeks)
        out.append(f"  {names.get(person, person)[:10]:<10}{cells}  {sum(counts.values()):>5}")
    return out
