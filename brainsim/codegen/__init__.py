"""Code generation for equation-defined neuron models: a KernelSpec (kernel_spec) becomes
the Cython source of a kernel with the built-ins' calling convention (generate), compiled
once per content hash and loaded from a cache (cache). docs/architecture.md §13."""
