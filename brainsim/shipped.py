"""The files brainsim ships: models (models/*.yaml), equation-defined neuron models
(models/neurons/*.yaml, each a top-level `neuron_models:` mapping of one model named as
its file), run configs (configs/*.yaml) and job templates (jobs/), found wherever
brainsim is installed.

In a source checkout (also an editable install) they are the top-level folders models/,
configs/ and jobs/ of the repository, the only committed copy. An installed package (wheel,
`pip install .`) carries a copy made at build time (setup.py) under brainsim/_shipped/.

On the command line a shipped model or config can be named instead of given as a path
(`brainsim run potjans_diesmann_2014 --config laptop`); a path that exists always wins.

Importing this module is cheap (no numpy, MPI or kernels).
"""
from __future__ import annotations

import os
import re

KINDS = ("models", "configs", "jobs")
NEURON_MODELS_FOLDER = "neurons"      # models/neurons/<name>.yaml: equation neuron models
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
INSTALLED_DIR = os.path.join(PACKAGE_DIR, "_shipped")    # written by setup.py's build_py
SOURCE_DIR = os.path.dirname(PACKAGE_DIR)                 # repository root in a checkout
YAML_SUFFIXES = (".yaml", ".yml")
FIRST_SENTENCE = re.compile(r"(.+?\.)(?:\s|$)")


def shipped_root() -> str:
    """The directory holding models/, configs/ and jobs/: the installed copy if this
    brainsim was installed from a wheel, else the repository root."""
    if os.path.isdir(INSTALLED_DIR):
        return INSTALLED_DIR
    return SOURCE_DIR


def shipped_dir(kind: str) -> str:
    """Directory of one kind of shipped file: 'models', 'configs' or 'jobs'."""
    if kind not in KINDS:
        raise ValueError(f"{kind!r}: expected one of {', '.join(KINDS)}")
    return os.path.join(shipped_root(), kind)


def job_template(file_name: str) -> str:
    """Path of a job template, e.g. job_template('slurm.sbatch')."""
    return os.path.join(shipped_dir("jobs"), file_name)


def shipped_files(kind: str) -> dict[str, str]:
    """{name: path} of the shipped models or configs, name = file name without .yaml."""
    return _yaml_files(shipped_dir(kind))


def _yaml_files(folder: str) -> dict[str, str]:
    try:
        entries = sorted(os.listdir(folder))
    except OSError:
        return {}
    return {os.path.splitext(entry)[0]: os.path.join(folder, entry) for entry in entries
            if entry.endswith(YAML_SUFFIXES)}


def neuron_models_dir() -> str:
    """Directory of the shipped equation neuron models (models/neurons)."""
    return os.path.join(shipped_dir("models"), NEURON_MODELS_FOLDER)


def shipped_neuron_models() -> dict[str, str]:
    """{model name: path} of the shipped equation neuron models (models/neurons/*.yaml),
    sorted by name; the name is the file name without .yaml, which is also the one key of
    the file's `neuron_models:` mapping."""
    return _yaml_files(neuron_models_dir())


def shipped_neuron_model(name: str) -> str:
    """Path of the shipped equation neuron model of that name, e.g.
    shipped_neuron_model('aeif_psc_exp') -> .../models/neurons/aeif_psc_exp.yaml (the
    repository's in a source checkout, brainsim/_shipped's in an installed brainsim).
    Raises SpecError (one line, listing the shipped names) for an unknown name."""
    key = name[:-len(suffix)] if (suffix := _yaml_suffix(name)) else name
    available = shipped_neuron_models()
    if key in available:
        return available[key]
    from brainsim.spec.errors import SpecError, one_line
    listed = ", ".join(available) or "none found in " + neuron_models_dir()
    raise SpecError(f"not a shipped neuron model; expected one of: {listed} (brainsim "
                    f"models lists them)", file=one_line(name))


def model_path(text: str) -> str:
    """The model file a command-line argument means: an existing path as given, else the
    shipped model of that name. Raises SpecError (one line) for an unknown name."""
    return _resolve(text, "models", "model")


def config_path(text: str | None) -> str | None:
    """As model_path, for --config (None stays None)."""
    return None if text is None else _resolve(text, "configs", "run config")


def _resolve(text: str, kind: str, what: str) -> str:
    if os.path.exists(text) or os.sep in text or (os.altsep and os.altsep in text):
        return text          # a path: missing files are reported where they are read
    name = text[:-len(suffix)] if (suffix := _yaml_suffix(text)) else text
    available = shipped_files(kind)
    if name in available:
        return available[name]
    from brainsim.spec.errors import SpecError, one_line
    listed = ", ".join(available) or "none found in " + shipped_dir(kind)
    raise SpecError(f"no such file, nor a shipped {what} of that name; expected a path or "
                    f"one of: {listed} (brainsim models lists them)", file=one_line(text))


def _yaml_suffix(text: str) -> str:
    return next((suffix for suffix in YAML_SUFFIXES if text.endswith(suffix)), "")


def resolve_arguments(args) -> None:
    """Replace args.model and args.config (where present) by the files they name."""
    args.model = model_path(args.model)
    if getattr(args, "config", None) is not None:
        args.config = config_path(args.config)


def catalogue() -> str:
    """What `brainsim models` prints: one line per shipped model (name, neurons at its
    default scale, description), then the shipped equation neuron models (name, first
    sentence of the file's comment), the shipped run configs and job templates."""
    from brainsim.spec import load_model
    models = shipped_files("models")
    configs = shipped_files("configs")
    neuron_models = shipped_neuron_models()
    width = max((len(name) for name in [*models, *configs, *neuron_models]), default=0) + 2
    lines = [f"shipped models ({shipped_dir('models')}; run one by name, e.g. "
             f"brainsim run {next(iter(models), 'NAME')}):"]
    for name, path in models.items():
        model = load_model(path)
        description = model.document.get("description") or first_comment_sentence(path)
        lines.append(f"  {name:<{width}}{model.num_neurons:>8,} neurons  "
                     f"{' '.join(str(description).split())}")
    lines.append(f"shipped neuron models, defined by equations ({neuron_models_dir()}; "
                 f"brainsim.shipped.shipped_neuron_model(NAME)):")
    for name, path in neuron_models.items():
        lines.append(f"  {name:<{width}}{first_comment_sentence(path)}")
    lines.append(f"shipped run configs ({shipped_dir('configs')}; --config NAME):")
    for name, path in configs.items():
        lines.append(f"  {name:<{width}}{first_comment_sentence(path)}")
    templates = sorted(os.listdir(shipped_dir("jobs")))
    lines.append(f"job templates of brainsim submit ({shipped_dir('jobs')}): "
                 f"{', '.join(templates)}")
    return "\n".join(lines)


def first_comment_sentence(path: str) -> str:
    """The first sentence of a YAML file's leading comment block ('' if none)."""
    words = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.startswith("#"):
                break
            words.append(line.lstrip("#").strip())
    text = " ".join(word for word in words if word)
    match = FIRST_SENTENCE.match(text)
    return match.group(1) if match else text
