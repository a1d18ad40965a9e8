"""The kill loop, small: `python -m bot sweep` SIGKILLed at random moments through a Monday of
DMs batched per person, the managers' digest, and the edits that resolutions make, each post's
answer held after Slack took it so that kills land between Slack's ok and the record. Counted
at the stand-in: nothing lost, nothing twice. The full loop (a week, over a hundred kills, the
reconcile on and off) is `python -m bot.bench.chaos`."""

import pytest

from bot.bench.chaos import run

pytestmark = pytest.mark.slow


def test_killed_sweeps_lose_nothing_and_send_nothing_twice(tmp_path):
    _, expected, sends = run(tmp_path, 4, 0, reconcile=True, slow=0.0, seed=1, instants=2)
    kinds = {kind for kind, _, _ in expected}
    assert {"dm", "digest"} <= kinds
    assert any(len(tasks) > 1 for kind, _, tasks in expected if kind == "dm")  # batched
    assert sends[1] > 0  # Monday afternoon's resolutions edit what was sent

    result, _, _ = run(
        tmp_path,
        4,
        6,
        reconcile=True,
        slow=0.3,
        seed=7,
        per_phase=sends,
        expected=expected,
        instants=2,
    )
    assert result is not None
    print(result.line())
    assert result.kills == 6
    assert (result.lost, result.doubled, result.unexpected, result.pending) == (0, 0, 0, 0)
    assert result.text_differs == 0  # every edit reached its message
    assert result.delivered == result.expected == sum(len(v) for v in expected.values())
