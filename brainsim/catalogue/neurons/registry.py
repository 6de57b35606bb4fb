"""Which neuron models a model file may use: the built-ins, merged with the file's own
(models from equations, added at load time), checked to agree where they share names."""
from __future__ import annotations

from types import MappingProxyType
from typing import Iterable, Mapping

from brainsim.catalogue.neurons.declaration import DeclarationError, NeuronModel


def registry_of(models: Iterable[NeuronModel]) -> Mapping[str, NeuronModel]:
    """name -> declaration, refusing a repeated name or state arrays that disagree."""
    by_name: dict[str, NeuronModel] = {}
    for model in models:
        if model.name in by_name:
            raise DeclarationError(f"neuron model {model.name!r} declared twice")
        by_name[model.name] = model
    check_shared_state(by_name.values())
    return MappingProxyType(by_name)


def merged_with(builtins: Mapping[str, NeuronModel],
                own: Iterable[NeuronModel]) -> Mapping[str, NeuronModel]:
    """The built-in models plus a model file's own; a model file may not redefine a
    built-in (its name would mean two things)."""
    own = tuple(own)
    for model in own:
        if model.name in builtins:
            raise DeclarationError(f"neuron model {model.name!r} is a built-in model; "
                                   "give the model file's own model another name")
    return registry_of((*builtins.values(), *own))


def check_shared_state(models: Iterable[NeuronModel]) -> None:
    """State arrays are shared by name across the models of a network (one array per name,
    docs/architecture.md §2.6), and drawn initial values use a stream item per name
    (§2.3): one name must mean one dtype and one stream item, and two names never share
    an item."""
    dtype_of: dict[str, tuple[str, str]] = {}
    item_of: dict[str, tuple[int, str]] = {}
    name_of_item: dict[int, str] = {}
    for model in models:
        for variable in model.state:
            seen = dtype_of.setdefault(variable.name, (variable.dtype, model.name))
            if seen[0] != variable.dtype:
                raise DeclarationError(
                    f"state variable {variable.name!r} is {variable.dtype} in {model.name} "
                    f"but {seen[0]} in {seen[1]}")
            item = variable.init_stream_item
            if item is None:
                continue
            seen_item = item_of.setdefault(variable.name, (item, model.name))
            if seen_item[0] != item:
                raise DeclarationError(
                    f"state variable {variable.name!r} uses INIT stream item {item} in "
                    f"{model.name} but {seen_item[0]} in {seen_item[1]}")
            other = name_of_item.setdefault(item, variable.name)
            if other != variable.name:
                raise DeclarationError(f"INIT stream item {item} is used by both "
                                       f"{other!r} and {variable.name!r}")
