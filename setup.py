"""Build brainsim and its compiled kernels (cython_kernels/*.pyx)."""
import glob
import os

import numpy
from Cython.Build import cythonize
from setuptools import Extension, find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def kernel_extensions():
    """One extension per cython_kernels/<name>.pyx, named cython_kernels.<name>."""
    extensions = []
    for path in sorted(glob.glob(os.path.join(HERE, "cython_kernels", "*.pyx"))):
        name = os.path.splitext(os.path.basename(path))[0]
        extensions.append(Extension(
            f"cython_kernels.{name}",
            [os.path.relpath(path, HERE)],
            include_dirs=[numpy.get_include()],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
            # No FMA contraction: it would change float results against NEST and the twins.
            extra_compile_args=["-O3", "-fno-math-errno", "-ffp-contract=off"],
        ))
    return extensions


setup(
    name="brainsim",
    version="0.1.0",
    description="Distributed simulation of large spiking neural networks (NEST semantics, MPI, HDF5)",
    python_requires=">=3.11",
    packages=find_packages(include=["brainsim", "brainsim.*", "cython_kernels"]),
    package_data={"cython_kernels": ["*.pxd", "*.pyx"]},
    ext_modules=cythonize(
        kernel_extensions(),
        language_level=3,
        compiler_directives={"boundscheck": False, "wraparound": False,
                             "cdivision": True, "initializedcheck": False},
    ),
    install_requires=["numpy>=1.26", "mpi4py>=4.0", "h5py>=3.10", "PyYAML>=6.0",
                      "matplotlib>=3.10"],
    extras_require={"mpich": ["mpich"],
                    "analysis": ["neo>=0.13", "quantities>=0.16", "elephant>=1.1"],
                    "test": ["pytest>=8", "hypothesis", "libsonata", "neo>=0.13",
                             "quantities>=0.16"]},
    entry_points={"console_scripts": ["brainsim = brainsim.cli:main"]},
    zip_safe=False,
)
