"""From rows to what a message says: a case as it is now (its task as the rules see it, what
fires on it now with fresh numbers, the forecast, why it resolved), and any notification in the
outbox rendered from its cases. Shared by delivery, the dry-run preview and the buttons, which
redraw the message they were clicked on."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import Session

from bot.calendar import WorkCalendar
from bot.models import LIVE_STATUSES, Case, CaseMessage, Finding, Notification, SlackUser, Task
from bot.monitor import conversation, messages, outbox, people
from bot.monitor.forecast import forecast_for
from bot.monitor.policy import Policy
from bot.monitor.rulebook import severity
from bot.monitor.rules import TaskView, evaluate, time_used
from bot.monitor.taskview import load_view, load_views


def task_view(session: Session, task: Task, cal: WorkCalendar) -> TaskView:
    """What the rules see of `task` now: its parent's deadline, its owner's state, its
    progress rolled up from its subtasks."""
    session.flush()  # a task just created or changed in this transaction reads as it now is
    view = load_view(session, task.id, cal)
    assert view is not None, f"task {task.id} is gone"
    return view


def _alert(
    task: Task,
    view: TaskView,
    rule: str,
    facts: dict,
    case: Case,
    now: datetime,
    policy: Policy,
    cal: WorkCalendar,
) -> messages.Alert:
    return messages.Alert(
        task_id=task.id,
        title=task.title,
        rule=rule,
        facts=facts,
        progress=view.progress,
        status=task.status,
        owner_id=task.owner_id,
        creator_id=task.creator_id,
        due_at=task.due_at,
        opened_at=case.opened_at,
        now=now,
        cal=cal,
        used=time_used(view, now, cal),
        forecast=forecast_for(view, now, cal, policy),
        block_reason=task.block_reason,
        parent_id=task.parent_id,
        reminders=case.reminders,
        reminder_cap=policy.reminder_cap,
        snoozed_until=case.snoozed_until,
        snooze_max_days=policy.snooze_max_days,
        recipient=case.recipient,
        activity_at=view.activity_at,
    )


def case_view(
    session: Session, case: Case, now: datetime, policy: Policy, cal: WorkCalendar
) -> conversation.CaseView:
    """The case as it is now. What fires is evaluated afresh, so a message shows a problem
    that cleared a moment ago (a click) as cleared; a case with nothing left shows why."""
    return CaseViews(session, now, policy, cal).view(case)


class CaseViews:
    """Case views for one pass (one transaction, one instant): each case built once however
    many messages show it, and the rows behind the cases of many messages read together
    (`read_ahead`: which cases each shows, the cases, their tasks, their owners), a few
    statements whatever the number of cases, so a message costs what is in it."""

    def __init__(self, session: Session, now: datetime, policy: Policy, cal: WorkCalendar) -> None:
        self.session, self.now, self.policy, self.cal = session, now, policy, cal
        self._shows: dict[int, list[int]] = {}  # notification id -> case ids, in order
        self._handed: dict[tuple[int, int], str] = {}  # (notification, case) -> handed to
        self._tasks: dict[int, TaskView] = {}
        self._owners: dict[str, SlackUser | None] = {}
        self._views: dict[int, conversation.CaseView] = {}
        self._held: list = []  # the rows read ahead: the session's identity map holds them weakly

    def read_ahead(self, notes: list[Notification]) -> None:
        s = self.session
        s.flush()  # what this transaction changed reads as it now is
        refs = [n.ref_id for n in notes if n.ref_id]
        for chunk in _chunks(refs):  # into the session: `session.get` finds them after
            self._held += s.execute(
                select(Notification).where(Notification.id.in_(chunk))
            ).scalars()
        ids = {n.id for n in notes} | set(refs)
        ids -= set(self._shows)
        for chunk in _chunks(sorted(ids)):
            self._shows.update({i: [] for i in chunk})
            for note_id, case_id, handed_to in s.execute(
                select(CaseMessage.notification_id, CaseMessage.case_id, CaseMessage.handed_to)
                .where(CaseMessage.notification_id.in_(chunk))
                .order_by(CaseMessage.notification_id, CaseMessage.position)
            ):
                self._shows[note_id].append(case_id)
                if handed_to is not None:
                    self._handed[(note_id, case_id)] = handed_to
        self._read_cases({c for i in ids for c in self._shows[i]})

    def _read_cases(self, case_ids: set[int]) -> None:
        s, todo = self.session, sorted(case_ids - set(self._views))
        task_ids: set[int] = set()
        for chunk in _chunks(todo):
            cases = list(s.execute(select(Case).where(Case.id.in_(chunk))).scalars())
            self._held += cases
            task_ids |= {c.task_id for c in cases}
        task_ids -= set(self._tasks)
        owners: set[str] = set()
        for chunk in _chunks(sorted(task_ids)):
            tasks = list(s.execute(select(Task).where(Task.id.in_(chunk))).scalars())
            self._held += tasks
            owners |= {t.owner_id for t in tasks if t.owner_id}
            self._tasks.update(load_views(s, chunk, self.cal))
        owners -= set(self._owners)
        for chunk in _chunks(sorted(owners)):
            self._owners.update({o: None for o in chunk})
            rows = s.execute(select(SlackUser).where(SlackUser.id.in_(chunk))).scalars()
            self._owners.update({u.id: u for u in rows})

    def cases_of(self, note: Notification) -> list[Case]:
        if note.id not in self._shows:
            self.read_ahead([note])
        found = (self.session.get(Case, cid) for cid in self._shows[note.id])
        return [c for c in found if c is not None]

    def handed_to(self, note: Notification, case: Case) -> str | None:
        """Whom `note` (a DM) handed `case` over to, if it did (read with `cases_of`)."""
        return self._handed.get((note.id, case.id))

    def view(self, case: Case) -> conversation.CaseView:
        if case.id not in self._views:
            self._views[case.id] = self._build(case)
        return self._views[case.id]

    def _build(self, case: Case) -> conversation.CaseView:
        s, now, policy, cal = self.session, self.now, self.policy, self.cal
        if case.task_id not in self._tasks:
            self._read_cases({case.id})
        task, view = s.get(Task, case.task_id), self._tasks[case.task_id]
        fired = evaluate(view, now, policy, cal)[0] if task.status in LIVE_STATUSES else {}
        if case.status != "open":
            fired = {}
        problems = sorted(
            (
                _alert(task, view, rule, facts, case, now, policy, cal)
                for rule, facts in fired.items()
            ),
            key=lambda a: -severity(a.rule),
        )
        reason = None if problems else _why_cleared(s, case, task, view, now, policy, cal)
        owner = self._owners.get(task.owner_id) if task.owner_id else None
        if task.owner_id and task.owner_id not in self._owners:
            owner = s.get(SlackUser, task.owner_id)
        away, until = people.away_until(owner, now)
        fc = problems[0].forecast if problems else forecast_for(view, now, cal, policy)
        return conversation.CaseView(
            case_id=case.id,
            task_id=task.id,
            title=task.title,
            status=case.status if problems else "resolved",
            problems=tuple(problems),
            owner_id=task.owner_id,
            now=now,
            cal=cal,
            opened_at=case.opened_at,
            back=case.back,
            reason=reason,
            escalated=case.escalated_at is not None,
            reminders=case.reminders,
            reminder_cap=policy.reminder_cap,
            snoozed_until=case.snoozed_until
            if case.snoozed_until and case.snoozed_until > now
            else None,
            owner_away_until=until or case.owner_away_until,
            owner_away=away,
            notes=tuple(case.notes or ()),
            late_days=fc.working_days_late if fc else 0,
        )


def _chunks(ids: list, size: int = 500) -> list[list]:
    """Within any database's limit on the parameters of one statement."""
    ids = list(ids)
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _why_cleared(
    session: Session,
    case: Case,
    task: Task,
    view: TaskView,
    now: datetime,
    policy: Policy,
    cal: WorkCalendar,
) -> str:
    """Why the case's last problems cleared, from the task as it is now and the facts they
    opened with: those that cleared when it resolved, or those still open a moment before
    (a click that fixed them, before the next sweep records it)."""
    query = select(Finding).where(Finding.case_id == case.id)
    if case.status == "open":
        query = query.where(Finding.status == "open")
    else:
        query = query.where(Finding.resolved_at == case.resolved_at)
    reasons: list[str] = []
    for finding in session.execute(query.order_by(Finding.id)).scalars():
        alert = _alert(task, view, finding.rule, finding.facts or {}, case, now, policy, cal)
        reason = messages.resolution_reason(alert)
        if reason not in reasons:
            reasons.append(reason)
    return "; ".join(reasons) or "cleared"


@dataclass(frozen=True)
class Rendered:
    text: str
    blocks: list[dict]
    task_ids: tuple[int, ...]  # the tasks it is about, in the order shown
    rules: tuple[str, ...]
    empty: bool = False  # nothing left to say: a post that should not go


def render(
    session: Session,
    note: Notification,
    now: datetime,
    policy: Policy,
    cal: WorkCalendar,
    views: CaseViews | None = None,
) -> Rendered:
    """The text and blocks of a notification, from its cases as they are now. A post not yet
    sent shows only what is still wrong (a problem that opened and cleared before its DM went
    is never announced); an edit shows every case of the message, the resolved ones resolved.
    `views`: the pass's, when it renders several (read ahead for all of them)."""
    views = views or CaseViews(session, now, policy, cal)
    if note.kind == "edit":
        ref = session.get(Notification, note.ref_id)
        return _render(session, ref, views, posted=True)
    return _render(session, note, views, posted=False)


def redraw(
    session: Session,
    channel: str | None,
    ts: str | None,
    now: datetime,
    policy: Policy,
    cal: WorkCalendar,
) -> tuple[Notification, Rendered] | None:
    """The Vigil message at (channel, ts), as it would be drawn now; None if it is not one."""
    if not channel or not ts:
        return None
    note = session.execute(
        select(Notification).where(
            Notification.channel == channel,
            Notification.ts == ts,
            Notification.kind.in_(outbox.POSTS),
        )
    ).scalar_one_or_none()
    if note is None:
        return None
    return note, _render(session, note, CaseViews(session, now, policy, cal), posted=True)


def _render(session: Session, note: Notification, pass_: CaseViews, *, posted: bool) -> Rendered:
    now, cal = pass_.now, pass_.cal
    cases = pass_.cases_of(note)
    views = [pass_.view(c) for c in cases]
    if note.kind in outbox.TO_PEOPLE:
        # A case handed over to someone else since: this DM says to whom, for good.
        views = [
            dataclasses.replace(v, handed_to=to) if (to := pass_.handed_to(note, c)) else v
            for v, c in zip(views, cases, strict=True)
        ]
    if not posted:
        views = [v for v in views if v.open] if note.kind != "thread" else views
        if note.kind == "digest" and (note.key or "") < f"digest:{cal.local_date(now)}":
            views = []  # its day has passed unsent (Slack was down): today's carries its cases
    if not views:
        return Rendered("", [], (), (), empty=True)
    kind = note.kind
    if kind in ("dm", "reminder"):
        text, blocks = conversation.build_owner_message(views, reminder=kind == "reminder")
    elif kind == "digest":
        day = date.fromisoformat(
            (note.key or "digest:").split(":", 1)[1] or cal.local_date(now).isoformat()
        )
        text, blocks = conversation.build_digest(views, day)
        views = sorted(views, key=conversation.CaseView.weight)
    elif kind == "escalation":
        text, blocks = conversation.build_entry(views[0])
    elif kind == "thread":
        ref = session.get(Notification, note.ref_id) if note.ref_id else None
        text, blocks = conversation.build_thread_reply(
            views[0], joined=bool(ref and ref.kind == "digest")
        )
    else:
        raise ValueError(f"unknown notification kind {kind!r}")
    rules = tuple(dict.fromkeys(a.rule for v in views for a in v.problems))
    return Rendered(text, blocks, tuple(v.task_id for v in views), rules)
