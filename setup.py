"""Build brainsim and its compiled kernels (cython_kernels/*.pyx).

The shipped models/ (with the equation neuron models in models/neurons/), configs/ and
jobs/ stay at the top of the repository (their only committed copy); build_py copies them
into the built package as brainsim/_shipped/, where brainsim.shipped finds them in an
installed brainsim. The kernels compile concurrently, one per core.
"""
import glob
import os

import numpy
from Cython.Build import cythonize
from setuptools import Extension, find_packages, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
# copied to brainsim/_shipped/<folder>, each folder's files only (not its subfolders)
SHIPPED_FOLDERS = ("models", "models/neurons", "configs", "jobs")
CORES = os.cpu_count() or 1


class BuildPyWithShippedFiles(build_py):
    """build_py, plus a copy of the shipped folders into the built package. Not in an
    editable install, which reads them from the repository itself."""

    def run(self):
        super().run()
        if not getattr(self, "editable_mode", False):
            for source, target in self.shipped_files():
                self.mkpath(os.path.dirname(target))
                self.copy_file(source, target)

    def shipped_files(self):
        """(source, target) of every file in the shipped folders (each folder's own files:
        models/neurons is listed as a folder of its own)."""
        pairs = []
        for folder in SHIPPED_FOLDERS:
            for source in sorted(glob.glob(os.path.join(HERE, *folder.split("/"), "*"))):
                if os.path.isfile(source):
                    pairs.append((source, os.path.join(self.build_lib, "brainsim", "_shipped",
                                                       *folder.split("/"),
                                                       os.path.basename(source))))
        return pairs

    def get_outputs(self, include_bytecode=True):
        shipped = [] if getattr(self, "editable_mode", False) else \
            [target for _, target in self.shipped_files()]
        return super().get_outputs(include_bytecode) + shipped


class ParallelBuildExt(build_ext):
    """build_ext compiling the kernels concurrently, one per core, unless -j says otherwise
    (16 kernels at -O3 take ~3 CPU-minutes)."""

    def finalize_options(self):
        if self.parallel is None:
            self.parallel = CORES
        super().finalize_options()


def long_description():
    with open(os.path.join(HERE, "README.md"), encoding="utf-8") as handle:
        return handle.read()


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
    long_description=long_description(),
    long_description_content_type="text/markdown",
    author="the brainsim developers",
    license="BSD-3-Clause",
    license_files=["LICENSE"],
    # No public host yet: the links are paths in the source tree (and source distribution).
    project_urls={"Homepage": "README.md",
                  "Documentation": "docs/architecture.md",
                  "Model format": "docs/model-format.md",
                  "Errors and exit statuses": "docs/errors.md",
                  "HPC (SLURM, PBS)": "docs/hpc.md"},
    keywords=["spiking neural networks", "computational neuroscience", "simulation", "NEST",
              "MPI", "HDF5", "SONATA", "cortical microcircuit"],
    classifiers=[
        "Development Status :: 4 - Beta",
        "Environment :: Console",
        "Intended Audience :: Science/Research",
        "License :: OSI Approved :: BSD License",
        "Operating System :: POSIX :: Linux",
        "Programming Language :: Cython",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Programming Language :: Python :: 3.11",
        "Topic :: Scientific/Engineering",
        "Topic :: Scientific/Engineering :: Bio-Informatics",
        "Topic :: System :: Distributed Computing",
    ],
    python_requires=">=3.11",
    packages=find_packages(include=["brainsim", "brainsim.*", "cython_kernels"]),
    package_data={"cython_kernels": ["*.pxd", "*.pyx"]},
    cmdclass={"build_py": BuildPyWithShippedFiles, "build_ext": ParallelBuildExt},
    ext_modules=cythonize(
        kernel_extensions(),
        nthreads=CORES,
        language_level=3,
        compiler_directives={"boundscheck": False, "wraparound": False,
                             "cdivision": True, "initializedcheck": False},
    ),
    # sympy: the equation models' symbolic analysis and propagators (imported lazily)
    # Cython and setuptools at run time too: models from equations compile their
    # generated kernels on first use (brainsim/codegen/cache.py), cimporting the .pxd
    # files shipped as package data.
    install_requires=["numpy>=1.26", "mpi4py>=4.0", "h5py>=3.10", "PyYAML>=6.0",
                      "matplotlib>=3.10", "sympy>=1.12", "Cython>=3.0", "setuptools>=64"],
    extras_require={"mpich": ["mpich"],
                    "analysis": ["neo>=0.13", "quantities>=0.16", "elephant>=1.1"],
                    "pynn": ["PyNN>=0.13,<0.14", "neo>=0.13"],
                    # build ... wheel: tests/packaging builds the wheel without isolation
                    "test": ["pytest>=8", "hypothesis", "libsonata", "neo>=0.13",
                             "PyNN>=0.13,<0.14", "quantities>=0.16", "build>=1.0", "Cython>=3.0",
                             "setuptools>=64", "wheel"]},
    entry_points={"console_scripts": ["brainsim = brainsim.cli:main"]},
    zip_safe=False,
)
