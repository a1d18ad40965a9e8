"""What one sweep did, and the summary `python -m bot sweep` prints of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.monitor.delivery import DeliveryReport, Sent


@dataclass
class Preview:
    kind: str
    to: str
    tasks: str  # "#12, #14"
    rules: str
    text: str


@dataclass
class SweepReport:
    now: datetime
    dry_run: bool = False
    skipped: str | None = None
    busy_until: datetime | None = None  # skipped: when the lease another sweep holds runs out
    open_tasks: int = 0
    checked: int = 0
    opened: int = 0
    resolved: int = 0
    decided: int = 0
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    preview: list[Preview] = field(default_factory=list)

    @property
    def sent(self) -> list[Sent]:
        return self.delivery.sent

    def summary(self) -> str:
        if self.skipped:
            return f"sweep as of {self.now.isoformat()}: skipped, {self.skipped}"
        d = self.delivery
        lines = [
            f"sweep as of {self.now.isoformat()}{' (dry run: nothing stored or sent)' if self.dry_run else ''}",
            f"  open tasks       {self.open_tasks}  (looked at {self.checked} whose state or clock moved)",
            f"  findings opened  {self.opened}",
            f"  findings resolved {self.resolved}",
        ]
        if self.dry_run:
            lines.append(f"  would send       {len(self.preview)}")
            lines += [
                f"    {p.kind:<12} to {p.to:<12} {p.tasks} {p.rules}: {p.text}"
                for p in self.preview
            ]
        else:
            lines.append(f"  messages sent    {len(d.sent)}")
            left = d.deferred + d.held + d.left
            lines.append(
                f"  left for later   {left}  ({d.deferred} outside working hours, "
                f"{d.held} waiting on Slack or the channel, {d.left} over the budget)"
            )
            if d.failed:
                lines.append(f"  undeliverable    {d.failed}  (see the log)")
        lines += [f"  problem: {p}" for p in dict.fromkeys(self.delivery.problems)]
        return "\n".join(lines)
