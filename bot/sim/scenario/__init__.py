"""Scenario files: a firm, its people and tasks, and what they do over time (product.md §6).

`model` holds what a scenario is; `load` reads a file and checks the firm (team, people,
policy, the span of time); `tasks` checks the tasks and their updates; `fields` reads one value
at a named place; `source` turns YAML or JSON into plain values with their line numbers.
"""
