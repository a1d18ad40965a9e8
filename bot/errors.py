"""Errors a person caused: one sentence saying what was wrong, and an example of the right form.

Every command, button, form, scenario update and import raises `UserError` (or `Refused`, when
the person may not make the change) before anything is stored; the Slack handlers show it as
it is, and anything else is our fault ("Something went wrong on our side")."""

from __future__ import annotations


class UserError(ValueError):
    """What was wrong, in one sentence, and optionally an example of the right form."""

    def __init__(self, message: str, example: str | None = None) -> None:
        super().__init__(message)
        self.message, self.example = message, example

    def sentence(self) -> str:
        """As a person reads it in Slack (mrkdwn)."""
        if self.example:
            return f":warning: {self.message}\nFor example: `{self.example}`"
        return f":warning: {self.message}"


class Refused(UserError):
    """The person may not do this; the message says who may."""


def may_change_refusal(task_id: int, ask: str | None) -> Refused:
    """The one wording of "you may not change this task", wherever a change is refused."""
    who = f"; ask <@{ask}>" if ask else ""
    return Refused(f"Only the owner, the creator or a manager can change #{task_id}{who}.")
