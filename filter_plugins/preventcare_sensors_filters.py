"""Filters judging what the Windows sensor tasks gathered (MON-HW-01, SET-06)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.module_utils.preventcare_sensors import ParseError, windows_vendor


def preventcare_windows_vendor(system, catalogue):
    """{vendor, agent, agent_running} for a Windows server's Win32_ComputerSystem data."""
    if not isinstance(catalogue, dict) or "vendors" not in catalogue:
        raise AnsibleFilterError(
            "preventcare_windows_vendor: the catalogue must be data/hardware_vendors.yml as a "
            f"mapping, not {type(catalogue).__name__}"
        )
    try:
        return windows_vendor(system, catalogue)
    except ParseError as exc:
        raise AnsibleFilterError(
            f"preventcare_windows_vendor: {exc} (got {system!r:.200})"
        ) from exc


class FilterModule:
    def filters(self):
        return {"preventcare_windows_vendor": preventcare_windows_vendor}
