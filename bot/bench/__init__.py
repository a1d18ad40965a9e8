"""The benchmarks: `python -m bot.bench.sweep` (sweeps, `--replay`), `python -m bot.bench.ack`."""
