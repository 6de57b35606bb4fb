"""Kernel tests need the compiled extensions; say how to build them instead of failing obscurely."""
import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

try:
    import cython_kernels.rng  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the build
    pytest.exit(f"cython_kernels are not built ({exc}); run "
                f"`python setup.py build_ext --inplace` in {REPO}", returncode=4)
