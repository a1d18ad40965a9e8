"""Reading a scenario file into plain values: YAML or JSON, with the line each value starts on
(so that an error can point at it) and no key given twice in one mapping (both loaders would
otherwise keep the last one without a word).

Places are written as paths, the way errors name them: `team.timezone`, `people[1]`,
`tasks[2].updates[0].progress`; the whole file is the empty path.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml


class ScenarioError(ValueError):
    """What is wrong with a scenario, and where: a path, and once known the file and line."""

    def __init__(
        self, where: str, problem: str, *, line: int | None = None, source: str | None = None
    ) -> None:
        self.where, self.problem, self.line, self.source = where, problem, line, source
        super().__init__(str(self))

    def located(self, source: str, line: int | None) -> ScenarioError:
        return ScenarioError(self.where, self.problem, line=self.line or line, source=source)

    def __str__(self) -> str:
        place = ":".join(str(p) for p in (self.source, self.line) if p is not None)
        return ": ".join(p for p in (place, self.where, self.problem) if p)


def child(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


_LAST_STEP = re.compile(r"(\.[^.\[\]]+|\[\d+\])$")


@dataclass
class Source:
    data: Any
    lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, where: str) -> int | None:
        """The line of `where`, or of the nearest enclosing place that has one (a missing
        key is reported at the mapping it is missing from)."""
        path = where
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            shorter = _LAST_STEP.sub("", path)
            path = "" if shorter == path else shorter  # a top-level key: the file itself


def read_source(text: str, *, is_json: bool) -> Source:
    return _read_json(text) if is_json else _read_yaml(text)


# -- YAML ----------------------------------------------------------------------------------
class _Loader(yaml.SafeLoader):
    """Safe YAML that leaves dates as text, so that a bad date is reported by key, not as
    a bare ValueError from deep inside the YAML library."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _read_yaml(text: str) -> Source:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        source = Source(None)
        if node is not None:
            source.data = _build(loader, node, "", source.lines, set())
        return source
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(
            "", f"not valid YAML: {problem}", line=mark.line + 1 if mark else None
        ) from None
    finally:
        loader.dispose()


def _build(loader: _Loader, node: yaml.Node, path: str, lines: dict, active: set) -> Any:
    """The node's value, built by hand so that each mapping is checked for repeated keys and
    every place's line is kept."""
    line = node.start_mark.line + 1
    lines[path] = line
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_object(node)
    if id(node) in active:  # an alias inside its own anchor
        raise ScenarioError(path, "refers to itself", line=line)
    active.add(id(node))
    try:
        if isinstance(node, yaml.SequenceNode):
            return [
                _build(loader, item, child(path, i), lines, active)
                for i, item in enumerate(node.value)
            ]
        loader.flatten_mapping(node)  # `<<: *defaults` merges
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = (
                loader.construct_object(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            )
            key_line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise ScenarioError(path, "keys are names such as title or due", line=key_line)
            where = child(path, key)
            if key in out:
                raise ScenarioError(
                    where, f"given twice (first on line {lines[where]})", line=key_line
                )
            out[key] = _build(loader, value_node, where, lines, active)
            lines[where] = key_line
        return out
    finally:
        active.discard(id(node))


# -- JSON ----------------------------------------------------------------------------------
class _Repeated(Exception):
    pass


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Repeated(key)
        out[key] = value
    return out


class _JSONSource(Source):
    """Lines are found only when an error needs one: a second pass over the text that the
    fast parser cannot give."""

    def __init__(self, data: Any, text: str) -> None:
        super().__init__(data)
        self._text = text
        self._scanned = False

    def line_of(self, where: str) -> int | None:
        if not self._scanned:
            self.lines, _ = _scan_json(self._text)
            self._scanned = True
        return super().line_of(where)


def _read_json(text: str) -> Source:
    try:
        return _JSONSource(json.loads(text, object_pairs_hook=_no_repeats), text)
    except json.JSONDecodeError as exc:
        raise ScenarioError("", f"not valid JSON: {exc.msg}", line=exc.lineno) from None
    except _Repeated as exc:
        lines, repeat = _scan_json(text)
        if repeat is None:  # cannot happen: the parser saw one
            raise ScenarioError(
                "", f"the key {exc.args[0]!r} is given twice in one object"
            ) from None
        where, line, first = repeat
        raise ScenarioError(where, f"given twice (first on line {first})", line=line) from None


_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[{}\[\],:\n]|[^\s{}\[\],:"]+')


def _scan_json(text: str) -> tuple[dict[str, int], tuple[str, int, int] | None]:
    """The line of every place in a JSON text, and the first key given twice in one object
    (its path, its line, and the line of its first use)."""
    lines: dict[str, int] = {}
    repeat = None
    stack: list[dict] = []  # open containers: {"path", "index" or "key", "seen"}
    line = 1
    expect_key = False

    def value_path() -> str:
        if not stack:
            return ""
        top = stack[-1]
        return child(top["path"], top["index"]) if "index" in top else top["key"]

    for match in _TOKEN.finditer(text):
        token = match.group()
        if token == "\n":
            line += 1
        elif token in "{[":
            path = value_path()
            lines.setdefault(path, line)
            stack.append({"path": path, "seen": {}} if token == "{" else {"path": path, "index": 0})
            expect_key = token == "{"
        elif token in "}]":
            if stack:
                stack.pop()
            expect_key = False
        elif token == ",":
            if stack and "index" in stack[-1]:
                stack[-1]["index"] += 1
            expect_key = bool(stack) and "seen" in stack[-1]
        elif token == ":":
            expect_key = False
        elif expect_key and token.startswith('"'):
            top = stack[-1]
            try:
                key = json.loads(token)
            except ValueError:
                key = token.strip('"')
            top["key"] = child(top["path"], key)
            if key in top["seen"] and repeat is None:
                repeat = (top["key"], line, top["seen"][key])
            top["seen"].setdefault(key, line)
            lines[top["key"]] = line
        else:  # a scalar value
            lines.setdefault(value_path(), line)
    return lines, repeat
