"""Run a PyNN example script unchanged on brainsim.pynn.

PyNN's examples pick their backend with pyNN.utility.get_simulator, which imports
`pyNN.<name>`; this registers brainsim.pynn as `pyNN.brainsim` and runs the script:

    python benchmarks/pynn_run_example.py path/to/example.py brainsim [script options]
"""
import runpy
import sys

import pyNN

import brainsim.pynn

sys.modules["pyNN.brainsim"] = brainsim.pynn
pyNN.brainsim = brainsim.pynn

if __name__ == "__main__":
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    runpy.run_path(script, run_name="__main__")
