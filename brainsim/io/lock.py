"""One owner per output directory: OUTDIR/.brainsim.lock, flock'd by rank 0 for a whole run
or resume.

Two runs into one directory (or a run and a resume) would interleave their files: spikes.h5
of one beside run.json of the other. HDF5's own file locking does not help (docs/hpc.md
turns it off for parallel file systems) and covers single files only. The lock file names
its holder (command, pid, host, start time) so that the refusal can say who holds it.
flock is released by the kernel when the holder dies, even by kill -9: a stale lock file
never blocks. The file itself is never removed (removing it would let a second process lock
a new inode while the first still holds the old one).
"""
from __future__ import annotations

import errno
import fcntl
import os
import socket
import sys
import time

from brainsim.io.files import OutputError

LOCK_NAME = ".brainsim.lock"
# flock unsupported by the file system (some NFS set-ups): run unlocked, say so once.
_NO_LOCKS = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL)


class OutputLock:
    """An open, flock'd lock file; release() (or the process ending) frees it."""

    def __init__(self, fd: int | None, path: str):
        self.fd = fd
        self.path = path

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)      # closing the descriptor drops the flock
            self.fd = None


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 512, 0).decode(errors="replace").strip()
    except OSError:
        text = ""
    return text or "process (unknown pid)"


def lock_output_dir(directory: str, action: str) -> OutputLock:
    """Take the directory's lock at once or raise OutputError naming the holder.

    action: what this process does there ("run", "resume", ...), recorded for the message
    another process would print."""
    path = os.path.join(directory, LOCK_NAME)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        raise OutputError(f"{path}: cannot create the lock file ({err.strerror})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(fd)
        os.close(fd)
        raise OutputError(f"{directory}: in use by another brainsim {holder}; wait until it "
                          "ends or choose another directory (-o)") from None
    except OSError as err:
        if err.errno not in _NO_LOCKS:
            os.close(fd)
            raise
        sys.stderr.write(f"brainsim: warning: {directory}: the file system does not support "
                         "file locks; nothing stops a second run from writing here\n")
    record = (f"{action} (pid {os.getpid()} on {socket.gethostname()}, since "
              f"{time.strftime('%Y-%m-%dT%H:%M:%S%z')})\n").encode()
    os.ftruncate(fd, 0)
    os.pwrite(fd, record, 0)
    return OutputLock(fd, path)
