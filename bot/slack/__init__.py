"""Slack's wire format: action and callback ids, Block Kit pieces, text escaping, and the
payloads Slack sends, checked before anything acts on them."""
