"""What every test lab of real containers shares: podman with the project's configuration,
clear errors, the cached image builds, and waiting for a condition."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class LabError(RuntimeError):
    """The lab could not be built or started; the message says what failed and its output."""


def podman_env() -> dict:
    env = dict(os.environ)
    env.setdefault("CONTAINERS_CONF", str(ROOT / "tests" / "containers" / "containers.conf"))
    return env


def podman(*args, check=True, timeout=120) -> subprocess.CompletedProcess:
    done = subprocess.run(
        ["podman", *args],
        env=podman_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and done.returncode != 0:
        raise LabError(
            f"podman {' '.join(args[:3])} ... failed ({done.returncode}): "
            f"{(done.stderr or done.stdout).strip()[-1500:]}"
        )
    return done


def build_image(script: Path) -> None:
    """Run one of the repository's image build scripts (each caches its image)."""
    done = subprocess.run(
        [str(script)], env=podman_env(), capture_output=True, text=True, timeout=900, check=False
    )
    if done.returncode != 0:
        raise LabError(
            f"{script.relative_to(ROOT)} failed ({done.returncode}): "
            f"{(done.stderr + done.stdout).strip()[-2000:]}"
        )


def wait_for(probe, timeout: float, step: float = 1.0):
    """Call probe() until it returns something truthy; return the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)
