"""`brainsim info MODEL --config CONFIG`: the ranks of the memory estimate and of the
'does it fit its nodes' warning come from the config's `run:` mapping (nodes x
ranks_per_node, or ranks) unless -n is given; a bad value there exits 2 with one line."""
from __future__ import annotations

import os

import yaml

from cli_runner import MODELS, REPO, run_brainsim, run_ok

PD14 = os.path.join(MODELS, "potjans_diesmann_2014.yaml")
SMALL = os.path.join(REPO, "tests", "bad_inputs", "valid_base.yaml")   # a tiny valid model


def config(tmp_path, run: dict) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"run": run}))
    return str(path)


def estimate_line(done) -> str:
    return next(line for line in done.stdout.splitlines() if "estimated peak memory" in line)


def test_ranks_come_from_the_config_and_n_overrides_them():
    for name, ranks in (("laptop", 2), ("workstation", 8), ("cluster", 64)):
        done = run_ok(["info", PD14, "--config", os.path.join(REPO, "configs", f"{name}.yaml")])
        assert f"per rank on {ranks} rank(s)" in estimate_line(done)
    done = run_ok(["info", PD14, "--config", os.path.join(REPO, "configs", "cluster.yaml"),
                   "-n", "4"])
    assert "per rank on 4 rank(s)" in estimate_line(done)
    assert "per rank on 1 rank(s)" in estimate_line(run_ok(["info", SMALL]))


def test_nodes_times_ranks_per_node_and_the_fit_warning(tmp_path):
    # 50 MB per node: anything warns, so the warning shows which layout was checked
    path = config(tmp_path, {"nodes": 3, "ranks_per_node": 5, "memory_per_node_gb": 0.05})
    done = run_ok(["info", SMALL, "--config", path])
    assert "per rank on 15 rank(s)" in estimate_line(done)
    assert "warning: 3 node(s) x 5 rank(s) per node need about" in done.stderr
    done = run_ok(["info", SMALL, "--config", path, "-n", "2"])
    assert "per rank on 2 rank(s)" in estimate_line(done)
    assert "warning: 2 node(s) x 1 rank(s) per node" in done.stderr
    done = run_ok(["info", SMALL, "--config", config(tmp_path, {"ranks": 6, "nodes": 2,
                                                                "memory_per_node_gb": 0.05})])
    assert "per rank on 6 rank(s)" in estimate_line(done)
    assert "warning: 2 node(s) x 3 rank(s) per node" in done.stderr
    roomy = config(tmp_path, {"ranks": 4, "memory_per_node_gb": 1000})
    assert run_ok(["info", SMALL, "--config", roomy]).stderr == ""


def test_bad_ranks_in_the_config_exit_2_with_one_line(tmp_path):
    cases = [({"ranks": 2.5}, None, "config.yaml: run.ranks: 2.5; expected a positive integer"),
             ({"nodes": 0}, None, "config.yaml: run.nodes: 0; expected a positive integer"),
             ({"nodes": 2, "ranks": 3}, None,
              "config.yaml: run.ranks: 3; expected a multiple of nodes = 2"),
             ({"ranks": 2}, "run.ranks=-1", "--set: run.ranks: -1; expected a positive integer"),
             ({"memory_per_node_gb": "lots"}, None,
              "config.yaml: run.memory_per_node_gb: 'lots'; expected a positive number of GB")]
    for run, override, expect in cases:
        args = ["info", SMALL, "--config", config(tmp_path, run)]
        done = run_brainsim(args + (["--set", override] if override else []), timeout=60)
        assert done.returncode == 2, done.stdout + done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("brainsim: error: "), done.stderr
        assert expect in lines[0] and done.stdout == ""
