"""brainsim: distributed spiking network simulation with NEST semantics."""
__version__ = "0.1.0"

# The Python API (brainsim.api), imported on first use: `import brainsim` stays light (the
# CLI sets BLAS threads before numpy is imported).
_API_NAMES = ("load", "Simulation", "SpecError", "run_to_files")


def __getattr__(name):
    if name in _API_NAMES:
        from brainsim import api
        return getattr(api, name)
    raise AttributeError(f"module 'brainsim' has no attribute {name!r}")
