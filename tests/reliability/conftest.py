"""Fixture of the reliability tests: small tmpfs mounts (root only)."""
from __future__ import annotations

import subprocess
import time

import pytest


@pytest.fixture
def tmpfs(tmp_path):
    """A function mounting a tmpfs of the given size (and options) under tmp_path; skips
    with the reason when mounting is impossible (not root, no CAP_SYS_ADMIN)."""
    mounted = []

    def mount(size: str, options: str = "") -> str:
        target = tmp_path / f"tmpfs{len(mounted)}"
        target.mkdir()
        opts = f"size={size}" + (f",{options}" if options else "")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(target)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'not root'})")
        mounted.append(str(target))
        return str(target)

    yield mount
    for target in mounted:
        for _ in range(50):          # processes killed by an abort may still hold files
            if subprocess.run(["umount", target], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
