"""The compile cache: a published module is loaded, not compiled again (in this process
and in a new one); new content compiles once even when two processes ask at the same time
(node-local cache under MPI: ranks of one node without rank 0); a compile error is one
line naming the saved log; the MPI protocol (rank 0 first, agreed failures) with a stand-in
communicator; where the cache folder is."""
import json
import os
import stat
import subprocess
import sys
import time

import pytest

import hand_specs
from brainsim.codegen import cache, compiled_kernel
from brainsim.codegen.generate import kernel_source

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = "iaf_psc_exp"


class StandInComm:
    """Rank `rank` of `size`: bcast returns rank 0's value (``root_value`` when this is
    not rank 0), allreduce_max the maximum with the other ranks' ``others_max``."""

    def __init__(self, rank, size=2, root_value=None, others_max=0):
        self.rank, self.size = rank, size
        self.root_value, self.others_max = root_value, others_max
        self.sent = []

    def bcast(self, value):
        self.sent.append(value)
        return value if self.rank == 0 else self.root_value

    def allreduce_max(self, value):
        return max(value, self.others_max)


# A child process: load_kernel(source) into the cache folder, as rank 1 of a stand-in
# communicator when asked; prints what it did as JSON.
CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[4])
from brainsim.codegen import cache
from test_cache import StandInComm
source = open(sys.argv[1]).read()
comm = StandInComm(rank=1) if sys.argv[3] == "rank1" else None
start = time.perf_counter()
module = cache.load_kernel(source, "iaf_psc_exp", sys.argv[2], comm)
print(json.dumps({"seconds": time.perf_counter() - start, "compiled": cache.STATS.compiled,
                  "file": module.__file__, "update": hasattr(module, "update")}))
"""


def start_child(tmp_path, source, cache_dir, role="serial"):
    source_path = tmp_path / f"source-{abs(hash(source))}.pyx"
    source_path.write_text(source)
    return subprocess.Popen([sys.executable, "-c", CHILD, str(source_path), cache_dir, role,
                             os.path.dirname(os.path.abspath(__file__))],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)


def child_result(process):
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_published_module_is_loaded_not_compiled(generated_iaf_psc_exp, kernel_cache, tmp_path):
    compiled = cache.STATS.compiled
    again = compiled_kernel(hand_specs.IAF_PSC_EXP, cache_dir=kernel_cache)
    assert again is generated_iaf_psc_exp and cache.STATS.compiled == compiled
    fresh = child_result(start_child(tmp_path, kernel_source(hand_specs.IAF_PSC_EXP),
                                     kernel_cache))
    assert fresh["compiled"] == 0 and fresh["file"] == generated_iaf_psc_exp.__file__
    assert fresh["seconds"] < 3.0        # a compile takes ~15 s here; a load milliseconds


def test_new_content_compiles_once_for_two_processes_at_once(generated_iaf_psc_exp, tmp_path):
    """Two ranks of a node whose node-local cache lacks the module (rank 0 compiled it
    elsewhere) ask for a changed source at the same moment: one compiles, under the lock,
    the other waits and loads the published module."""
    source = kernel_source(hand_specs.IAF_PSC_EXP) + "\n# changed content, new key\n"
    node_cache = str(tmp_path / "node_local")
    os.makedirs(node_cache)
    children = [start_child(tmp_path, source, node_cache, role="rank1") for _ in range(2)]
    results = [child_result(child) for child in children]
    assert sorted(r["compiled"] for r in results) == [0, 1]
    assert results[0]["file"] == results[1]["file"] != generated_iaf_psc_exp.__file__
    assert all(r["update"] for r in results)
    name = cache.module_name(MODEL, cache.cache_key(source))
    assert sorted(e for e in os.listdir(node_cache) if not e.endswith(".lock")) == [name]
    assert sorted(os.listdir(os.path.join(node_cache, name))) == sorted(
        [name + ".pyx", name + cache.EXT_SUFFIX])


def test_compile_error_is_one_line_with_the_log_broadcast_by_rank_0(tmp_path):
    source = "def update():\n    return not_defined_anywhere\n"
    comm = StandInComm(rank=0)
    with pytest.raises(cache.KernelCompileError) as error:
        cache.load_kernel(source, "broken", str(tmp_path), comm)
    message = str(error.value)
    name = cache.module_name("broken", cache.cache_key(source))
    log = tmp_path / (name + ".log")
    assert "\n" not in message and "not_defined_anywhere" in message and str(log) in message
    assert "not_defined_anywhere" in log.read_text()
    assert comm.sent == [message]                  # every rank learns it from rank 0
    assert not (tmp_path / name).exists()          # nothing published
    assert [e for e in os.listdir(tmp_path) if ".tmp-" in e] == []


def test_other_ranks_find_rank_0s_module_in_a_shared_cache(generated_iaf_psc_exp,
                                                            kernel_cache):
    compiled = cache.STATS.compiled
    module = cache.load_kernel(kernel_source(hand_specs.IAF_PSC_EXP), MODEL, kernel_cache,
                               StandInComm(rank=1))
    assert module is generated_iaf_psc_exp and cache.STATS.compiled == compiled


def test_a_failure_on_any_rank_is_raised_on_every_rank(kernel_cache, generated_iaf_psc_exp):
    source = kernel_source(hand_specs.IAF_PSC_EXP)
    with pytest.raises(cache.KernelCompileError, match="^rank 0 says no$"):
        cache.load_kernel("never compiled", MODEL, kernel_cache,
                          StandInComm(rank=1, root_value="rank 0 says no"))
    with pytest.raises(cache.KernelCompileError, match="failed on another rank"):
        cache.load_kernel(source, MODEL, kernel_cache, StandInComm(rank=1, others_max=1))


def test_key_covers_source_and_toolchain(monkeypatch):
    source = kernel_source(hand_specs.IAF_PSC_EXP)
    key = cache.cache_key(source)
    assert cache.cache_key(source + " ") != key
    assert "cython_kernels/inputs.pxd" not in cache.toolchain_fingerprint()
    assert "inputs.pxd " in cache.toolchain_fingerprint()
    monkeypatch.setattr(cache, "toolchain_fingerprint", lambda: "another compiler")
    assert cache.cache_key(source) != key


def test_cache_folder_setting_then_environment_then_private_default(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "from_env"))
    assert cache.cache_directory(str(tmp_path / "configured")) == str(tmp_path / "configured")
    assert cache.cache_directory() == str(tmp_path / "from_env")
    monkeypatch.delenv(cache.ENV_VAR)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    default = cache.cache_directory()
    assert default == str(tmp_path / "xdg" / "brainsim" / "kernels")
    assert stat.S_IMODE(os.stat(default).st_mode) == 0o700
