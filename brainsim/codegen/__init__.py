"""Code generation for equation-defined neuron models: a KernelSpec (kernel_spec) becomes
the Cython source of a kernel with the built-ins' calling convention (generate), compiled
once per content hash and loaded from a cache (cache). docs/architecture.md §13."""


def compiled_kernel(spec, cache_dir: str | None = None, comm=None):
    """The loaded kernel module of a KernelSpec: generated, then compiled once per cache
    folder (brainsim.codegen.cache.load_kernel; comm: the run's communicator or None)."""
    from brainsim.codegen.cache import load_kernel
    from brainsim.codegen.generate import kernel_source
    return load_kernel(kernel_source(spec), spec.model, cache_dir, comm)
