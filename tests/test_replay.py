"""The replay: jumping over idle sweeps changes nothing that was said."""

from __future__ import annotations

from bot.demo import demo_path
from bot.replay import replay
from bot.scenario import load_scenario
from bot.simulate import transcript


async def test_skipping_idle_sweeps_leaves_the_transcript_unchanged():
    demo = load_scenario(demo_path())
    fast = await replay(demo)
    slow = await replay(demo, skip_idle=False)
    assert fast.swept < slow.swept == fast.sweeps  # it did skip, and counted them all
    assert fast.messages and fast.messages == slow.messages
    assert transcript(fast) == transcript(slow)
