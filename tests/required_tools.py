"""Tests that need a system tool skip on a developer's machine without it, never in CI."""

from __future__ import annotations

import os
import shutil

import pytest


def require(tool: str, why: str) -> str:
    """The tool's path; otherwise fail under CI (which installs it), skip elsewhere."""
    path = shutil.which(tool)
    if path:
        return path
    message = f"{tool} is not installed: {why} (scripts/setup.sh installs it)"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)
    return ""
