"""Strict YAML reading: duplicate keys and syntax errors become SpecErrors with line numbers.

Anchors, aliases and merge keys (`<<: *base`) are allowed. The document is returned with
every alias expanded into its own copy (so a later --set on one use of an anchor does not
change the others), together with a map from YAML path to 1-based line number.

Hostile input is refused with one line before it can exhaust memory, time or the stack:
a file that is not a regular file (a FIFO would block, /dev/zero never ends), more than
MAX_FILE_BYTES, more than MAX_NODES values, nesting deeper than MAX_DEPTH (PyYAML's
composer recurses per level), integer literals longer than MAX_INTEGER_DIGITS, and aliases
whose expansion would add more than MAX_ALIAS_NODES nodes (nested aliases grow
exponentially: "billion laughs").
"""
from __future__ import annotations

import os
import stat

import yaml

from .errors import SpecError

MAX_DEPTH = 64
MAX_FILE_BYTES = 16 << 20          # a model or config; bulk data belongs in SONATA files
MAX_INTEGER_DIGITS = 1000
MAX_NODES = 2_000_000              # composed nodes (PyYAML keeps ~0.5 kB per node)
MAX_ALIAS_NODES = 200_000          # nodes that expanding aliases may add to a document


class _DuplicateKey(Exception):
    def __init__(self, key, line: int, first_line: int):
        super().__init__(key)
        self.key, self.line, self.first_line = key, line, first_line


class _Refused(Exception):
    """Input refused while composing or constructing: a message and the 1-based line."""

    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.message, self.line = message, line


class StrictLoader(yaml.SafeLoader):
    """yaml.SafeLoader that rejects a key given twice in one mapping, nesting deeper than
    MAX_DEPTH and integer literals longer than MAX_INTEGER_DIGITS."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent, index):
        # Bounded here, before PyYAML's recursive composer can hit Python's recursion limit
        # or a flow list of millions of numbers fills memory with nodes.
        self._depth += 1
        self._nodes += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise _Refused(f"nesting deeper than {MAX_DEPTH} levels; expected a document of "
                               f"at most {MAX_DEPTH} nested lists and mappings",
                               mark.line + 1)
            if self._nodes > MAX_NODES:
                mark = self.peek_event().start_mark
                raise _Refused(f"more than {MAX_NODES:,} values; expected a smaller document "
                               "(bulk data such as spike times belongs in a file: "
                               "spike_generator `file`, SONATA edges)", mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_yaml_int(self, node):
        digits = sum(c.isdigit() for c in str(node.value))
        if digits > MAX_INTEGER_DIGITS:
            raise _Refused(f"an integer of {digits} digits; expected at most "
                           f"{MAX_INTEGER_DIGITS} digits", node.start_mark.line + 1)
        return super().construct_yaml_int(node)

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


StrictLoader.add_constructor("tag:yaml.org,2002:int", StrictLoader.construct_yaml_int)


class _NodeBudget:
    """Counts the nodes a walk over an alias-expanded document visits; refuses (SpecError)
    more than `limit`, so a document of nested aliases fails fast in bounded memory."""

    def __init__(self, limit: int, label: str):
        self.left, self.limit, self.label = limit, limit, label

    def take(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise SpecError(f"aliases expand to more than {self.limit:,} nodes (nested "
                            "aliases, e.g. a YAML bomb?); expected a document whose aliases "
                            f"add at most {MAX_ALIAS_NODES:,} nodes", file=self.label)


def _distinct_nodes(root) -> int:
    """Nodes of a composed document counting each anchored node once (an alias is the
    anchored node object itself); iterative, the depth is bounded by the composer."""
    seen, todo = set(), [root]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                todo += (key_node, value_node)
        elif isinstance(node, yaml.SequenceNode):
            todo += node.value
    return len(seen)


def _line_map(node, path: tuple, lines: dict, budget: _NodeBudget, depth: int = 0) -> None:
    budget.take()
    if depth > MAX_DEPTH:
        return
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            sub = path + (key_node.value,)
            lines[sub] = key_node.start_mark.line + 1
            _line_map(value_node, sub, lines, budget, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            sub = path + (i,)
            lines[sub] = item.start_mark.line + 1
            _line_map(item, sub, lines, budget, depth + 1)


def unshare(value, label: str, depth: int = 0, budget: _NodeBudget | None = None):
    """A copy of a YAML value in which no dict or list is reachable twice (aliases copied).
    With a budget, refuses (SpecError) a copy of more nodes than the budget allows."""
    if budget is not None:
        budget.take()
    if depth > MAX_DEPTH:
        raise SpecError(f"nesting deeper than {MAX_DEPTH} levels (a recursive alias?); "
                        "expected a finite document", file=label)
    if isinstance(value, dict):
        return {k: unshare(v, label, depth + 1, budget) for k, v in value.items()}
    if isinstance(value, list):
        return [unshare(v, label, depth + 1, budget) for v in value]
    return value


def parse_yaml(text: str, label: str) -> tuple[object, dict]:
    """Parse YAML text; returns (document, {path: line}). Errors name `label`."""
    loader = None
    try:
        loader = StrictLoader(text)      # the reader refuses NUL and control characters here
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except _Refused as refused:
        raise SpecError(refused.message, file=label, line=refused.line) from None
    except RecursionError:       # a guard's gap, e.g. deeply nested flow keys: still one line
        raise SpecError(f"nesting too deep to parse; expected at most {MAX_DEPTH} levels",
                        file=label) from None
    except yaml.reader.ReaderError as err:
        raise SpecError(f"control character #x{err.character:04x} at character {err.position}"
                        "; expected printable text (write it as an escape in a double-quoted "
                        "string if it is meant)", file=label) from None
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
        if loader is not None:
            loader.dispose()
    lines: dict = {}
    if node is None:
        return None, lines
    # Expanded size = distinct nodes + what aliases add; the walks below count it.
    budget = _NodeBudget(_distinct_nodes(node) + MAX_ALIAS_NODES, label)
    _line_map(node, (), lines, budget)
    budget = _NodeBudget(budget.limit, label)
    return unshare(data, label, budget=budget), lines


def read_yaml(path: str) -> tuple[object, dict]:
    """Read and parse a YAML file; returns (document, {path: line}).

    Only a regular file of at most MAX_FILE_BYTES is read: its type is checked before it
    is opened (opening a FIFO blocks until a writer comes; /dev/zero never ends)."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise SpecError(f"{_file_kind(info.st_mode)}, not a regular file; expected a "
                            "YAML file", file=path)
        if info.st_size > MAX_FILE_BYTES:
            raise SpecError(f"{info.st_size:,} bytes; expected a YAML file of at most "
                            f"{MAX_FILE_BYTES >> 20} MiB", file=path)
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)   # the size may change after the stat
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise SpecError(f"cannot read file ({reason}); expected a readable YAML file",
                        file=path) from None
    if len(raw) > MAX_FILE_BYTES:
        raise SpecError(f"more than {MAX_FILE_BYTES >> 20} MiB; expected a YAML file of at "
                        f"most {MAX_FILE_BYTES >> 20} MiB", file=path)
    nul = raw.find(b"\0")
    if nul >= 0:
        raise SpecError(f"NUL byte at offset {nul} (a binary file?); expected a YAML text "
                        "file", file=path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise SpecError(f"file is not UTF-8 text (byte {err.start}); expected a YAML file",
                        file=path) from None
    return parse_yaml(text, path)


def _file_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "a special file"
