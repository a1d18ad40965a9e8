"""Slack's limits as the builders read them are Slack's documented figures."""

from bot.slack.blocks import MESSAGE_BLOCKS, SECTION_TEXT, VIEW_BLOCKS


def test_slacks_limits():
    # api.slack.com/reference/block-kit/blocks: 50 blocks in a message, 100 in a modal or
    # Home view; 3000 characters in a section's text.
    assert (MESSAGE_BLOCKS, VIEW_BLOCKS, SECTION_TEXT) == (50, 100, 3000)
