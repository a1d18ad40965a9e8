"""The monitor's tunables, with product.md's defaults. One frozen value, passed down."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from datetime import time

from bot.monitor.rulebook import RULE_IDS, RULEBOOK


class PolicyError(ValueError):
    """A policy override that cannot be used, with the reason in words."""


@dataclass(frozen=True)
class Policy:
    stall_days: int = 3
    pace_min_used: int = 25  # percent of working time used before pace is judged
    # How late the reports' pace must finish to be "clearly" late: more than both of these.
    pace_late_days: int = 1  # working days
    pace_late_share: int = 10  # percent of the task's working duration
    escalation_days: int = 1  # working days from the owner's DM to the managers' channel
    overdue_escalation_days: int = 0
    reminder_cap: int = 2  # reminders to the owner per case; then the digest carries it
    reminder_every_days: int = 2  # working days between them
    regress_days: int = 5  # a case opening again this soon after resolving is the same case
    ping_cap: int = 3  # messages from Vigil to one person on a working day, at most
    digest: bool = True  # the managers' daily digest; off: a message of its own per case
    digest_at: time = time(9, 30)  # in the team's zone, on working days
    snooze_days: int = 1
    snooze_max_days: int = 3
    day_start: time = time(9, 0)
    day_end: time = time(18, 0)
    send_budget: int = 200  # messages per sweep; the rest waits for the next one
    # A post that may have reached Slack before a crash (or a lost answer) is looked for in the
    # conversation's history before it is sent again. Off only to measure what it saves.
    reconcile: bool = True
    disabled: frozenset[str] = field(default_factory=frozenset)

    def enabled(self, rule: str) -> bool:
        return rule not in self.disabled

    def escalation_window(self, rule: str) -> int:
        facts = RULEBOOK.get(rule)
        at_once = facts is not None and facts.managers_at_once
        return self.overdue_escalation_days if at_once else self.escalation_days

    def fingerprint(self) -> str:
        """Changes whenever a setting that decides a rule's outcome changes."""
        decisive = (
            self.stall_days,
            self.pace_min_used,
            self.pace_late_days,
            self.pace_late_share,
            self.day_start,
            self.day_end,
            tuple(sorted(self.disabled)),
        )
        return hashlib.sha1(repr(decisive).encode()).hexdigest()[:16]

    def with_overrides(self, pairs: list[str] | tuple[str, ...]) -> Policy:
        """Apply `KEY=VALUE` overrides, e.g. `stall_days=5`, `disabled=behind_pace,overdue`,
        `working_hours=08:00-17:00`."""
        changes: dict[str, object] = {}
        known = {f.name: f for f in dataclasses.fields(self)}
        for pair in pairs:
            key, sep, value = pair.partition("=")
            key, value = key.strip(), value.strip()
            if not sep or not key:
                raise PolicyError(f"policy override {pair!r} should look like stall_days=3")
            if key == "working_hours":
                changes["day_start"], changes["day_end"] = _parse_hours(value)
            elif key in ("digest", "reconcile"):
                if value.lower() not in ("on", "off"):
                    raise PolicyError(f"{key} is on or off, e.g. {key}=off")
                changes[key] = value.lower() == "on"
            elif key == "digest_at":
                try:
                    changes["digest_at"] = time.fromisoformat(value)
                except ValueError:
                    raise PolicyError("digest_at is a time of day, e.g. digest_at=09:30") from None
            elif key == "disabled":
                rules = frozenset(r.strip() for r in value.split(",") if r.strip())
                unknown = sorted(rules - set(RULE_IDS))
                if unknown:
                    raise PolicyError(
                        f"unknown rule {unknown[0]!r} in disabled; rules are {', '.join(RULE_IDS)}"
                    )
                changes["disabled"] = rules
            elif key in known and known[key].type in ("int", int):
                try:
                    number = int(value)
                except ValueError:
                    raise PolicyError(f"{key} takes a whole number, e.g. {key}=3") from None
                if number < 0:
                    raise PolicyError(f"{key} cannot be negative")
                changes[key] = number
            else:
                switches = ("digest", "digest_at", "reconcile")
                names = sorted(k for k in known if k not in ("day_start", "day_end", *switches))
                names += list(switches)
                raise PolicyError(
                    f"unknown policy key {key!r}; known: {', '.join(names + ['working_hours'])}"
                )
        policy = dataclasses.replace(self, **changes)
        if policy.snooze_days > policy.snooze_max_days:
            raise PolicyError("snooze_days cannot be more than snooze_max_days")
        if policy.stall_days < 1:
            raise PolicyError("stall_days must be at least 1")
        return policy


def _parse_hours(value: str) -> tuple[time, time]:
    try:
        start, end = (time.fromisoformat(part.strip()) for part in value.split("-"))
    except ValueError:
        raise PolicyError("working_hours should look like working_hours=09:00-18:00") from None
    if start >= end:
        raise PolicyError("working_hours must start before they end, e.g. 09:00-18:00")
    return start, end
