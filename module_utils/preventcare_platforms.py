"""The evidence reader of each platform: preventcare_linux or preventcare_windows.

Both modules offer the same functions returning the same shapes, so a check asks the
reader of its host's platform and never branches on the platform itself.
"""

from __future__ import annotations

from ansible.module_utils import preventcare_linux, preventcare_windows
from ansible.module_utils.preventcare_verdict import check_platform

_READERS = {"linux": preventcare_linux, "windows": preventcare_windows}


def evidence_reader(platform):
    """The module that reads `platform`'s evidence; ValueError for an unknown platform."""
    return _READERS[check_platform(platform)]
