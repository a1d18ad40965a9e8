"""Replays: scenario files, the replay through the real monitor, its transcript, the assurance
report, `simulate` and the demo."""
