"""Generated kernels compiled once per test session into a private cache folder (each
compile costs ~15-20 s), shared by the equivalence, cache and binding tests."""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import hand_specs  # noqa: E402
from brainsim.codegen import compiled_kernel  # noqa: E402


@pytest.fixture(scope="session")
def kernel_cache(tmp_path_factory):
    """The cache folder of this session's generated kernels."""
    return str(tmp_path_factory.mktemp("kernel_cache"))


@pytest.fixture(scope="session")
def generated_iaf_psc_exp(kernel_cache):
    return compiled_kernel(hand_specs.IAF_PSC_EXP, cache_dir=kernel_cache)


@pytest.fixture(scope="session")
def generated_aeif_cond_exp(kernel_cache):
    return compiled_kernel(hand_specs.AEIF_COND_EXP, cache_dir=kernel_cache)


EQUATION_MODELS = ("hh_psc_alpha", "mat2_psc_exp")


@pytest.fixture(scope="session")
def equation_model_kernels(kernel_cache):
    """The generated kernels of the shipped models in EQUATION_MODELS, compiled side by
    side (one compiler per model: two cores take the time of one compile)."""
    from concurrent.futures import ThreadPoolExecutor

    from brainsim.codegen.cache import ensure_compiled
    from brainsim.codegen.generate import kernel_source
    from equation_kernels import lowered
    specs = {name: lowered(name)[1].spec for name in EQUATION_MODELS}
    with ThreadPoolExecutor(max_workers=len(specs)) as pool:
        list(pool.map(lambda s: ensure_compiled(kernel_source(s), s.model, kernel_cache),
                      specs.values()))
    return {name: compiled_kernel(spec, cache_dir=kernel_cache)
            for name, spec in specs.items()}


@pytest.fixture(scope="session")
def generated_hh_psc_alpha(equation_model_kernels):
    return equation_model_kernels["hh_psc_alpha"]


@pytest.fixture(scope="session")
def generated_mat2_psc_exp(equation_model_kernels):
    return equation_model_kernels["mat2_psc_exp"]
