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

# Windows Update classification GUIDs ("WSUS Classification GUIDs", Microsoft Learn,
# previous-versions/windows/desktop/ff357803): ICategory.CategoryID, the same in every language.
CATEGORY_SECURITY_UPDATES = "0FA1201D-4330-4FA8-8AE9-B877473B6441"
CATEGORY_CRITICAL_UPDATES = "E6CF1350-C01B-414D-A61F-263D14D133B4"


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


# ---------------------------------------------------------------- every check


def section_errors(evidence):  # same signature as on Linux
    """{section: message} of the parts prereq_evidence.ps1 could not read (its `errors`)."""
    failed = {}
    for item in as_list(as_dict(evidence).get("errors")):
        entry = as_dict(item)
        if entry.get("section"):
            message = " ".join(str(entry.get("error") or "no detail").split())
            if entry.get("hresult") not in (None, ""):
                message = f"{message} (HResult {entry['hresult']})"
            failed.setdefault(str(entry["section"]), message[:300])
    return failed


def task_failure(outcome):  # same signature as on Linux
    """Why the evidence task failed, in one line."""
    return script_failure(outcome)


def script_failure(outcome):
    """One line saying why a win_powershell task failed, from its error records first.

    win_powershell sets `failed` and puts the terminating error in `error` (ErrorRecord:
    exception.message, fully_qualified_error_id); the Ansible bootstrap of a host below
    PowerShell 5.1 answers {failed, msg: "Ansible requires PowerShell v5.1"} instead.
    """
    outcome = as_dict(outcome)
    for record in (as_dict(r) for r in as_list(outcome.get("error"))):
        exception = as_dict(record.get("exception"))
        message = " ".join(str(exception.get("message") or record.get("output") or "").split())
        if message:
            fqid = record.get("fully_qualified_error_id")
            return f"{message} ({fqid})"[:300] if fqid else message[:300]
    return failure_message(outcome)


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


def _update_label(update):
    kbs = [str(k) for k in as_list(update.get("kb")) if k]
    kb = ("KB" + kbs[0].upper().removeprefix("KB")) if kbs else ""
    return " ".join(x for x in (kb, str(update.get("title") or "")) if x)


def classify_updates(updates):
    """(security, critical) lists of updates, by category ID - never by category name.

    Category names are in the server's display language; the IDs are the same everywhere.
    """
    security, critical = [], []
    for update in (as_dict(u) for u in as_list(updates)):
        ids = {str(as_dict(c).get("id") or "").upper() for c in as_list(update.get("categories"))}
        if CATEGORY_SECURITY_UPDATES in ids:
            security.append(update)
        elif CATEGORY_CRITICAL_UPDATES in ids:
            critical.append(update)
    return security, critical


def pending_updates(evidence, win_updates):
    """{shown, count, names, error} of scripts/windows/pending_updates.ps1 (count None: unknown).

    `win_updates` is the win_powershell result of that script (the collected structure keeps
    the key name of the Windows Update search it replaced).
    """
    outcome = as_dict(win_updates)
    search = as_dict(outcome.get("result"))
    error = as_dict(search.get("error"))
    why = None
    if not outcome or outcome.get("skipped"):
        why = "the Windows Update search did not run"
    elif outcome.get("failed") or error or "updates" not in search:
        why = script_failure(outcome) if not error else _joined(error)
    if why:
        return {
            "shown": {"manager": "windows_update", "error": why},
            "count": None,
            "names": [],
            "error": why,
        }
    updates = as_list(search.get("updates"))
    security, critical = classify_updates(updates)
    names = [_update_label(u) for u in security]
    return {
        "shown": {
            "manager": "windows_update",
            "classified_by": "category ID",
            "security": len(security),
            "critical": len(critical),
            "other": len(updates) - len(security) - len(critical),
            "packages": names[:50],
            "critical_packages": [_update_label(u) for u in critical][:50],
        },
        "count": len(security),
        "names": names,
        "error": None,
    }


def _joined(error):
    message = " ".join(str(error.get("message") or "no detail").split())
    code = error.get("hresult")
    return f"{message} (HResult {code})"[:300] if code else message[:300]


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
