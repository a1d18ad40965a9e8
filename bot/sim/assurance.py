"""How a replay is judged (product.md §6 "Assurance quality"): from its transcript alone,
against the truth of each task that the scenario's author knows.

A ping is a message that is not an edit. An alert about a task is a ping of kind dm,
reminder, escalation or digest that names it. A message names the tasks in its `tasks`, or
the one in its `task` (transcripts written before messages could name several).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from bot.calendar import WorkCalendar

ALERT_KINDS = ("dm", "reminder", "escalation", "digest")
REGRESS_DAYS = 5  # a case that opens again this soon after resolving is the same case


@dataclass
class AssuranceFigures:
    name: str
    tasks: int
    healthy: int
    troubled: int
    late: int
    caught: list[str] = field(default_factory=list)  # late, alerted before the deadline
    missed: list[str] = field(default_factory=list)  # late, not alerted before the deadline
    lead_days: float | None = None  # median, over `caught`
    lead_share: float | None = None  # median of lead ÷ the task's working duration
    watcher_share: float | None = None  # the same for a perfect watcher, over `caught`
    false_alarms: list[dict] = field(default_factory=list)
    owner_pings_median: float | None = None
    owner_pings_max: int = 0
    owner_pings_max_task: str | None = None
    busiest: dict | None = None  # {who, day, pings}
    channel_weeks: dict[str, int] = field(default_factory=dict)  # week's Monday -> posts
    channel_mean: float = 0.0
    channel_max: int = 0
    reposted: list[dict] = field(default_factory=list)  # {task, posts: [at, ...]}
    conflicts: tuple[int, int] = (0, 0)  # alerted, of
    conflicts_missed: list[str] = field(default_factory=list)
    unowned: tuple[int, int] = (0, 0)
    unowned_missed: list[str] = field(default_factory=list)
    per_pattern: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def recall(self) -> float | None:
        return len(self.caught) / self.late if self.late else None

    def meets(self) -> dict[str, bool]:
        """Each target of product.md §6, met or not."""
        return {
            "recall": self.recall is None or self.recall >= 0.95,
            "lead": self.lead_share is None or self.lead_share >= 0.3,
            "false_alarms": not self.false_alarms,
            "owner_pings": (self.owner_pings_median or 0) <= 4,
            "pings_per_day": (self.busiest or {}).get("pings", 0) <= 3,
            "channel": self.channel_mean <= 6 and self.channel_max <= 8,
            "reposted": not self.reposted,
            "conflicts": self.conflicts[0] == self.conflicts[1],
            "unowned": self.unowned[0] == self.unowned[1],
        }

    def as_dict(self) -> dict:
        out = asdict(self)
        out["recall"] = self.recall
        out["meets"] = self.meets()
        return out


def names(m: dict) -> list[str]:
    return m.get("tasks") or ([m["task"]] if m.get("task") else [])


def is_thread(m: dict) -> bool:
    """A reply in a thread. Transcripts without the flag posted only resolutions there."""
    if "thread" in m:
        return bool(m["thread"])
    return m.get("kind") == "resolution" and not m.get("edit")


def _calendar(scenario: dict) -> WorkCalendar:
    hours = scenario.get("policy", {}).get("working_hours", "09:00-18:00")
    start, end = (time.fromisoformat(h) for h in hours.split("-"))
    return WorkCalendar(scenario.get("timezone") or "UTC", scenario.get("holidays"), start, end)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def judge(transcript: dict, truth: dict) -> AssuranceFigures:
    scenario = transcript.get("scenario", {})
    cal = _calendar(scenario)
    facts = truth.get("tasks", truth)
    channel = scenario.get("channel")
    messages = transcript.get("messages", [])
    pings = [m for m in messages if not m.get("edit")]
    alerts: dict[str, list[dict]] = defaultdict(list)
    for m in pings:
        if m.get("kind") in ALERT_KINDS:
            for key in names(m):
                alerts[key].append(m)
    fig = AssuranceFigures(
        name=truth.get("scenario") or scenario.get("name", "scenario"),
        tasks=len(facts),
        healthy=sum(1 for f in facts.values() if f["healthy"]),
        troubled=sum(1 for f in facts.values() if not f["healthy"]),
        late=sum(1 for f in facts.values() if f["late"]),
    )
    _recall_and_lead(fig, facts, alerts, cal)
    fig.false_alarms = [
        {
            "task": key,
            "pattern": f.get("pattern"),
            "first": alerts[key][0]["at"],
            "rules": sorted({r for m in alerts[key] for r in m.get("rules", [])}),
        }
        for key, f in facts.items()
        if f["healthy"] and alerts.get(key)
    ]
    is_person = {m["to"]: m["to"] != channel and m["to"][:1] not in "CG" for m in pings}
    _owner_pings(fig, facts, [m for m in pings if is_person[m["to"]]], scenario, cal)
    _channel(fig, [m for m in pings if not is_person[m["to"]]], messages, scenario, cal)
    fig.conflicts, fig.conflicts_missed = _flagged(facts, alerts, "conflict", "deadline_conflict")
    fig.unowned, fig.unowned_missed = _flagged(facts, alerts, "unowned", "missing_owner")
    fig.per_pattern = _per_pattern(fig, facts)
    return fig


def _recall_and_lead(fig: AssuranceFigures, facts: dict, alerts: dict, cal: WorkCalendar) -> None:
    day = cal.day_seconds()
    leads, shares, watcher = [], [], []
    for key, f in facts.items():
        if not f["late"]:
            continue
        due = _at(f["due"])
        before = [_at(m["at"]) for m in alerts.get(key, []) if _at(m["at"]) < due]
        if not before:
            fig.missed.append(key)
            continue
        fig.caught.append(key)
        duration = max(f.get("duration_working_days") or 0, 0.01)
        lead = cal.working_seconds(min(before), due) / day
        leads.append(lead)
        shares.append(lead / duration)
        if f.get("knowable_at"):
            watcher.append(cal.working_seconds(_at(f["knowable_at"]), due) / day / duration)
    fig.lead_days = median(leads) if leads else None
    fig.lead_share = median(shares) if shares else None
    fig.watcher_share = median(watcher) if watcher else None


def _local_day(m: dict, zones: dict[str, str], cal: WorkCalendar) -> date:
    tz = ZoneInfo(zones.get(m["to"]) or cal.timezone)
    return _at(m["at"]).astimezone(tz).date()


def _owner_pings(fig, facts, to_people: list[dict], scenario: dict, cal) -> None:  # type: ignore[no-untyped-def]
    """Pings to people (not the channel): per troubled task, and per person per day."""
    per_task = Counter(key for m in to_people for key in names(m))
    troubled = sorted(k for k, f in facts.items() if not f["healthy"])
    counts = [per_task.get(k, 0) for k in troubled]
    if counts:
        fig.owner_pings_median = median(counts)
        fig.owner_pings_max = max(counts)
        fig.owner_pings_max_task = troubled[counts.index(fig.owner_pings_max)]
    zones = {p["id"]: p.get("tz") for p in scenario.get("people", [])}
    per_day = Counter((m["to"], _local_day(m, zones, cal)) for m in to_people)
    if per_day:
        (who, day), n = min(per_day.items(), key=lambda kv: (-kv[1], kv[0][1], kv[0][0]))
        fig.busiest = {"who": who, "day": day.isoformat(), "pings": n}


def _channel(fig, to_channel: list[dict], messages: list[dict], scenario: dict, cal) -> None:  # type: ignore[no-untyped-def]
    """Top-level posts in the managers' channel per week, and cases posted on their own more
    than once within one open spell (a resolution ends a spell only if the case stays
    resolved for longer than the regress window)."""
    top = [m for m in to_channel if not is_thread(m)]
    weeks: Counter[date] = Counter()
    for m in top:
        day = cal.local_date(_at(m["at"]))
        weeks[day - timedelta(days=day.weekday())] += 1
    if scenario.get("start") and scenario.get("end"):
        first = cal.local_date(_at(scenario["start"]))
        last = cal.local_date(_at(scenario["end"]))
        monday = first - timedelta(days=first.weekday())
        while monday <= last:
            weeks.setdefault(monday, 0)
            monday += timedelta(days=7)
    fig.channel_weeks = {d.isoformat(): n for d, n in sorted(weeks.items())}
    fig.channel_mean = sum(weeks.values()) / len(weeks) if weeks else 0.0
    fig.channel_max = max(weeks.values(), default=0)
    own: dict[str, list[datetime]] = defaultdict(list)
    for m in top:
        if m.get("kind") == "escalation":
            for key in names(m):
                own[key].append(_at(m["at"]))
    resolved: dict[str, list[datetime]] = defaultdict(list)
    for m in messages:
        if m.get("kind") == "resolution":
            for key in names(m):
                resolved[key].append(_at(m["at"]))
    regress = scenario.get("policy", {}).get("regress_days", REGRESS_DAYS)
    for key, posts in sorted(own.items()):
        posts.sort()
        for a, b in zip(posts, posts[1:], strict=False):
            ends = [r for r in resolved.get(key, []) if a <= r <= b]
            if not ends or cal.working_seconds(max(ends), b) / cal.day_seconds() <= regress:
                fig.reposted.append({"task": key, "posts": [p.isoformat() for p in posts]})
                break


def _flagged(facts: dict, alerts: dict, flag: str, rule: str) -> tuple[tuple[int, int], list]:
    """Tasks with `flag` in their truth alerted on for `rule` (any alert naming them, when the
    transcript does not say which rules a message is about)."""
    wanted = sorted(k for k, f in facts.items() if f.get(flag))
    missed = []
    for key in wanted:
        about = alerts.get(key, [])
        if not any(rule in m.get("rules", [rule]) or not m.get("rules") for m in about):
            missed.append(key)
    return (len(wanted) - len(missed), len(wanted)), missed


def _per_pattern(fig: AssuranceFigures, facts: dict) -> dict[str, dict[str, int]]:
    alarmed = {a["task"] for a in fig.false_alarms}
    caught = set(fig.caught)
    out: dict[str, dict[str, int]] = {}
    for key, f in facts.items():
        row = out.setdefault(
            f.get("pattern") or "-",
            {"tasks": 0, "late": 0, "caught": 0, "healthy": 0, "false_alarms": 0},
        )
        row["tasks"] += 1
        row["late"] += f["late"]
        row["caught"] += key in caught
        row["healthy"] += f["healthy"]
        row["false_alarms"] += key in alarmed
    return dict(sorted(out.items()))


# -- the figures as text ----------------------------------------------------------------------
def _n(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _mark(ok: bool) -> str:
    return "ok  " if ok else "MISS"


def _some(keys: list[str], facts_patterns: dict[str, str], limit: int = 12) -> str:
    shown = [f"{k} ({facts_patterns.get(k, '-')})" for k in keys[:limit]]
    more = f" and {len(keys) - limit} more" if len(keys) > limit else ""
    return ", ".join(shown) + more


def render(fig: AssuranceFigures, truth: dict | None = None) -> str:
    """Every figure, one a line, each marked `ok` or `MISS` against its target."""
    facts = (truth or {}).get("tasks", truth or {})
    patterns = {k: f.get("pattern", "-") for k, f in facts.items()}
    ok = fig.meets()
    return "\n".join(_caught(fig, ok, patterns) + _noise(fig, ok, patterns))


def _caught(fig: AssuranceFigures, ok: dict, patterns: dict) -> list[str]:
    """What was caught, how early, and what was alerted on that needed nothing."""
    recall = "-" if fig.recall is None else f"{100 * fig.recall:.1f}%"
    lines = [
        f"Assurance quality: {fig.name} ({fig.tasks} tasks: {fig.healthy} healthy, "
        f"{fig.troubled} troubled, {fig.late} late or never finished)",
        f"  {_mark(ok['recall'])} recall: {len(fig.caught)} of {fig.late} late tasks alerted "
        f"before their deadline ({recall}; target at least 95%)",
    ]
    if fig.missed:
        lines.append(f"         missed: {_some(fig.missed, patterns)}")
    lines.append(
        f"  {_mark(ok['lead'])} lead: median {_n(fig.lead_days, 1)} working days, "
        f"{_n(fig.lead_share)} of the task's duration (over {len(fig.caught)}; a perfect "
        f"watcher: {_n(fig.watcher_share)}; target at least 0.3)"
    )
    lines.append(
        f"  {_mark(ok['false_alarms'])} false alarms: {len(fig.false_alarms)} of {fig.healthy} "
        "healthy tasks alerted (target none)"
    )
    for alarm in fig.false_alarms[:12]:
        lines.append(
            f"         {alarm['task']} ({alarm['pattern']}): first {alarm['first'][:16]}, "
            f"{', '.join(alarm['rules']) or 'no rule named'}"
        )
    if len(fig.false_alarms) > 12:
        lines.append(f"         and {len(fig.false_alarms) - 12} more")
    return lines


def _noise(fig: AssuranceFigures, ok: dict, patterns: dict) -> list[str]:
    """How much the people and the managers' channel heard, and what planning was flagged."""
    lines: list[str] = []
    lines.append(
        f"  {_mark(ok['owner_pings'])} owner pings per troubled task: median "
        f"{_n(fig.owner_pings_median, 1)}, max {fig.owner_pings_max} "
        f"({fig.owner_pings_max_task or '-'}) (target median at most 4)"
    )
    busiest = fig.busiest or {"pings": 0, "who": "-", "day": "-"}
    lines.append(
        f"  {_mark(ok['pings_per_day'])} most pings to one person on one day: "
        f"{busiest['pings']} ({busiest['who']}, {busiest['day']}) (target at most 3)"
    )
    worst = max(fig.channel_weeks.items(), key=lambda kv: kv[1], default=("-", 0))
    lines.append(
        f"  {_mark(ok['channel'])} managers' channel, top-level posts a week: mean "
        f"{fig.channel_mean:.1f}, max {fig.channel_max} (w/c {worst[0]}) "
        "(target mean at most 6, max 8)"
    )
    lines.append(
        f"  {_mark(ok['reposted'])} cases posted on their own more than once: "
        f"{len(fig.reposted)} (target none)"
        + (f": {_some([r['task'] for r in fig.reposted], patterns)}" if fig.reposted else "")
    )
    for label, key, (hit, of), missed in (
        ("planning conflicts", "conflicts", fig.conflicts, fig.conflicts_missed),
        ("tasks without an owner", "unowned", fig.unowned, fig.unowned_missed),
    ):
        tail = f"; missed {', '.join(missed)}" if missed else ""
        lines.append(f"  {_mark(ok[key])} {label} alerted: {hit} of {of}{tail}")
    lines.append("  per pattern          tasks  late  caught  healthy  false alarms")
    for pattern, row in fig.per_pattern.items():
        lines.append(
            f"    {pattern:<18} {row['tasks']:>5} {row['late']:>5} {row['caught']:>7} "
            f"{row['healthy']:>8} {row['false_alarms']:>13}"
        )
    return lines
