"""The patterns real work has, each randomised: what the people of a generated quarter do to
one task (or to a parent and its subtasks). Days are indexes into the quarter's working days;
`c` is the day a task is created, `due` the day it is due."""

from __future__ import annotations

import math
from datetime import timedelta

from bot.sim.quarter import BLOCKS, HEALTHY_TRIES, LAST_DUE, MANAGERS, Quarter
from bot.sim.truth import Plan, judge_plan


def _length(q: Quarter, lo: int = 3, hi: int = 25) -> int:
    """Working days from creation to deadline: more short tasks than long ones."""
    return min(hi, lo + int((hi - lo + 1) * q.rng.random() ** 1.4))


def _start(q: Quarter, length: int) -> int:
    last = q.days.index(LAST_DUE)
    return q.rng.randint(0, max(0, last - length + 1))


def _fresh(q: Quarter, key: str, pattern: str, lo: int = 3, hi: int = 25) -> tuple[Plan, int, int]:
    length = _length(q, lo, hi)
    c = _start(q, length)
    plan = q.new_plan(key, pattern, c, length, q.pick_owner(c, c + length - 1))
    return plan, c, c + length - 1


def single(q: Quarter, key: str, pattern: str) -> Plan:
    tries = HEALTHY_TRIES if pattern == "healthy" else 1
    for _ in range(tries):
        plan = SINGLE[pattern](q, key)
        if tries == 1 or judge_plan(plan, [], q.watcher, q.end)["healthy"]:
            break
    return plan


def healthy(q: Quarter, key: str) -> Plan:
    """On pace at every report, a report every 1 to 3 working days, done on time: steady,
    in big uneven steps, 100% on the last day, or early."""
    plan, c, due = _fresh(q, key, "healthy")
    variant = q.rng.choice(("steady", "steady", "big_steps", "last_day", "early"))
    if variant == "steady":
        finish = due - (q.rng.randint(0, 1) if due - c > 4 else 0)
        q.on_pace(plan, plan.owner, c, finish, cadence=(1, q.rng.randint(1, 3)))
    elif variant == "big_steps":
        q.on_pace(plan, plan.owner, c, due, cadence=(2, 3), margin=(8, 30))
    elif variant == "last_day":
        q.on_pace(plan, plan.owner, c, due, cadence=(1, 2), margin=(0, 5))
    else:
        early = due - q.rng.randint(1, max(1, (due - c) // 4))
        q.on_pace(plan, plan.owner, c, max(c + 1, early), margin=(5, 15))
    return plan


def staller(q: Quarter, key: str) -> Plan:
    """On pace, then nothing for one to three weeks, then back: some still make it."""
    plan, c, due = _fresh(q, key, "staller", 8)
    q.on_pace(plan, plan.owner, c, c + q.rng.randint(1, max(1, (due - c) // 2)), final=False)
    resume = q.last_day(plan, c) + q.rng.randint(5, 15)
    makes_it = q.rng.random() < 0.35 and resume + 1 < due
    finish = due if makes_it else max(resume + 1, due + q.rng.randint(1, 6))
    q.linear(plan, plan.owner, resume - 1, finish, q.last_progress(plan) + 5)
    return plan


def slow(q: Quarter, key: str) -> Plan:
    """Reports regularly at 40 to 70% of the pace the deadline needs."""
    plan, c, _ = _fresh(q, key, "slow", 4)
    factor, i = q.rng.uniform(0.4, 0.7), c
    whole = q.cal.working_seconds(plan.created, plan.due)
    while i < len(q.days) + 5:
        i += q.rng.randint(1, 3)
        used = q.cal.working_seconds(plan.created, q.at(i, plan.owner)) / whole
        progress = math.floor(100 * used * factor)
        if progress > q.last_progress(plan):
            q.report(plan, i, min(100, progress), plan.owner)
        if progress >= 100:
            break
    return plan


def late_starter(q: Quarter, key: str) -> Plan:
    """Leaves the first half idle, then rushes: some make it, some do not."""
    plan, c, due = _fresh(q, key, "late_starter", 8)
    idle = math.ceil((due - c + 1) * q.rng.uniform(0.45, 0.6))
    finish = due if q.rng.random() < 0.4 else due + q.rng.randint(1, 5)
    q.linear(plan, plan.owner, c + idle - 1, finish, q.rng.randint(5, 20))
    return plan


def never_finished(q: Quarter, key: str) -> Plan:
    """Some progress, then silence to the end of the quarter."""
    plan, c, due = _fresh(q, key, "never_finished", 5)
    stop = c + q.rng.randint(1, max(1, int((due - c) * 0.7)))
    q.on_pace(plan, plan.owner, c, stop, final=False)
    return plan


def unowned(q: Quarter, key: str) -> Plan:
    """Created by a manager with no owner, assigned a day or two later, then done well."""
    length = _length(q, 4)
    c = _start(q, length)
    manager = q.rng.choice(MANAGERS)
    plan = q.new_plan(key, "unowned", c, length, None, creator=manager)
    assign = c + q.rng.randint(1, 2)
    owner = q.pick_owner(assign, c + length - 1)
    q.change(plan, assign, q.rng.choice(MANAGERS), owner=owner)
    q.on_pace(plan, owner, assign, max(assign + 1, c + length - 1), cadence=(1, 2))
    return plan


def away(q: Quarter, key: str) -> Plan:
    """The owner is away for a week in the middle: the deadline moves by that week, or not
    (late), or the owner catches up."""
    person = q.rng.choice(sorted(q.away))
    leave, back = (q.index(t) for t in q.away[person][0])
    c = max(0, leave - q.rng.randint(2, 6))
    due = max(back + 2, c + _length(q, 10, 20) - 1)
    plan = q.new_plan(key, "away", c, due - c + 1, person)
    q.on_pace(plan, person, c, leave - 1, final=False)
    variant = q.rng.choice(("moved", "moved", "late", "caught_up"))
    if variant == "moved":
        q.change(plan, leave - 1, q.rng.choice((person, *MANAGERS)), due=due + back - leave)
        q.on_pace(plan, person, back - 1, due + back - leave, cadence=(1, 2))
    elif variant == "late":
        q.linear(
            plan,
            person,
            back - 1,
            due + back - leave + q.rng.randint(0, 2),
            q.last_progress(plan) + 5,
        )
    else:
        q.on_pace(plan, person, back - 1, due, cadence=(1, 2), margin=(0, 4))
    return plan


def blocked(q: Quarter, key: str) -> Plan:
    """Blocked for a few days (waiting on someone), then unblocked."""
    plan, c, due = _fresh(q, key, "blocked", 6)
    block = c + q.rng.randint(1, max(1, (due - c) // 2))
    q.on_pace(plan, plan.owner, c, block - 1, final=False)
    q.change(plan, block, plan.owner, status="blocked", reason=q.rng.choice(BLOCKS))
    unblock = block + q.rng.randint(2, 5)
    q.change(plan, unblock, q.rng.choice((plan.owner, *MANAGERS)), status="open")
    finish = (
        due
        if q.rng.random() < 0.5 and unblock + 1 < due
        else max(unblock + 1, due + q.rng.randint(1, 4))
    )
    q.linear(plan, plan.owner, unblock, finish, q.last_progress(plan) + 5)
    return plan


def reassigned(q: Quarter, key: str) -> Plan:
    """Handed to someone else halfway; the new owner carries on."""
    plan, c, due = _fresh(q, key, "reassigned", 6)
    q.on_pace(plan, plan.owner, c, c + q.rng.randint(2, max(2, due - c - 3)), final=False)
    k = q.last_day(plan, c) + 1
    new = q.pick_owner(k, due, exclude=plan.owner)
    q.change(plan, k, q.rng.choice(MANAGERS), owner=new)
    q.on_pace(plan, new, k, max(k + 1, due), cadence=(1, 2))
    return plan


def due_later(q: Quarter, key: str) -> Plan:
    """The deadline moves later: more scope (and the work stays on pace), or the owner is
    behind and moves it to when they will finish."""
    plan, c, due = _fresh(q, key, "due_later", 6)
    if q.rng.random() < 0.5:
        q.on_pace(plan, plan.owner, c, c + q.rng.randint(1, max(1, (due - c) // 2)), final=False)
        k = q.last_day(plan, c) + 1
        new_due = due + q.rng.randint(2, 5)
        q.change(plan, k, q.rng.choice(MANAGERS), due=new_due)
        q.on_pace(plan, plan.owner, k, new_due, cadence=(1, 2))
        return plan
    factor = q.rng.uniform(0.7, 0.85)
    k = c + max(2, int((due - c) * 0.6))
    q.linear(plan, plan.owner, c, k, 5, end_p=int(60 * factor))
    new_due = c + math.ceil((due - c + 1) / factor)
    q.change(plan, k, plan.owner, due=new_due)
    q.linear(plan, plan.owner, k, new_due, q.last_progress(plan) + 3)
    return plan


def due_earlier(q: Quarter, key: str) -> Plan:
    """A manager brings the deadline forward; the owner speeds up."""
    plan, c, due = _fresh(q, key, "due_earlier", 7)
    q.on_pace(
        plan, plan.owner, c, c + q.rng.randint(1, (due - c) // 2), final=False, margin=(5, 15)
    )
    k = q.last_day(plan, c) + 1
    new_due = max(k + 2, due - q.rng.randint(1, 3))
    q.change(plan, k, q.rng.choice(MANAGERS), due=new_due)
    q.on_pace(plan, plan.owner, k, new_due, cadence=(1, 2), margin=(3, 10))
    return plan


SINGLE = {
    "healthy": healthy,
    "staller": staller,
    "slow": slow,
    "late_starter": late_starter,
    "never_finished": never_finished,
    "unowned": unowned,
    "away": away,
    "blocked": blocked,
    "reassigned": reassigned,
    "due_later": due_later,
    "due_earlier": due_earlier,
}


# -- families ------------------------------------------------------------------------------
def _subtask(
    q: Quarter, parent: Plan, key: str, j: int, c: int, length: int, pattern: str = "subtask"
) -> Plan:
    owner = q.pick_owner(c, c + length - 1)
    sub = q.new_plan(
        key, pattern, c, length, owner, creator=parent.owner or parent.creator, parent=parent.key
    )
    sub.created = parent.created + timedelta(minutes=5 * (j + 1))
    return sub


def _close_parent(q: Quarter, parent: Plan, subs: list[Plan]) -> None:
    """The parent's owner closes it once every subtask is done: nobody reports on it."""
    ends = [s.reports[-1][0] for s in subs if s.reports and s.reports[-1][1] == 100]
    if len(ends) == len(subs):
        parent.done_at = max(ends) + timedelta(minutes=q.rng.randint(5, 40))


def parent_family(q: Quarter, n: int) -> list[Plan]:
    """A parent whose progress lives only in its 2 to 4 subtasks; now and then one stalls."""
    length = _length(q, 8)
    c = _start(q, length)
    parent = q.new_plan(f"t{n:03d}", "parent", c, length, q.pick_owner(c, c + length - 1))
    subs = []
    for j in range(q.rng.randint(2, 4)):
        sub_len = max(3, round(length * q.rng.uniform(0.6, 1.0)))
        sub = _subtask(q, parent, f"t{n + 1 + j:03d}", j, c, sub_len)
        if q.rng.random() < 0.15:
            q.on_pace(sub, sub.owner, c, c + 1, final=False)
            resume = q.last_day(sub, c) + q.rng.randint(5, 10)
            q.linear(sub, sub.owner, resume - 1, max(resume + 1, c + sub_len), 50)
        else:
            q.on_pace(sub, sub.owner, c, c + sub_len - 1, margin=(3, 12))
        subs.append(sub)
    _close_parent(q, parent, subs)
    return [parent, *subs]


def conflict_family(q: Quarter, n: int) -> list[Plan]:
    """A subtask due after its parent: planned so, or the parent's deadline moved earlier;
    a manager sometimes fixes it a day or two later."""
    length = _length(q, 8, 20)
    c = _start(q, length)
    due = c + length - 1
    parent = q.new_plan(f"t{n:03d}", "conflict_parent", c, length, q.pick_owner(c, due))
    clash = _subtask(q, parent, f"t{n + 1:03d}", 0, c, length, "conflict")
    clash.conflict = True
    starts = c
    if q.rng.random() < 0.5:
        clash.due = q.due_end(due + q.rng.randint(1, 4))
    else:
        starts = c + q.rng.randint(1, max(1, length // 3))
        q.change(parent, starts, q.rng.choice(MANAGERS), due=due - q.rng.randint(1, 3))
    parent_due = q.due_index(parent.final_due())
    if q.rng.random() < 0.6:
        q.change(clash, starts + q.rng.randint(1, 2), q.rng.choice(MANAGERS), due=parent_due)
    q.on_pace(clash, clash.owner, c, q.due_index(clash.final_due()), margin=(3, 12))
    other = _subtask(q, parent, f"t{n + 2:03d}", 1, c, max(3, parent_due - c))
    q.on_pace(other, other.owner, c, q.due_index(other.final_due()), margin=(3, 12))
    _close_parent(q, parent, [clash, other])
    return [parent, clash, other]
