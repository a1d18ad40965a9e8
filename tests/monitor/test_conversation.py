"""What people see of a case (`conversation`): the owner's DM of one case or of several, the
reminder, a case that is back or snoozed or resolved, the managers' daily digest, a case's
message of its own and the replies in threads. Every message valid Block Kit within Slack's 50
blocks, user text shown and never acted on. No Slack needed."""

from datetime import UTC, datetime

import pytest

from bot.monitor import conversation
from bot.monitor.conversation import CaseView
from bot.slack import ids
from tests.blockkit import assert_valid_message, block_errors
from tests.monitor.test_messages import CAL, NOW, alert

OPENED = datetime(2026, 1, 14, 9, 0, tzinfo=UTC)  # Wed; NOW is Fri 16 Jan, 09:30


def case(*rules: str, task_id: int = 12, title: str = "Q3 filing for Acme", **kw) -> CaseView:
    problems = tuple(alert(r, task_id=task_id, title=title) for r in rules)
    base = dict(
        case_id=task_id,
        task_id=task_id,
        title=title,
        status="open" if rules else "resolved",
        problems=problems,
        owner_id="UDANA",
        now=NOW,
        cal=CAL,
        opened_at=OPENED,
    )
    base.update(kw)
    return CaseView(**base)


def resolved(task_id: int = 12, reason: str = "marked done", **kw) -> CaseView:
    return case(task_id=task_id, reason=reason, **kw)


def everything(blocks) -> str:
    return str(blocks)


def action_ids(blocks) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def picker_days(blocks) -> list[str | None]:
    return [
        e.get("initial_date")
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "datepicker"
    ]


# -- the owner's DM ----------------------------------------------------------------------------
def test_a_dm_of_one_case_names_every_problem_in_numbers_why_and_what_clears_it():
    text, blocks = conversation.build_owner_message([case("stalled", "behind_pace")])
    assert_valid_message(text, blocks)
    body = everything(blocks)
    assert text.startswith("#12 Q3 filing for Acme has had no progress since Mon 12 Jan")
    assert "this is working day 4 without any, at 40%" in body
    assert "it finishes Fri 6 Feb, 5 working days late" in body  # behind pace, in numbers
    assert body.count("*Why:*") == 2 and body.count("*Clears when:*") == 2
    assert "Nothing has moved for more than 3 working days." in body
    assert "progress ▰▰▰▰▱▱▱▱▱▱ 40%  ·  time used ▰▰▰▰▰▰▰▰▱▱ 80%" in body
    assert "Forecast: at 6 points a working day it finishes Fri 6 Feb" in body
    assert "Reminder" not in body and "Back" not in body
    assert set(action_ids(blocks)) == {
        ids.unique(a, "12")
        for a in (
            ids.ACTION_PROGRESS_SELECT,
            ids.ACTION_PROGRESS_OTHER,
            ids.ACTION_DONE,
            ids.ACTION_BLOCKED,
            ids.ACTION_SNOOZE,
            ids.ACTION_MOVE_DEADLINE,
        )
    }
    assert picker_days(blocks) == ["2026-02-06"]  # the forecast's day


def test_a_missing_owner_offers_assign_and_a_conflict_offers_the_parents_date():
    _, blocks = conversation.build_owner_message([case("stalled", "missing_owner")])
    assert ids.unique(ids.ACTION_ASSIGN, "12") in action_ids(blocks)
    _, blocks = conversation.build_owner_message([case("behind_pace", "deadline_conflict")])
    # Moving to the parent's date clears the conflict; the forecast's day would not.
    assert picker_days(blocks) == ["2026-01-30"]
    assert ids.unique(ids.ACTION_ASSIGN, "12") not in action_ids(blocks)


def test_a_dm_of_several_cases_has_a_heading_and_each_tasks_buttons_carry_the_task():
    cases = [
        case("stalled", task_id=12),
        case("overdue", task_id=14),
        case("missing_owner", task_id=15),
    ]
    text, blocks = conversation.build_owner_message(cases)
    assert_valid_message(text, blocks)  # action ids and block ids unique within the message
    assert text == "3 of your tasks need attention: #12, #14, #15"
    assert blocks[0]["type"] == "section" and text in blocks[0]["text"]["text"]
    for task_id in (12, 14, 15):
        assert ids.unique(ids.ACTION_DONE, str(task_id)) in action_ids(blocks)
    for block in blocks:
        if block["type"] == "actions":
            task_id = ids.parse_block_id(block["block_id"])[0]
            assert all(e["action_id"].endswith(f":{task_id}") for e in block["elements"])


def test_more_cases_than_fit_say_how_many_more_and_where_to_see_them():
    cases = [case("stalled", task_id=n) for n in range(1, 13)]
    text, blocks = conversation.build_owner_message(cases)
    assert_valid_message(text, blocks)
    shown = {ids.parse_block_id(b["block_id"])[0] for b in blocks if "block_id" in b}
    assert shown == set(range(1, 10))
    assert blocks[-1]["type"] == "context"
    assert "…and 3 more: `/task list`" in blocks[-1]["elements"][0]["text"]


def test_a_reminder_says_which_of_its_two_it_is():
    text, blocks = conversation.build_owner_message([case("stalled", reminders=1)], reminder=True)
    assert_valid_message(text, blocks)
    assert text.startswith("Reminder: #12")
    assert "*Reminder 1 of 2:*" in everything(blocks)
    assert ids.unique(ids.ACTION_DONE, "12") in action_ids(blocks)


def test_a_case_that_is_back_says_so():
    _, blocks = conversation.build_owner_message(
        [case("stalled", back=1, reminders=1)], reminder=True
    )
    assert "*Back:*" in everything(blocks)
    assert "Reminder 1 of 2" not in everything(blocks)


def test_a_snoozed_case_says_until_when():
    until = datetime(2026, 1, 20, 9, 30, tzinfo=UTC)
    _, blocks = conversation.build_owner_message([case("stalled", snoozed_until=until)])
    assert "Reminders snoozed until Tue 20 Jan." in everything(blocks)


def test_a_resolved_case_is_one_line_saying_why_with_no_buttons():
    text, blocks = conversation.build_owner_message([resolved(reason="progress recorded (60%)")])
    assert_valid_message(text, blocks)
    assert text == "#12 Q3 filing for Acme no longer needs attention: progress recorded (60%)."
    assert len(blocks) == 1 and not action_ids(blocks)
    assert "progress recorded (60%)" in everything(blocks)


def test_a_dm_edited_after_one_of_its_cases_resolved_keeps_the_others_buttons():
    text, blocks = conversation.build_owner_message(
        [resolved(task_id=12), case("overdue", task_id=14, title="Tom & Jerry")]
    )
    # The heading shows the title as typed, escaped once.
    assert "Tom &amp; Jerry" in blocks[0]["text"]["text"]
    assert_valid_message(text, blocks)
    assert (
        ":white_check_mark: *#12 Q3 filing for Acme* no longer needs attention: marked done."
        in everything(blocks)
    )
    assert {a.rsplit(":", 1)[1] for a in action_ids(blocks)} == {"14"}


# -- the managers --------------------------------------------------------------------------------
def digest_order(blocks) -> list[int]:
    return [ids.parse_block_id(b["block_id"])[0] for b in blocks if b["type"] == "actions"]


def test_the_digest_orders_blocked_then_overdue_then_by_how_late_the_forecast_is():
    cases = [
        case("stalled", task_id=1, late_days=2),
        case("behind_pace", task_id=2, late_days=9),
        case("overdue", task_id=3),
        case("blocked", task_id=4),
        case("missing_deadline", task_id=5),
    ]
    text, blocks = conversation.build_digest(cases, NOW.date())
    assert_valid_message(text, blocks)
    assert text == "Vigil, Fri 16 Jan: 5 tasks need someone: #4, #3, #2, #1, #5"
    assert digest_order(blocks) == [4, 3, 2, 1, 5]


def test_the_digest_names_owner_problems_age_reminders_and_what_the_owner_did():
    until = datetime(2026, 1, 20, 9, 30, tzinfo=UTC)
    away = datetime(2026, 1, 23, 18, 0, tzinfo=UTC)
    cases = [
        case("stalled", task_id=12, reminders=2, snoozed_until=until),
        case(
            "overdue",
            task_id=14,
            owner_id="ULEE",
            owner_away=True,
            owner_away_until=away,
            notes=("pinged the owner by <@UMARCUS> at 10:12",),
        ),
    ]
    text, blocks = conversation.build_digest(cases, NOW.date())
    assert_valid_message(text, blocks)
    body = everything(blocks)
    assert "owner <@UDANA> · open 2 working days · owner reminded 2×" in body
    assert "snoozed by the owner until Tue 20 Jan" in body
    assert "owner <@ULEE>" in body and "owner away until Fri 23 Jan" in body
    assert "has had no progress since Mon 12 Jan" in body and "is overdue" in body
    # Vigil's own note names the manager as Slack shows a mention.
    assert "pinged the owner by <@UMARCUS> at 10:12" in body
    for task_id in (12, 14):
        assert {
            ids.unique(ids.ACTION_REASSIGN, str(task_id)),
            ids.unique(ids.ACTION_MOVE_DEADLINE, str(task_id)),
            ids.unique(ids.ACTION_PING_OWNER, str(task_id)),
        } <= set(action_ids(blocks))


def test_the_digest_marks_resolved_cases_and_keeps_the_buttons_of_the_open_ones():
    text, blocks = conversation.build_digest(
        [resolved(task_id=12, reason="marked done"), case("overdue", task_id=14)], NOW.date()
    )
    assert_valid_message(text, blocks)
    assert text == "Vigil, Fri 16 Jan: 1 task needs someone: #14"
    assert (
        "*#12 Q3 filing for Acme* no longer needs attention: marked done. (open 2 working days)"
        in everything(blocks)
    )
    assert digest_order(blocks) == [14]


def test_a_digest_of_more_than_fits_points_at_task_team():
    cases = [case("overdue", task_id=n) for n in range(1, 31)]
    text, blocks = conversation.build_digest(cases, NOW.date())
    assert_valid_message(text, blocks)
    assert len(digest_order(blocks)) == 24
    assert "…and 6 more: `/task team`" in blocks[-1]["elements"][0]["text"]


def test_a_message_of_its_own_names_task_problem_and_owner_and_resolves_without_buttons():
    text, blocks = conversation.build_entry(case("blocked"))
    assert_valid_message(text, blocks)
    assert (
        text
        == "#12 Q3 filing for Acme is blocked: waiting for the client's figures. Owner: <@UDANA>."
    )
    assert ids.unique(ids.ACTION_REASSIGN, "12") in action_ids(blocks)
    text, blocks = conversation.build_entry(resolved(reason="unblocked"))
    assert_valid_message(text, blocks)
    assert text == "Resolved: #12 Q3 filing for Acme: unblocked."
    assert not action_ids(blocks)


def test_the_thread_replies_name_the_case_that_joined_or_why_it_resolved():
    text, blocks = conversation.build_thread_reply(case("stalled", "overdue"), joined=True)
    assert_valid_message(text, blocks)
    assert text.startswith("Also today: #12 Q3 filing for Acme: has had no progress")
    assert "is overdue" in text
    text, blocks = conversation.build_thread_reply(resolved(reason="unblocked"), joined=False)
    assert_valid_message(text, blocks)
    assert text == "#12 no longer needs attention after 2 working days: unblocked."


# -- for everyone ------------------------------------------------------------------------------
EVIL = "<!channel> & <@U1>"


def every_message(v: CaseView):
    yield conversation.build_owner_message([v])
    yield conversation.build_owner_message([v], reminder=True)
    yield conversation.build_owner_message([v, case("stalled", task_id=99)])
    yield conversation.build_digest([v], NOW.date())
    yield conversation.build_entry(v)
    yield conversation.build_thread_reply(v, joined=True)
    yield conversation.build_thread_reply(v, joined=False)


RULES = [
    "missing_owner",
    "missing_deadline",
    "overdue",
    "stalled",
    "behind_pace",
    "deadline_conflict",
    "blocked",
]


@pytest.mark.parametrize("rule", [*RULES, None])
def test_every_message_is_valid_block_kit_within_50_blocks(rule):
    v = case(rule) if rule else resolved()
    for text, blocks in every_message(v):
        assert_valid_message(text, blocks)
        assert "#12" in text + everything(blocks)


def test_the_most_a_message_can_hold_is_still_valid():
    crowded = [case(*RULES[:-1], task_id=n, snoozed_until=NOW, back=1) for n in range(1, 40)]
    for text, blocks in (
        conversation.build_owner_message(crowded),
        conversation.build_owner_message(crowded, reminder=True),
        conversation.build_digest(crowded, NOW.date()),
    ):
        assert_valid_message(text, blocks)
        assert len(blocks) <= 50 and not block_errors(blocks)


@pytest.mark.parametrize("rule", ["blocked", None])
def test_a_title_is_shown_and_never_pings(rule):
    v = case(rule, title=EVIL) if rule else resolved(title=EVIL)
    for text, blocks in every_message(v):
        said = text + everything(blocks)
        assert "<!channel>" not in said and "<@U1>" not in said
        # Where the title shows, it shows as typed (escaped once, not twice).
        assert "&amp;lt;" not in said and "&amp;amp;" not in said
    said = "".join(t + everything(b) for t, b in every_message(v))
    assert "&lt;!channel&gt; &amp; &lt;@U1&gt;" in said
