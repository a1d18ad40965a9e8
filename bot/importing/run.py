"""An import from end to end: open the export, survey every row, find the people in Slack,
work out the plan against the database, and, when asked and nothing was refused (or
`skip_bad`), store it. The command line and Slack both call these two functions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from bot.calendar import WorkCalendar
from bot.dates import month_first
from bot.db import reading
from bot.importing.apply import Applied, apply_pages
from bot.importing.export import Export, open_export
from bot.importing.people import People
from bot.importing.plan import Plan, missing, tally, wanted
from bot.importing.survey import Survey, settle_parents, survey

Tick = Callable[[str, int], None]  # (stage, rows so far): the command line's progress bar


@dataclass(frozen=True)
class Options:
    tool: str | None = None  # --from
    mapping: Mapping[str, str] = field(default_factory=dict)  # --map COLUMN=FIELD
    strict: bool = False
    skip_bad: bool = False
    include_done: bool = False


@dataclass
class Prepared:
    export: Export
    survey: Survey
    people: dict[str, str | None]
    plan: Plan
    options: Options
    cal: WorkCalendar

    @property
    def storable(self) -> bool:
        return not self.plan.refused or self.options.skip_bad


async def prepare(
    path: Path,
    engine: Engine,
    cal: WorkCalendar,
    people: People,
    options: Options,
    *,
    name: str | None = None,
    tick: Tick | None = None,
) -> Prepared:
    """Everything short of storing. Raises BadFile or MappingError (ValueErrors, one sentence)
    when the file cannot be read as an export at all."""
    export = await asyncio.to_thread(
        open_export, path, name=name, tool=options.tool, mapping=options.mapping
    )
    first = month_first(cal.timezone)
    found = await asyncio.to_thread(
        survey,
        export.raw_cards(),
        tool=export.tool,
        cal=cal,
        month_first=first,
        parent_by=export.parent_by,
        progress=(lambda n: tick("checking", n)) if tick else None,
    )
    owners = found.owners(options.include_done)
    matches = await people.resolve(owners)
    refuse = {}
    if options.strict:
        refuse = {
            ref: f"its owner {owner} is not in Slack; add them, fix the name, or drop --strict."
            for ref, owner in found.owner.items()
            if not matches.get(owner)
        }
    settle_parents(found, refuse)
    plan = Plan(export.tool, notes=list(people.notes))
    plan.unmatched = {o: n for o, n in owners.most_common() if not matches.get(o)}
    plan.refused = sorted(found.refused.values(), key=lambda r: _row_order(r.where))
    if people.client is None and plan.unmatched:
        plan.notes.append(
            "No SLACK_BOT_TOKEN: only owners written as Slack ids (U…) or mentions were matched."
        )

    def count() -> None:
        with reading(engine) as session:
            items = wanted(export, found, cal, first, matches)
            tally(
                plan,
                session,
                items,
                include_done=options.include_done,
                progress=(lambda n: tick("planning", n)) if tick else None,
            )
            missing(session, plan, found)

    await asyncio.to_thread(count)
    return Prepared(export, found, matches, plan, options, cal)


def store(
    prepared: Prepared,
    engine: Engine,
    *,
    creator: str,
    now: datetime,
    tick: Tick | None = None,
) -> Applied:
    """Stores the plan, parents before subtasks. Refuses (ValueError) when rows were refused
    and `skip_bad` was not given: nothing is stored then."""
    if not prepared.storable:
        raise ValueError(
            f"{len(prepared.plan.refused)} rows were refused, so nothing was stored; fix them, "
            "or import the rest with --skip-bad."
        )
    done, stored_rows = Applied(), 0
    first = month_first(prepared.cal.timezone)

    def advance(n: int) -> None:
        nonlocal stored_rows
        stored_rows += n
        if tick:
            tick("storing", stored_rows)

    deepest = max((prepared.survey.depth(r) for r in prepared.survey.parent), default=0)
    for depth in range(deepest + 1):
        items = wanted(
            prepared.export,
            prepared.survey,
            prepared.cal,
            first,
            prepared.people,
            depth=depth,
        )
        apply_pages(
            engine,
            items,
            tool=prepared.export.tool,
            creator=creator,
            now=now,
            include_done=prepared.options.include_done,
            done=done,
            progress=advance,
        )
    return done


def _row_order(where: str) -> tuple[int, str]:
    head, _, rest = where.partition(" ")
    return (int(rest), "") if head == "line" and rest.isdigit() else (0, where)
