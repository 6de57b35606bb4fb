"""Merging a run config and --set overrides into the model document.

Order: model file, then the run config (deep merge of mappings; lists and scalars are
replaced), then each `--set dotted.path=value` in the order given. Every write is recorded
in `Sources`, so a later error names the config file or "--set" where that is the culprit.
"""
from __future__ import annotations

import re

from .errors import OVERRIDE_LABEL, SpecError, Sources, format_path
from .expressions import suggest
from .yaml_loader import parse_yaml

CONFIG_KEYS = ("simulation", "scale", "scaling", "recording", "output", "parameters", "run")
MODEL_ONLY_KEYS = ("name", "description", "populations", "projections", "inputs")

_TOKEN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)")


def merge_config(doc: dict, config, label: str, lines: dict, sources: Sources) -> None:
    """Deep-merge a run config (already parsed) into `doc`."""
    if config is None:
        return
    if not isinstance(config, dict):
        raise SpecError("a run config must be a mapping; expected keys among "
                        + ", ".join(CONFIG_KEYS), file=label)
    source = sources.add(label, lines)
    for key in config:
        if key not in CONFIG_KEYS:
            hint = "" if key in MODEL_ONLY_KEYS else suggest(key, CONFIG_KEYS)
            raise SpecError(f"key '{key}' is not allowed in a run config{hint}"
                            f"; expected one of {', '.join(CONFIG_KEYS)} (the network itself "
                            "belongs in the model file)", file=label, path=(key,),
                            line=lines.get((key,)))
    params = config.get("parameters")
    if isinstance(params, dict):
        known = doc.get("parameters") if isinstance(doc.get("parameters"), dict) else {}
        for name in params:
            if name not in known:
                raise SpecError(f"unknown parameter '{name}'{suggest(name, known)}; expected "
                                "one of the model's parameters: " + (", ".join(map(str, known))
                                                                     or "none defined"),
                                file=label, path=("parameters", name),
                                line=lines.get(("parameters", name)))
    _deep_merge(doc, config, (), source, sources)


def _deep_merge(target: dict, update: dict, path: tuple, source: int, sources: Sources):
    for key, value in update.items():
        sub = path + (key,)
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_merge(target[key], value, sub, source, sources)
        else:
            target[key] = value
            sources.mark(sub, source)


def parse_override(text: str) -> tuple[tuple, object]:
    """'projections[3].delay.mean=1.5' -> (('projections', 3, 'delay', 'mean'), 1.5)."""
    if "=" not in text:
        raise SpecError(f"'{text}' has no '='; expected dotted.path=value",
                        file=OVERRIDE_LABEL)
    raw_path, raw_value = text.split("=", 1)
    raw_path = raw_path.strip()
    path: list = []
    for piece in raw_path.split("."):
        match = _TOKEN.fullmatch(piece)
        if not match:
            raise SpecError(f"path '{raw_path}' is malformed at '{piece}'; expected names "
                            "separated by '.' with optional [index], e.g. "
                            "projections[3].delay.mean", file=OVERRIDE_LABEL)
        path.append(match.group(1))
        path.extend(int(i) for i in re.findall(r"\[(\d+)\]", match.group(2)))
    value, _ = parse_yaml(raw_value, f"{OVERRIDE_LABEL} {raw_path}")
    return tuple(path), value


def apply_override(doc: dict, text: str, sources: Sources) -> None:
    """Apply one --set; missing mappings on the way are created (validation then checks
    that every key is known to the schema)."""
    path, value = parse_override(text)
    fail = lambda at, msg: SpecError(msg, file=OVERRIDE_LABEL, path=at)  # noqa: E731
    if path[0] == "parameters" and len(path) >= 2:
        known = doc.get("parameters") if isinstance(doc.get("parameters"), dict) else {}
        if path[1] in known and len(path) > 2:
            raise fail(path, f"parameter '{path[1]}' is a single value; expected "
                       f"parameters.{path[1]}=<number or expression>")
        if path[1] not in known:
            raise fail(path, f"unknown parameter '{path[1]}'{suggest(path[1], known)}; "
                       "expected one of the model's parameters: "
                       + (", ".join(map(str, known)) or "none defined"))
    node = doc
    for i, part in enumerate(path[:-1]):
        here = path[: i + 1]
        nxt = path[i + 1]
        if isinstance(part, int):
            if not isinstance(node, list):
                raise fail(path[:i], f"{_kind(node)} cannot be indexed with [{part}]; "
                           "expected a list here")
            if part >= len(node):
                raise fail(here, _out_of_range(part, node))
            child = node[part]
        else:
            if not isinstance(node, dict):
                raise fail(path[:i], f"{_kind(node)} has no key '{part}'; expected a mapping")
            if part not in node or node[part] is None:
                if isinstance(nxt, int):
                    raise fail(here, f"no list '{part}' to index"
                               f"{suggest(part, [k for k in node if isinstance(k, str)])}; "
                               "expected an existing list")
                node[part] = {}
                sources.mark(here, sources.add(OVERRIDE_LABEL))
            child = node[part]
        node = child
    last = path[-1]
    if isinstance(last, int):
        if not isinstance(node, list):
            raise fail(path[:-1], f"{_kind(node)} cannot be indexed with [{last}]; expected a list")
        if last >= len(node):
            raise fail(path, _out_of_range(last, node))
        node[last] = value
    else:
        if not isinstance(node, dict):
            raise fail(path[:-1], f"{_kind(node)} has no key '{last}'; expected a mapping "
                       f"at {format_path(path[:-1])}")
        node[last] = value
    sources.mark(path, sources.add(OVERRIDE_LABEL))


def _kind(value) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    return f"the value {value!r}"


def _out_of_range(index: int, items: list) -> str:
    if not items:
        return f"index {index} into an empty list; expected the list to have items"
    return f"index {index} is out of range; expected 0..{len(items) - 1}"
