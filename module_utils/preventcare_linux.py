"""Linux evidence, read and normalised: what the judges see of a Linux server.

The evidence comes from library/preventcare_evidence.py. Each function returns the same
shape as its twin in preventcare_windows.py, so the checks have no platform branch.
"""

from __future__ import annotations

from ansible.module_utils.preventcare_data import HardwareFacts, as_dict, as_list, routable_v4
from ansible.module_utils.preventcare_verdict import failure_message

FOREVER = 0xFFFFFFFF  # ip(8): valid_lft "forever"


def _base_iface(name):
    return str(name or "").split(":")[0]


# ---------------------------------------------------------------- PRE-01


def smtp_outcome(outcome, relay, lang):  # same signature as on Windows
    """The SMTP verdict of the smtp dialogue module (classified on the server), or None."""
    outcome = as_dict(outcome)
    return outcome if "status" in outcome else None


# ---------------------------------------------------------------- PRE-02


def addressing(evidence):
    """Per IPv4 address: is it dynamic, and which configuration source says so."""
    network = as_dict(as_dict(evidence).get("network"))
    sources = as_list(network.get("sources"))
    rows = []
    for item in as_list(network.get("addresses")):
        entry = as_dict(item)
        if entry.get("family") != "inet" or not routable_v4(entry.get("address")):
            continue
        iface = _base_iface(entry.get("interface"))
        lifetime = entry.get("valid_lifetime")
        finite = isinstance(lifetime, int) and not isinstance(lifetime, bool) and lifetime < FOREVER
        kernel_dynamic = bool(entry.get("dynamic")) or finite
        dhcp_sources = []
        static_sources = []
        for raw in sources:
            source = as_dict(raw)
            if _base_iface(source.get("interface")) != iface:
                continue
            if source.get("manager") == "dhclient" and source.get("address") not in (
                None,
                entry.get("address"),
            ):
                continue  # an old lease for another address
            if source.get("method") == "dhcp":
                dhcp_sources.append(source)
            elif source.get("method") in ("static", "manual"):
                static_sources.append(source)
        rows.append(
            {
                "interface": iface,
                "address": entry.get("address"),
                "prefixlen": entry.get("prefixlen"),
                "dynamic": kernel_dynamic or bool(dhcp_sources),
                "kernel_dynamic": kernel_dynamic,
                "valid_lifetime": None if not finite else lifetime,
                "dhcp_sources": dhcp_sources,
                "static_sources": static_sources,
            }
        )
    return rows


def dynamic_reasons(row):
    """[(text key, values)] saying why an address is dynamic."""
    reasons = [("dyn.kernel", {})] if row["kernel_dynamic"] else []
    for source in row["dhcp_sources"]:
        where = source.get("file") or source.get("connection") or ""
        manager = source.get("manager", "?") + (f" {where}" if where else "")
        reasons.append(("dyn.dhcp", {"manager": manager}))
    return reasons


def static_fix(row):
    """(text key, values) of the change that makes the address static, per network manager.

    A manager the catalogue has no "fix.<manager>" text for gets "fix.kernel".
    """
    source = row["dhcp_sources"][0] if row["dhcp_sources"] else {}
    manager = source.get("manager") or "kernel"
    return f"fix.{manager}", {
        "iface": row["interface"],
        "cidr": f"{row['address']}/{row['prefixlen']}",
        "connection": source.get("connection") or row["interface"],
        "file": source.get("file") or "?",
    }


# ---------------------------------------------------------------- PRE-03


def hardware_facts(evidence, match_virtual):
    """cores, memory, system volume, vendor/model and virtualisation."""
    hardware = as_dict(as_dict(evidence).get("hardware"))
    mount_point = hardware.get("system_mount") or "/"
    mount = next(
        (m for m in as_list(hardware.get("mounts")) if as_dict(m).get("mount") == mount_point), {}
    )
    dmi = as_dict(hardware.get("dmi"))
    virt = as_dict(hardware.get("virtualization"))
    vendor, model = dmi.get("sys_vendor"), dmi.get("product_name")
    facts = HardwareFacts(
        hardware.get("cpu_cores"),
        hardware.get("memory_bytes"),
        mount_point,
        *(as_dict(mount).get(key) for key in ("size_bytes", "free_bytes")),
        vendor,
        model,
        virt.get("vm") or match_virtual(f"{vendor} {model}"),
        virt.get("container"),
    )
    return facts._asdict()


# ---------------------------------------------------------------- PRE-05


def os_identity(evidence):
    """What the OS table is matched against, and the name shown to the user."""
    os_info = as_dict(as_dict(evidence).get("os"))
    return {
        "family": "linux",
        "id": str(os_info.get("id") or "").lower(),
        "id_like": [str(x).lower() for x in as_list(os_info.get("id_like"))],
        "version": str(os_info.get("version_id") or ""),
        "name": os_info.get("pretty_name") or os_info.get("id") or "Linux",
        "python": os_info.get("python"),
        "kernel": os_info.get("kernel"),
    }


def pending_updates(evidence, win_updates=None):  # same signature as on Windows
    """{shown, count, names, error} from the package manager (count None when unknown)."""
    info = as_dict(as_dict(evidence).get("updates"))
    count = info.get("security")
    known = isinstance(count, int) and not isinstance(count, bool)
    return {
        "shown": dict(info),
        "count": count if known else None,
        "names": as_list(info.get("security_packages")),
        "error": None
        if known
        else info.get("error") or "no supported package manager (apt, dnf, yum)",
    }


# ---------------------------------------------------------------- PRE-06


def remote_tools(evidence, catalogue):
    """{tool: {installed, running, units, processes, ...}} as the evidence module found them."""
    found = as_dict(as_dict(as_dict(evidence).get("remote_assistance")).get("tools"))
    return {tool: as_dict(found.get(tool)) for tool in catalogue}


def how_to_start(tool, spec):
    """(text key, values) telling how to start a tool that is installed but not running."""
    if tool == "openssh":
        return "how.openssh.linux", {}
    return "how.linux", {"unit": spec["linux"]["units"][0]}


# ---------------------------------------------------------------- PRE-08


def admin_access(evidence, become_error=None):
    """{admin, key, values, shown}: euid 0 after privilege escalation."""
    privilege = as_dict(as_dict(evidence).get("privilege"))
    euid = privilege.get("euid")
    user = privilege.get("sudo_user") or privilege.get("user") or "?"
    shown = {
        "uid": privilege.get("uid"),
        "euid": euid,
        "user": privilege.get("user"),
        "connecting_user": user,
        "sudo": privilege.get("sudo"),
    }
    if become_error:
        shown["become_error"] = become_error
    why = become_error or f"euid {euid}"
    sudo = as_dict(privilege.get("sudo"))
    if sudo.get("message") and not become_error:
        why += f"; sudo -n: {sudo['message']}"
    admin = euid == 0
    return {
        "admin": admin,
        "key": "admin.pass.linux" if admin else "admin.fail.linux",
        "values": {"user": user, "why": why},
        "shown": shown,
    }


# ---------------------------------------------------------------- every check


def task_failure(outcome):  # same signature as on Windows
    """Why the evidence task failed, in one line."""
    return failure_message(outcome)


def section_errors(evidence):  # same signature as on Windows
    """{section: message} of the evidence sections the module could not read (`errors`)."""
    failed = {}
    for item in as_list(as_dict(evidence).get("errors")):
        entry = as_dict(item)
        if entry.get("section"):
            failed.setdefault(str(entry["section"]), str(entry.get("error") or "no detail")[:300])
    return failed
