"""Strict YAML reading: duplicate keys and syntax errors become SpecErrors with line numbers.

Anchors, aliases and merge keys (`<<: *base`) are allowed. The document is returned with
every alias expanded into its own copy (so a later --set on one use of an anchor does not
change the others), together with a map from YAML path to 1-based line number.
"""
from __future__ import annotations

import yaml

from .errors import SpecError

MAX_DEPTH = 64


class _DuplicateKey(Exception):
    def __init__(self, key, line: int, first_line: int):
        super().__init__(key)
        self.key, self.line, self.first_line = key, line, first_line


class StrictLoader(yaml.SafeLoader):
    """yaml.SafeLoader that rejects a key given twice in one mapping."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(
                        key_node, yaml.ScalarNode):
                    continue
                key = self.construct_object(key_node)
                try:
                    hash(key)
                except TypeError:
                    continue
                line = key_node.start_mark.line + 1
                if key in seen:
                    raise _DuplicateKey(key, line, seen[key])
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _line_map(node, path: tuple, lines: dict, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        return
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            sub = path + (key_node.value,)
            lines[sub] = key_node.start_mark.line + 1
            _line_map(value_node, sub, lines, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            sub = path + (i,)
            lines[sub] = item.start_mark.line + 1
            _line_map(item, sub, lines, depth + 1)


def unshare(value, label: str, depth: int = 0):
    """A copy of a YAML value in which no dict or list is reachable twice (aliases copied)."""
    if depth > MAX_DEPTH:
        raise SpecError(f"nesting deeper than {MAX_DEPTH} levels (a recursive alias?); "
                        "expected a finite document", file=label)
    if isinstance(value, dict):
        return {k: unshare(v, label, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [unshare(v, label, depth + 1) for v in value]
    return value


def parse_yaml(text: str, label: str) -> tuple[object, dict]:
    """Parse YAML text; returns (document, {path: line}). Errors name `label`."""
    loader = StrictLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except _DuplicateKey as dup:
        raise SpecError(f"duplicate key '{dup.key}' (first given on line {dup.first_line}); "
                        "expected each key once per mapping", file=label, line=dup.line) from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else None
        where = f" at column {mark.column + 1}" if mark is not None else ""
        context = ""
        if err.context:
            started = err.context_mark
            since = (f" started on line {started.line + 1}"
                     if started is not None and started.line + 1 != line else "")
            context = f" ({err.context}{since})"
        raise SpecError(f"invalid YAML{where}{context}: {err.problem or 'syntax error'}",
                        file=label, line=line) from None
    except yaml.YAMLError as err:
        raise SpecError(f"invalid YAML: {err}; expected valid YAML syntax", file=label) from None
    finally:
        loader.dispose()
    lines: dict = {}
    if node is not None:
        _line_map(node, (), lines)
    return unshare(data, label), lines


def read_yaml(path: str) -> tuple[object, dict]:
    """Read and parse a YAML file; returns (document, {path: line})."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise SpecError(f"cannot read file ({reason}); expected a readable YAML file",
                        file=path) from None
    except UnicodeDecodeError:
        raise SpecError("file is not UTF-8 text; expected a YAML file", file=path) from None
    return parse_yaml(text, path)
