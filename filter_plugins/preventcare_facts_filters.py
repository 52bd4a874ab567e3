"""Filters that turn gathered facts into the rows of the facts summary."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ansible.errors import AnsibleFilterError

UNKNOWN = "-"


def _os_name(facts: Mapping[str, Any]) -> str:
    if facts.get("os_family") == "Windows":
        return str(facts.get("os_name") or facts.get("distribution") or "Windows")
    name = " ".join(str(facts.get(k, "")) for k in ("distribution", "distribution_version"))
    return name.strip() or UNKNOWN


def _address(facts: Mapping[str, Any]) -> str:
    default = facts.get("default_ipv4") or {}
    if default.get("address"):
        return str(default["address"])
    ips = [ip for ip in facts.get("ip_addresses") or [] if ":" not in str(ip)]
    return str(ips[0]) if ips else UNKNOWN


def _virtual(facts: Mapping[str, Any]) -> str:
    role = facts.get("virtualization_role")
    kind = facts.get("virtualization_type")
    if role == "guest" and kind:
        return f"{kind} guest"
    return "physical" if role in (None, "", "NA", "host") else str(role)


def facts_summary(hostvars: Mapping[str, Any], hosts: Sequence[str]) -> list[dict[str, Any]]:
    """One row per inventory host; a host without facts is reported UNREACHABLE, not dropped."""
    if not isinstance(hosts, Sequence) or isinstance(hosts, str):
        raise AnsibleFilterError(
            f"preventcare_facts_summary expects a list of host names, got {type(hosts).__name__}"
        )
    rows = []
    for host in hosts:
        facts = (hostvars.get(host) or {}).get("ansible_facts") or {}
        if not facts.get("os_family"):
            rows.append(
                {"host": host, "status": "UNREACHABLE"}
                | dict.fromkeys(
                    ("os", "kernel", "virtual", "vcpus", "memory_mb", "address"), UNKNOWN
                )
            )
            continue
        rows.append(
            {
                "host": host,
                "status": "OK",
                "os": _os_name(facts),
                "kernel": str(facts.get("kernel", UNKNOWN)),
                "virtual": _virtual(facts),
                "vcpus": facts.get("processor_vcpus", UNKNOWN),
                "memory_mb": facts.get("memtotal_mb", UNKNOWN),
                "address": _address(facts),
            }
        )
    return rows


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"preventcare_facts_summary": facts_summary}
