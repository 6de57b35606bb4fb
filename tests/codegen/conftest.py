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


@pytest.fixture(scope="session")
def generated_hh_psc_alpha(kernel_cache):
    from equation_kernels import lowered
    return compiled_kernel(lowered("hh_psc_alpha")[1].spec, cache_dir=kernel_cache)


@pytest.fixture(scope="session")
def generated_mat2_psc_exp(kernel_cache):
    from equation_kernels import lowered
    return compiled_kernel(lowered("mat2_psc_exp")[1].spec, cache_dir=kernel_cache)
