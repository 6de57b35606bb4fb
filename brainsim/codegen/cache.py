"""Compile a generated kernel once and load it from a cache keyed by content
(docs/architecture.md §13).

The key is the SHA-256 of the source and of everything the compiled module depends on:
the Cython, numpy and Python (extension suffix) versions, the C compiler's version line,
the compile flags and directives (those of setup.py), and the text of every
cython_kernels/*.pxd it may cimport (an InputPlan whose layout changed must not meet an old
module). A module is published as the folder ``<cache>/<name>/`` (``<name>.pyx`` and the
compiled ``<name><EXT_SUFFIX>``), name = ``brainsim_kernel_<model>_<key[:20]>``: compiled in
a temporary folder beside it and renamed into place, so no process ever sees half a
module, while ``<name>.lock`` (flock) keeps two processes from compiling the same key at
once; whoever loses the race finds the published folder. A failed compile leaves its full
log in ``<cache>/<name>.log`` and raises KernelCompileError with one line.

The cache folder: the run configuration's setting (``cache_dir``), else the environment
variable BRAINSIM_KERNEL_CACHE, else a private per-user folder
($XDG_CACHE_HOME or ~/.cache)/brainsim/kernels (mode 0700). Only trusted users may write a
shared cache: its modules are loaded as code.

Under MPI (``comm`` with rank, size, bcast, allreduce_max: brainsim.engine.comm) rank 0
compiles (or finds) the module first and broadcasts the outcome; then every other rank
looks in its own cache folder: on a shared cluster file system it finds rank 0's module,
on a node-local one the first rank of each node compiles (the lock holds the others of
that node back) and the rest load its module. Failures are agreed: every rank raises.
"""
from __future__ import annotations

import errno
import fcntl
import functools
import glob
import hashlib
import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass

ENV_VAR = "BRAINSIM_KERNEL_CACHE"
# setup.py's flags and directives (no FMA contraction: same bits as the built-ins)
COMPILE_FLAGS = ("-O3", "-fno-math-errno", "-ffp-contract=off")
DEFINE_MACROS = (("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION"),)
DIRECTIVES = {"boundscheck": False, "wraparound": False, "cdivision": True,
              "initializedcheck": False}
EXT_SUFFIX = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
_NO_LOCKS = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL)
# The first line of a compile log worth a one-line message: Cython's "file:line:col: msg"
# or the C compiler's "error:".
_FIRST_ERROR = re.compile(r"(\S+\.pyx:\d+:\d+: .*|\S+:\d+:\d+: (?:fatal )?error: .*|error: .*)")


class KernelCompileError(RuntimeError):
    """A generated kernel did not compile or load (one line; the log path is in it)."""


@dataclass
class CacheStats:
    """What this process did: compiled (modules it compiled itself), loaded (modules it
    imported from the cache folder)."""
    compiled: int = 0
    loaded: int = 0


STATS = CacheStats()
_MODULES: dict[str, object] = {}   # module name -> loaded module (one import per process)


def cache_directory(configured: str | None = None) -> str:
    """The cache folder (created): configured, else $BRAINSIM_KERNEL_CACHE, else the
    private per-user default (created 0700)."""
    chosen = configured or os.environ.get(ENV_VAR)
    if chosen:
        os.makedirs(chosen, exist_ok=True)
        return os.path.abspath(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    directory = os.path.join(base, "brainsim", "kernels")
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700, exist_ok=True)
        os.chmod(directory, 0o700)
    return directory


def headers_directory() -> str:
    """The folder holding the cython_kernels package, whose .pxd files generated kernels
    cimport (the repository in an editable install, site-packages in a wheel)."""
    import cython_kernels
    return os.path.dirname(os.path.dirname(os.path.abspath(cython_kernels.__file__)))


def _compiler_version() -> str:
    compiler = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
    try:
        result = subprocess.run([compiler, "--version"], capture_output=True, text=True,
                                timeout=30)
        return result.stdout.splitlines()[0] if result.stdout else compiler
    except (OSError, subprocess.SubprocessError):
        return compiler


@functools.lru_cache(maxsize=1)
def toolchain_fingerprint() -> str:
    """Everything besides the source a compiled module depends on, as one string."""
    import numpy
    try:        # the installed version, without importing Cython (~50 ms)
        cython_version = importlib.metadata.version("Cython")
    except importlib.metadata.PackageNotFoundError:
        cython_version = "none"
    parts = [f"cython {cython_version}", f"numpy {numpy.__version__}",
             f"python {EXT_SUFFIX}", f"cc {_compiler_version()}",
             f"flags {' '.join(COMPILE_FLAGS)}", f"macros {DEFINE_MACROS}",
             f"directives {sorted(DIRECTIVES.items())}"]
    for path in sorted(glob.glob(os.path.join(headers_directory(), "cython_kernels", "*.pxd"))):
        with open(path, "rb") as handle:
            parts.append(f"{os.path.basename(path)} {hashlib.sha256(handle.read()).hexdigest()}")
    return "\n".join(parts)


def cache_key(source: str) -> str:
    digest = hashlib.sha256(source.encode())
    digest.update(b"\0" + toolchain_fingerprint().encode())
    return digest.hexdigest()


def module_name(model: str, key: str) -> str:
    return f"brainsim_kernel_{model}_{key[:20]}"


def published_path(directory: str, name: str) -> str:
    """Where the compiled module of ``name`` lies once published."""
    return os.path.join(directory, name, name + EXT_SUFFIX)


_BUILD_SCRIPT = """
import sys
import numpy
from Cython.Build import cythonize
from setuptools import Distribution, Extension
from setuptools.command.build_ext import build_ext

pyx, name, headers, out = sys.argv[1:5]
flags, macros, directives = {flags!r}, {macros!r}, {directives!r}
extension = Extension(name, [pyx], include_dirs=[numpy.get_include()],
                      define_macros=list(macros), extra_compile_args=list(flags))
modules = cythonize([extension], include_path=[headers], language_level=3,
                    compiler_directives=directives, quiet=True, force=True)
command = build_ext(Distribution({{"ext_modules": modules}}))
command.build_lib = out
command.build_temp = out + "/temp"
command.ensure_finalized()
command.run()
"""


def _first_error(log: str) -> str:
    for line in log.splitlines():
        found = _FIRST_ERROR.search(line)
        if found:
            where, colon, message = found.group(1).strip().partition(":")
            return os.path.basename(where) + colon + message   # the file, not its folder
    lines = [line for line in log.splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no output"


def _compile(source: str, name: str, work: str, log_path: str) -> str:
    """Compile source as module ``name`` inside the folder work; returns the module path.
    On failure writes the log to log_path and raises KernelCompileError."""
    pyx = os.path.join(work, name + ".pyx")
    with open(pyx, "w", encoding="utf-8") as handle:
        handle.write(source)
    script = _BUILD_SCRIPT.format(flags=COMPILE_FLAGS, macros=DEFINE_MACROS,
                                  directives=DIRECTIVES)
    result = subprocess.run([sys.executable, "-c", script, pyx, name, headers_directory(),
                             work], cwd=work, capture_output=True, text=True)
    built = os.path.join(work, name + EXT_SUFFIX)
    if result.returncode == 0 and os.path.isfile(built):
        return built
    log = result.stdout + result.stderr
    partial = log_path + f".tmp-{os.getpid()}"
    with open(partial, "w", encoding="utf-8") as handle:
        handle.write(log)
    os.replace(partial, log_path)
    raise KernelCompileError(f"generated kernel {name} did not compile: {_first_error(log)} "
                             f"(full log: {log_path})")


def _publish(directory: str, name: str, built: str, work: str) -> None:
    """Move the compiled module and its source into <directory>/<name>/ in one rename."""
    folder = os.path.join(work, "publish")
    os.mkdir(folder)
    os.rename(built, os.path.join(folder, os.path.basename(built)))
    shutil.copy(os.path.join(work, name + ".pyx"), folder)
    try:
        os.rename(folder, os.path.join(directory, name))
    except OSError as exc:
        if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
            raise
        # published meanwhile by a process that did not see our lock (no flock support)


class _Lock:
    """flock on <directory>/<name>.lock, blocking; unlocked where the file system has no
    flock (the atomic rename still keeps the published module whole)."""

    def __init__(self, path: str):
        self.path = path
        self.fd = None

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except OSError as exc:
            if exc.errno not in _NO_LOCKS:
                os.close(self.fd)
                raise
        return self

    def __exit__(self, *exc_info):
        os.close(self.fd)     # drops the flock; the file stays (see brainsim.io.lock)


def ensure_compiled(source: str, model: str, directory: str) -> str:
    """The published module of this source in directory, compiled here if missing."""
    name = module_name(model, cache_key(source))
    path = published_path(directory, name)
    if os.path.isfile(path):
        return path
    with _Lock(os.path.join(directory, name + ".lock")):
        if os.path.isfile(path):          # compiled by the process we waited for
            return path
        work = tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=directory)
        try:
            built = _compile(source, name, work, os.path.join(directory, name + ".log"))
            _publish(directory, name, built, work)
            STATS.compiled += 1
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return path


def load_module(path: str):
    """Import the compiled module at path (once per process: an extension module cannot
    be initialised twice)."""
    name = os.path.basename(path)[:-len(EXT_SUFFIX)]
    if name in _MODULES:
        return _MODULES[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    _MODULES[name] = module
    STATS.loaded += 1
    return module


def _attempt(source: str, model: str, cache_dir: str | None):
    """(path, None) or (None, one-line error) for this rank's own cache folder."""
    try:
        return ensure_compiled(source, model, cache_directory(cache_dir)), None
    except KernelCompileError as exc:
        return None, str(exc)
    except OSError as exc:
        return None, f"generated kernel of {model}: cache {exc.filename}: {exc.strerror}"


def _agreed_path(source: str, model: str, cache_dir: str | None, comm):
    """(path, None) or (None, error) on every rank together: rank 0 first, then the
    others in their own cache folders; any rank's failure is every rank's."""
    path, error = _attempt(source, model, cache_dir) if comm.rank == 0 else (None, None)
    first = comm.bcast(error)
    if first is not None:
        return None, first
    if comm.rank != 0:
        path, error = _attempt(source, model, cache_dir)
    if comm.allreduce_max(0 if error is None else 1):
        return None, error or (f"generated kernel of {model}: compiling or publishing "
                               "failed on another rank")
    return path, None


def load_kernel(source: str, model: str, cache_dir: str | None = None, comm=None):
    """The loaded kernel module of this generated source, compiled at most once per cache
    folder. comm: None (one process) or the run's communicator (rank 0 compiles first,
    see the module docstring; every rank must call this, the collectives are always
    made). Raises KernelCompileError, under MPI on every rank together."""
    if comm is None or comm.size == 1:
        path, error = _attempt(source, model, cache_dir)
    else:
        path, error = _agreed_path(source, model, cache_dir, comm)
    if error is not None:
        raise KernelCompileError(error)
    try:
        return load_module(path)
    except ImportError as exc:
        raise KernelCompileError(f"generated kernel {path} does not load: {exc}") from None


def timed_load(source: str, model: str, cache_dir: str | None = None):
    """(module, seconds) of load_kernel: for benchmarks and tests."""
    start = time.perf_counter()
    module = load_kernel(source, model, cache_dir)
    return module, time.perf_counter() - start
