"""SpecError and the bookkeeping that lets every error name its file, line and YAML path.

A resolved document is merged from several sources (the model file, a run config, --set
overrides). `Sources` remembers which source last wrote each part of the document, and each
file's line numbers, so that an error found while validating the merged document points at
the place the user has to edit.
"""
from __future__ import annotations

from typing import Mapping, Sequence

Path = tuple  # of str (mapping keys) and int (list indices)


def format_path(path: Sequence) -> str:
    """('projections', 3, 'delay', 'mean') -> 'projections[3].delay.mean'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def one_line(text: str) -> str:
    """Whitespace runs (newlines too) as one space, other control characters (NUL, ESC,
    ...) as \\xNN escapes: a message is one line and cannot drive the terminal."""
    collapsed = " ".join(str(text).split())
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in collapsed)


class SpecError(Exception):
    """A problem in a model file, run config or --set override.

    str(err) is one line: "<file>[:<line>]: <yaml.path>: <what was found>; expected <what>"
    (the path is left out where none applies). Attributes: file, line (1-based or None),
    path (tuple of keys and indices), message (the part after the path).
    """

    def __init__(self, message: str, *, file: str = "", path: Sequence = (),
                 line: int | None = None):
        self.file = file
        self.line = line
        self.path = tuple(path)
        self.message = one_line(message)
        super().__init__(self._render())

    def _render(self) -> str:
        parts = []
        if self.file:
            parts.append(f"{self.file}:{self.line}" if self.line else self.file)
        if self.path:
            parts.append(format_path(self.path))
        parts.append(self.message)
        return ": ".join(parts)

    def __str__(self) -> str:
        return self._render()


OVERRIDE_LABEL = "--set"


class Sources:
    """Which source (file or --set) wrote each path of the merged document, and where.

    Source 0 is the model file. `mark(path, source)` records that `source` wrote the value
    at `path` (and everything below it); the owner of a path is the source that marked its
    longest marked prefix.
    """

    def __init__(self, model_label: str, model_lines: Mapping[Path, int]):
        self.labels: list[str] = [model_label]
        self.lines: list[Mapping[Path, int]] = [model_lines]
        self._owner: dict[Path, int] = {}

    def add(self, label: str, lines: Mapping[Path, int] | None = None) -> int:
        self.labels.append(label)
        self.lines.append(lines or {})
        return len(self.labels) - 1

    def mark(self, path: Path, source: int) -> None:
        path = tuple(path)
        n = len(path)
        for key in [k for k in self._owner if len(k) > n and k[:n] == path]:
            del self._owner[key]
        self._owner[path] = source

    def owner(self, path: Path) -> int:
        path = tuple(path)
        for i in range(len(path), -1, -1):
            if path[:i] in self._owner:
                return self._owner[path[:i]]
        return 0

    def locate(self, path: Path) -> tuple[str, int | None]:
        """(file label, line or None) of the source that owns `path`."""
        source = self.owner(path)
        lines = self.lines[source]
        path = tuple(path)
        for i in range(len(path), -1, -1):
            if path[:i] in lines:
                return self.labels[source], lines[path[:i]]
        return self.labels[source], None

    def error(self, path: Path, message: str) -> SpecError:
        label, line = self.locate(path)
        return SpecError(message, file=label, path=path, line=line)
