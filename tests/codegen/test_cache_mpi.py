"""load_kernel under a real MPI run of 2 ranks (brainsim.engine.comm): with a shared cache
that holds the module no rank compiles; a compile error is met by rank 0 alone and raised
with the same one line on both ranks."""
import json
import os
import subprocess
import sys

import pytest

import hand_specs
from brainsim.codegen import cache
from brainsim.codegen.generate import kernel_source

pytestmark = pytest.mark.mpi
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BROKEN = "def update():\n    return not_defined_anywhere\n"
RANK_SCRIPT = """
import json, sys
from brainsim.codegen import cache
from brainsim.engine.comm import make_comm
comm = make_comm()
source, shared, errors = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3]
module = cache.load_kernel(source, "iaf_psc_exp", shared, comm)
try:
    cache.load_kernel(sys.argv[4], "broken", errors, comm)
    error = None
except cache.KernelCompileError as exc:
    error = str(exc)
with open(f"{sys.argv[5]}/rank{comm.rank}.json", "w") as out:   # not stdout: the two
    json.dump({"rank": comm.rank, "size": comm.size,              # ranks' lines can mix
               "compiled": cache.STATS.compiled, "file": module.__file__, "error": error},
              out)
"""


def test_two_ranks_share_the_cache_and_agree_on_a_compile_error(
        mpiexec, generated_iaf_psc_exp, kernel_cache, tmp_path):
    source = tmp_path / "iaf.pyx"
    source.write_text(kernel_source(hand_specs.IAF_PSC_EXP))
    errors = tmp_path / "errors"
    done = subprocess.run([mpiexec, "-n", "2", sys.executable, "-c", RANK_SCRIPT, str(source),
                           kernel_cache, str(errors), BROKEN, str(tmp_path)],
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = sorted((json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)),
                   key=lambda r: r["rank"])
    assert [(r["rank"], r["size"], r["compiled"]) for r in ranks] == [(0, 2, 0), (1, 2, 0)]
    assert {r["file"] for r in ranks} == {generated_iaf_psc_exp.__file__}
    assert ranks[0]["error"] == ranks[1]["error"] and "not_defined_anywhere" in ranks[0]["error"]
    logs = [name for name in os.listdir(errors) if name.endswith(".log")]
    assert logs == [cache.module_name("broken", cache.cache_key(BROKEN)) + ".log"]
