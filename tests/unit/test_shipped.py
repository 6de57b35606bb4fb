"""Shipped models, equation neuron models (models/neurons), run configs and job templates
(brainsim.shipped) in a source checkout:
named on the command line from any directory, listed by `brainsim models`, found in the
installed copy when there is one. tests/packaging checks the same from an installed wheel."""
from __future__ import annotations

import os

import pytest

from brainsim import cli, shipped
from brainsim.scheduler.render import template_path
from brainsim.spec import SpecError
from cli_runner import REPO, run_brainsim

MODEL_NEURONS = {"brunel_2000": "12,500", "hpc_benchmark": "11,250",
                 "potjans_diesmann_2014": "77,169"}
NEURONS_DIR = os.path.join(REPO, "models", "neurons")
NEURON_MODEL_FILES = sorted(entry[:-5] for entry in os.listdir(NEURONS_DIR)
                            if entry.endswith(".yaml"))


def test_names_are_the_files_of_the_top_level_folders():
    assert sorted(shipped.shipped_files("models")) == sorted(MODEL_NEURONS)
    assert sorted(shipped.shipped_files("configs")) == ["cluster", "laptop", "workstation"]
    assert shipped.model_path("brunel_2000") == os.path.join(REPO, "models", "brunel_2000.yaml")
    assert shipped.model_path("brunel_2000.yaml") == shipped.model_path("brunel_2000")
    assert shipped.config_path("laptop") == os.path.join(REPO, "configs", "laptop.yaml")
    assert shipped.config_path(None) is None


def test_a_path_that_exists_wins_over_a_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "brunel_2000").write_text("name: mine\n")
    assert shipped.model_path("brunel_2000") == "brunel_2000"
    missing = os.path.join("models", "nothing_here.yaml")
    assert shipped.model_path(missing) == missing      # a path: load_model reports it


def test_an_unknown_name_is_refused_listing_the_shipped_names():
    with pytest.raises(SpecError, match=r"^potjans: no such file, nor a shipped model .*"
                       r"one of: brunel_2000, hpc_benchmark, potjans_diesmann_2014 "):
        shipped.model_path("potjans")
    with pytest.raises(SpecError, match=r"one of: cluster, laptop, workstation "):
        shipped.config_path("laptop.yml.bak")


def test_the_installed_copy_is_preferred_when_there_is_one(tmp_path, monkeypatch):
    installed = tmp_path / "_shipped"
    (installed / "jobs").mkdir(parents=True)
    (installed / "models").mkdir()
    (installed / "models" / "only_here.yaml").write_text("name: only_here\n")
    (installed / "models" / "neurons").mkdir()
    (installed / "models" / "neurons" / "my_lif.yaml").write_text("neuron_models: {}\n")
    monkeypatch.setattr(shipped, "INSTALLED_DIR", str(installed))
    assert template_path("slurm") == str(installed / "jobs" / "slurm.sbatch")
    assert list(shipped.shipped_files("models")) == ["only_here"]
    assert shipped.shipped_neuron_models() == {
        "my_lif": str(installed / "models" / "neurons" / "my_lif.yaml")}
    assert shipped.shipped_neuron_model("my_lif") == shipped.shipped_neuron_models()["my_lif"]
    with pytest.raises(SpecError, match=r"^iaf_psc_exp: not a shipped neuron model; "
                       r"expected one of: my_lif "):
        shipped.shipped_neuron_model("iaf_psc_exp")


def test_neuron_models_are_the_files_of_models_neurons():
    assert len(NEURON_MODEL_FILES) >= 9 and "aeif_psc_exp" in NEURON_MODEL_FILES
    assert list(shipped.shipped_neuron_models()) == NEURON_MODEL_FILES
    assert shipped.neuron_models_dir() == NEURONS_DIR
    assert shipped.shipped_neuron_model("aeif_psc_exp") == \
        os.path.join(NEURONS_DIR, "aeif_psc_exp.yaml")
    assert shipped.shipped_neuron_model("aeif_psc_exp.yaml") == \
        shipped.shipped_neuron_model("aeif_psc_exp")
    assert not set(NEURON_MODEL_FILES) & set(shipped.shipped_files("models"))


def test_each_neuron_model_file_defines_the_model_of_its_name():
    import yaml
    for name, path in shipped.shipped_neuron_models().items():
        with open(path, encoding="utf-8") as handle:
            document = yaml.safe_load(handle)
        assert list(document) == ["neuron_models"], path
        assert list(document["neuron_models"]) == [name], path


def test_an_unknown_neuron_model_is_refused_listing_the_shipped_ones():
    with pytest.raises(SpecError, match=r"^aeif: not a shipped neuron model; expected one "
                       r"of: aeif_cond_alpha, aeif_cond_exp, aeif_psc_exp, .*iaf_psc_exp, "):
        shipped.shipped_neuron_model("aeif")
    with pytest.raises(SpecError, match="not a shipped neuron model"):
        shipped.shipped_neuron_model("brunel_2000")          # a network model, not one


def test_job_templates_come_from_jobs_at_the_repository_root():
    assert template_path("slurm") == os.path.join(REPO, "jobs", "slurm.sbatch")
    assert template_path("pbs") == os.path.join(REPO, "jobs", "pbs.pbs")
    assert template_path("pbs", "/elsewhere") == "/elsewhere/pbs.pbs"


def test_models_command_lists_models_with_neurons_and_the_configs(tmp_path):
    done = run_brainsim(["models"], cwd=str(tmp_path), timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for name, neurons in MODEL_NEURONS.items():
        line, = [line for line in lines if line.split()[:1] == [name]]
        assert f" {neurons} neurons " in line and len(line.split()) > 5, line
    assert any("Brunel (2000) sparse balanced" in line for line in lines)
    laptop, = [line for line in lines if line.split()[:1] == ["laptop"]]
    assert "Run config for a laptop" in laptop
    heading, = [line for line in lines if line.startswith("shipped neuron models")]
    assert NEURONS_DIR in heading
    for name in NEURON_MODEL_FILES:
        line, = [line for line in lines if line.split()[:1] == [name]]
        assert len(line.split()) > 3, line
    aeif, = [line for line in lines if line.split()[:1] == ["aeif_psc_exp"]]
    assert "NEST 3.10 aeif_psc_exp written as an equation model" in aeif


@pytest.mark.parametrize("command", [["validate"], ["info", "-n", "2"]])
def test_validate_and_info_take_a_shipped_model_and_config_by_name(command, tmp_path):
    done = run_brainsim([*command[:1], "potjans_diesmann_2014", "--config", "laptop",
                         *command[1:]], cwd=str(tmp_path), timeout=120)
    assert done.returncode == 0, done.stderr
    assert "7,717" in done.stdout           # laptop.yaml's scale 0.1 was merged


def test_run_takes_a_shipped_model_by_name(tmp_path):
    done = run_brainsim(["run", "brunel_2000", "--set", "parameters.order=50",
                         "--set", "simulation.t_sim=50", "-o", "out", "--no-progress"],
                        cwd=str(tmp_path), timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "spikes.h5").is_file()


def test_submit_renders_the_shipped_files_by_name(tmp_path):
    done = run_brainsim(["submit", "hpc_benchmark", "--config", "cluster", "--dry-run",
                         "-o", "job"], cwd=str(tmp_path), timeout=120)
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "job" / "job.sbatch").read_text()
    assert f"model={os.path.join(REPO, 'models', 'hpc_benchmark.yaml')}\n" in text
    assert f"config_args=(--config {os.path.join(REPO, 'configs', 'cluster.yaml')})" in text


@pytest.mark.parametrize("args", [["run", "nosuch"], ["validate", "brunel_2000", "--config",
                                                      "nosuch"],
                                  ["submit", "nosuch", "--dry-run"], ["run", "bad\nname"]])
def test_unknown_names_exit_2_with_one_line(args, tmp_path):
    done = run_brainsim(args, cwd=str(tmp_path), timeout=60)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "(brainsim models lists them)" in done.stderr
    assert not os.listdir(tmp_path)


def test_cli_docstring_lists_every_command():
    documented = [line.split()[0] for line in cli.__doc__.splitlines()
                  if line.startswith("    ") and line.split()]
    assert sorted(documented) == sorted(cli.COMMANDS)


def test_licence_is_bsd_3_clause():
    with open(os.path.join(REPO, "LICENSE")) as handle:
        text = handle.read()
    assert text.startswith("BSD 3-Clause License\n\nCopyright (c) 2026, the brainsim developers")
