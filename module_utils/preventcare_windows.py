"""Windows evidence, read and normalised: what the judges see of a Windows server.

The evidence comes from scripts/windows/*.ps1 (ConvertTo-Json through win_powershell) and
from stock ansible.windows modules. Everything Windows-specific is read here, by
locale-independent values only - SIDs, enum numbers or enum names, build numbers, KB and
category IDs - never by display names, which change with the server's language. Each
function returns the same shape as its twin in preventcare_linux.py, so the checks have
no platform branch.
"""

from __future__ import annotations

import csv
import io
import re

from ansible.module_utils.preventcare_data import HardwareFacts, as_dict, as_list, routable_v4
from ansible.module_utils.preventcare_smtp import summarize
from ansible.module_utils.preventcare_verdict import failure_message

# Well-known SIDs (MS-DTYP 2.4.2.4): locale-independent, unlike the group names.
SID_ADMINISTRATORS = "S-1-5-32-544"
SID_HIGH_INTEGRITY = "S-1-16-12288"
SID_SYSTEM_INTEGRITY = "S-1-16-16384"
SID_MEDIUM_INTEGRITY = "S-1-16-8192"
_SID = re.compile(r"^S-1-\d+(?:-\d+)+$")

# NetTCPIP enums (MSFT_NetIPAddress / MSFT_NetIPInterface): number -> name.
PREFIX_ORIGIN = {0: "Other", 1: "Manual", 2: "WellKnown", 3: "Dhcp", 4: "RouterAdvertisement"}
SUFFIX_ORIGIN = {0: "Other", 1: "Manual", 2: "WellKnown", 3: "Dhcp", 4: "Link", 5: "Random"}
DHCP_STATE = {0: "Disabled", 1: "Enabled"}
ADDRESS_FAMILY = {2: "IPv4", 23: "IPv6"}
SERVICE_STATUS = {1: "Stopped", 2: "StartPending", 3: "StopPending", 4: "Running"}


def enum_name(value, names):
    """Windows enum as ConvertTo-Json (number), win_powershell ({Value, String}) or a name."""
    if isinstance(value, dict):
        value = value.get("Value", value.get("String"))
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return names.get(value, str(value))
    if isinstance(value, str) and value.strip().isdigit():
        return names.get(int(value), value)
    return str(value) if value is not None else None


# ---------------------------------------------------------------- PRE-01


def smtp_outcome(outcome, relay, lang):
    """The SMTP verdict (status, failure_class, hint, ...) of smtp_dialogue.ps1, or None.

    The script returns the raw transcript; it is classified here, as on Linux.
    """
    outcome = as_dict(outcome)
    if not outcome.get("failed") and "result" in outcome:
        return summarize(
            as_dict(outcome.get("result")),
            tls=relay.get("tls", "starttls"),
            auth=bool(relay.get("auth")),
            language=lang,
        )
    return outcome if "status" in outcome else None


# ---------------------------------------------------------------- PRE-02


def addressing(evidence):
    """Per IPv4 address: PrefixOrigin/SuffixOrigin and the interface's Dhcp state."""
    network = as_dict(as_dict(evidence).get("network"))
    dhcp_by_index = {}
    for item in as_list(network.get("ip_interfaces")):
        iface = as_dict(item)
        if enum_name(iface.get("AddressFamily"), ADDRESS_FAMILY) != "IPv4":
            continue
        dhcp_by_index[iface.get("InterfaceIndex")] = enum_name(iface.get("Dhcp"), DHCP_STATE)
    rows = []
    for item in as_list(network.get("ip_addresses")):
        entry = as_dict(item)
        if enum_name(entry.get("AddressFamily"), ADDRESS_FAMILY) != "IPv4":
            continue
        if not routable_v4(entry.get("IPAddress")):
            continue
        prefix_origin = enum_name(entry.get("PrefixOrigin"), PREFIX_ORIGIN)
        suffix_origin = enum_name(entry.get("SuffixOrigin"), SUFFIX_ORIGIN)
        dhcp = dhcp_by_index.get(entry.get("InterfaceIndex"))
        why = []
        if prefix_origin == "Dhcp":
            why.append("PrefixOrigin=Dhcp")
        if suffix_origin == "Dhcp":
            why.append("SuffixOrigin=Dhcp")
        if dhcp == "Enabled":
            why.append("Dhcp=Enabled")
        rows.append(
            {
                "interface": entry.get("InterfaceAlias"),
                "index": entry.get("InterfaceIndex"),
                "address": entry.get("IPAddress"),
                "prefixlen": entry.get("PrefixLength"),
                "prefix_origin": prefix_origin,
                "suffix_origin": suffix_origin,
                "dhcp": dhcp,
                "dynamic": bool(why),
                "why": why,
            }
        )
    return rows


def dynamic_reasons(row):
    """[(text key, values)] saying why an address is dynamic."""
    return [("dyn.windows", {"why": ", ".join(row["why"])})]


def static_fix(row):
    """(text key, values) of the command that makes the address static."""
    return "fix.windows", {
        "iface": row["interface"],
        "index": row["index"],
        "address": row["address"],
        "prefix": row["prefixlen"],
        "cidr": f"{row['address']}/{row['prefixlen']}",
    }


# ---------------------------------------------------------------- PRE-03


def hardware_facts(evidence, match_virtual):
    """cores, memory, system volume, vendor/model and virtualisation."""
    hardware = as_dict(as_dict(evidence).get("hardware"))
    system = as_dict(hardware.get("computer_system"))
    drive = str(hardware.get("system_drive") or "C:").upper()
    disks = as_list(hardware.get("logical_disks"))
    disk = next((d for d in disks if str(as_dict(d).get("DeviceID", "")).upper() == drive), {})
    vendor, model = system.get("Manufacturer"), system.get("Model")
    facts = HardwareFacts(
        system.get("NumberOfLogicalProcessors"),
        system.get("TotalPhysicalMemory"),
        drive,
        *(as_dict(disk).get(key) for key in ("Size", "FreeSpace")),
        vendor,
        model,
        match_virtual(f"{vendor} {model}"),
        None,  # no containers on a Windows server here
    )
    return {**facts._asdict(), "hypervisor_present": system.get("HypervisorPresent")}


# ---------------------------------------------------------------- PRE-05


def os_identity(evidence):
    """What the OS table is matched against, and the name shown to the user."""
    os_info = as_dict(as_dict(evidence).get("os"))
    version = ".".join(str(os_info.get("Version") or "").split(".")[:2])
    try:
        build = int(str(os_info.get("BuildNumber")))
    except ValueError:
        build = None
    return {
        "family": "windows",
        "version": version,
        "build": build,
        "product_type": os_info.get("ProductType"),
        "name": os_info.get("Caption") or f"Windows {os_info.get('Version')}",
        "powershell": as_dict(as_dict(evidence).get("powershell")).get("PSVersion"),
    }


def pending_updates(evidence, win_updates):
    """{shown, count, names, error} from the win_updates search (count None when unknown)."""
    outcome = as_dict(win_updates)
    if not outcome or outcome.get("skipped") or outcome.get("failed"):
        why = failure_message(outcome) if outcome else "win_updates did not run"
        return {
            "shown": {"manager": "windows_update", "error": why},
            "count": None,
            "names": [],
            "error": why,
        }
    names = []
    for update in (as_dict(v) for v in as_dict(outcome.get("updates")).values()):
        kbs = as_list(update.get("kb"))
        label = " ".join(
            x for x in ("KB" + str(kbs[0]) if kbs else "", str(update.get("title") or "")) if x
        )
        names.append(label)
    count = outcome.get("found_update_count", len(names))
    return {
        "shown": {"manager": "windows_update", "security": count, "packages": names[:50]},
        "count": count,
        "names": names,
        "error": None,
    }


# ---------------------------------------------------------------- PRE-06


def remote_tools(evidence, catalogue):
    """{tool: {installed, running, services}} for every catalogued tool, by service name."""
    assistance = as_dict(as_dict(evidence).get("remote_assistance"))
    services = {
        str(as_dict(s).get("Name", "")).lower(): as_dict(s)
        for s in as_list(assistance.get("services"))
    }
    deny = as_dict(assistance.get("rdp")).get("fDenyTSConnections")
    states = {}
    for tool, spec in catalogue.items():
        probe = spec["windows"]
        found = [
            state
            for key, state in services.items()
            for name in probe["services"]
            if key == name.lower() or (probe.get("prefix") and key.startswith(name.lower()))
        ]
        state = {
            "installed": bool(found),
            "running": any(enum_name(s.get("Status"), SERVICE_STATUS) == "Running" for s in found),
            "services": [
                {
                    "name": s.get("Name"),
                    "status": enum_name(s.get("Status"), SERVICE_STATUS),
                    "start_type": enum_name(s.get("StartType"), {}),
                }
                for s in found
            ],
        }
        if tool == "rdp":
            # The service runs on every server; fDenyTSConnections says whether RDP is allowed.
            state["fDenyTSConnections"] = deny
            state["running"] = state["running"] and deny in (0, "0")
        states[tool] = state
    return states


def how_to_start(tool, spec):
    """(text key, values) telling how to start a tool that is installed but not running."""
    if tool == "rdp":
        return "how.rdp.windows", {}
    return "how.windows", {"service": spec["windows"]["services"][0]}


# ---------------------------------------------------------------- PRE-08


def parse_whoami_groups(csv_text):
    """Rows of `whoami /groups /fo csv` as [{sid, name, type, attributes}].

    The header and every name are localised; the SID column is found by its content, so the
    same code reads English, French or any other locale.
    """
    rows = [r for r in csv.reader(io.StringIO(str(csv_text or "").lstrip("\ufeff"))) if r]
    if not rows:
        return []
    width = max(len(r) for r in rows)
    sid_column = None
    for column in range(width):
        values = [r[column].strip() for r in rows[1:] if len(r) > column]
        if values and all(_SID.match(v) for v in values):
            sid_column = column
            break
    if sid_column is None:
        return []
    out = []
    for row in rows[1:]:
        if len(row) <= sid_column:
            continue
        out.append(
            {
                "sid": row[sid_column].strip(),
                "name": row[0].strip(),
                "type": row[1].strip() if len(row) > 1 and sid_column != 1 else "",
                "attributes": row[sid_column + 1].strip() if len(row) > sid_column + 1 else "",
            }
        )
    return out


def windows_privilege(privilege):
    """(member, elevated, integrity SID, source) judged from SIDs only."""
    privilege = as_dict(privilege)
    groups = parse_whoami_groups(privilege.get("whoami_groups_csv"))
    if groups:
        sids = {g["sid"] for g in groups}
        source = "whoami /groups /fo csv"
    else:
        sids = {str(s) for s in as_list(privilege.get("token_group_sids"))}
        source = "WindowsIdentity.Groups" if sids else None
    labels = [s for s in sids if s.startswith("S-1-16-")]
    label = max(labels, key=lambda s: int(s.rsplit("-", 1)[1])) if labels else None
    member = SID_ADMINISTRATORS in sids
    elevated = label in (SID_HIGH_INTEGRITY, SID_SYSTEM_INTEGRITY)
    if source == "WindowsIdentity.Groups" and label is None:
        # Those groups leave out deny-only entries: Administrators there is enabled.
        elevated = member
    return member, elevated, label, source


def admin_access(evidence, become_error=None):  # same signature as on Linux
    """{admin, key, values, shown}: Administrators with a high-integrity token."""
    privilege = as_dict(as_dict(evidence).get("privilege"))
    member, elevated, label, source = windows_privilege(privilege)
    user = privilege.get("user") or "?"
    shown = {
        "user": user,
        "user_sid": privilege.get("user_sid"),
        "administrators_sid_present": member,
        "integrity_label_sid": label,
        "source": source,
    }
    if source is None:
        key = "admin.unknown"
    elif member and elevated:
        key = "admin.pass.windows"
    elif member:
        key = "admin.filtered"
    else:
        key = "admin.notmember"
    return {
        "admin": key == "admin.pass.windows",
        "key": key,
        "values": {"user": user, "label": label or "-"},
        "shown": shown,
    }
