"""What an import says it did or would do, in plain lines: the same words on the command line
and in Slack's preview."""

from __future__ import annotations

from bot.importing.apply import Applied
from bot.importing.plan import Plan

SHOWN = 20  # refused rows and missing cards listed by name; the rest counted


def plan_lines(plan: Plan, *, dry_run: bool) -> list[str]:
    would = "would " if dry_run else ""
    lines = [
        f"{plan.tool}: {would}create {plan.create}, {would}update {plan.update}, "
        f"{plan.unchanged} unchanged, {plan.finished_skipped} finished cards skipped "
        "(--include-done brings them in)."
    ]
    for title in plan.examples["create"]:
        lines.append(f"  + {title}")
    for text in plan.examples["update"]:
        lines.append(f"  ~ {text}")
    if plan.unmatched:
        people = ", ".join(
            f"{who} ({n} task{'s' if n != 1 else ''})"
            for who, n in list(plan.unmatched.items())[:SHOWN]
        )
        lines.append(f"Not found in Slack, their tasks come in without an owner: {people}.")
    if plan.refused:
        lines.append(f"Refused {len(plan.refused)} row{'s' if len(plan.refused) != 1 else ''}:")
        lines.extend(f"  ✗ {r}" for r in plan.refused[:SHOWN])
        if len(plan.refused) > SHOWN:
            lines.append(f"  … and {len(plan.refused) - SHOWN} more.")
    if plan.missing_count:
        lines.append(
            f"{plan.missing_count} task{'s' if plan.missing_count != 1 else ''} from an earlier "
            "import are no longer in the export (kept; close them with /task done or cancel):"
        )
        lines.extend(f"  ? #{tid} {title}" for tid, title in plan.missing[:SHOWN])
    lines.extend(f"Note: {n}" for n in plan.notes)
    return lines


def applied_line(done: Applied) -> str:
    return f"Stored: {done.created} created, {done.updated} updated, {done.unchanged} unchanged."
