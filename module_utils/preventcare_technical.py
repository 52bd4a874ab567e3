"""The technical document (SET-04): facts of every server and the contract, as one document.

Pure functions, controller-side. `linux_host()` and `windows_host()` shape the raw facts of
library/preventcare_dossier_facts.py and scripts/windows/technical_facts.ps1 into one host
record; `build_technical()` assembles the document that schemas/technical.schema.json
describes; `diagram_dot()` draws the network for Graphviz.

The `dossier` section is built with module_utils/preventcare_dossier.py's `dossier_entry`
from the same facts, exactly as its docstring defines it: the compliance run compares it with
its own current facts (dossier drift).

Windows values are judged by their numbers (Win32_ComputerSystem.DomainRole, StartMode's
WMI value, MSFT_SmbShare.Special, MSFT_NetIPAddress.PrefixOrigin, the Windows Update
policy's AUOptions), never by display strings, which follow the server's language.
"""

from __future__ import annotations

import datetime
import json
import re

from ansible.module_utils.preventcare_data import as_dict, as_list, plain
from ansible.module_utils.preventcare_dossier import dossier_entry, nfs_exports, samba_shares

SCHEMA_VERSION = 1
KIND = "technical"
DIAGRAM_FILE = "network.svg"
CALENDAR_FILE = "visit-plan.ics"
MONITOR_ROLE = "monitor"

# Win32_ComputerSystem.DomainRole (Microsoft Learn, cimwin32prov/win32-computersystem).
DOMAIN_ROLES = {
    0: "standalone_workstation",
    1: "member_workstation",
    2: "standalone_server",
    3: "member_server",
    4: "backup_domain_controller",
    5: "primary_domain_controller",
}
# AUOptions of the Windows Update policy (Microsoft Learn, "Manage additional Windows Update
# settings", Configure Automatic Updates): 2 notify download, 3 auto download notify install,
# 4 auto download and schedule install, 5 local admin chooses, 7 notify install / auto restart.
AU_OPTIONS = {
    2: "notify_download",
    3: "download_notify_install",
    4: "scheduled_install",
    5: "local_admin_chooses",
    7: "download_notify_restart",
}
# Win32_Battery.BatteryStatus (Microsoft Learn, cimwin32prov/win32-battery).
BATTERY_STATUS = {
    1: "discharging",
    2: "on_mains",
    3: "fully_charged",
    4: "low",
    5: "critical",
    6: "charging",
    7: "charging_high",
    8: "charging_low",
    9: "charging_critical",
    10: "undefined",
    11: "partially_charged",
}
# systemd units that are a mail transfer agent, a remote-assistance tool or a print/UPS daemon.
MAIL_UNITS = ("postfix", "exim4", "sendmail", "opensmtpd")
# Every backup job of the document carries these keys (null when the contract has none).
BACKUP_KEYS = ("host", "name", "software", "where", "schedule", "retention_days")
_METRIC = re.compile(r"^(\w+)\{([^}]*)\}\s+(\S+)")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
_LPSTAT = re.compile(r"^device for (\S+):\s*(\S+)")


class TechnicalError(ValueError):
    """Bad input to the technical document; the message says what to give."""


# ---------------------------------------------------------------- Linux


def _linux_addresses(ip_addr):
    """[(interface, address/prefix)] of `ip -j addr`, global scope only."""
    found = []
    for link in as_list(ip_addr):
        for item in as_list(as_dict(link).get("addr_info")):
            info = as_dict(item)
            if info.get("scope") == "global" and info.get("local"):
                found.append(
                    (as_dict(link).get("ifname"), f"{info['local']}/{info.get('prefixlen')}")
                )
    return found


def _gateway(routes):
    for item in as_list(routes):
        route = as_dict(item)
        if route.get("dst") == "default" and route.get("gateway"):
            return route["gateway"]
    return None


def backup_results(metrics_files, codes):
    """[{job, software, status, ended}] from the backup manager's textfiles."""
    names = {number: name for name, number in as_dict(codes).items()}
    jobs = {}
    for text in as_dict(metrics_files).values():
        for line in str(text or "").splitlines():
            match = _METRIC.match(line)
            if not match or not match[1].startswith("preventcare_backup_last_"):
                continue
            labels = dict(_LABEL.findall(match[2]))
            key = (labels.get("backup_job"), labels.get("software"))
            job = jobs.setdefault(key, {"job": key[0], "software": key[1]})
            try:
                value = float(match[3])
            except ValueError:
                continue
            if match[1] == "preventcare_backup_last_status":
                job["status"] = names.get(int(value), f"code {int(value)}")
            elif match[1] == "preventcare_backup_last_end_timestamp_seconds" and value > 0:
                job["ended"] = datetime.datetime.fromtimestamp(value, datetime.UTC).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"
                )
    return [
        {
            "job": j["job"],
            "software": j["software"],
            "status": j.get("status"),
            "ended": j.get("ended"),
        }
        for _, j in sorted(jobs.items(), key=lambda item: str(item[0]))
    ]


def _apt_policy(text):
    """Unattended security upgrades on (True), off (False) or unknown (None), from apt-config."""
    if text is None:
        return None
    match = re.search(r'APT::Periodic::Unattended-Upgrade "(\d+)";', text)
    return bool(match and int(match[1]) > 0)


def linux_host(name, raw, *, codes=None):
    """The host record of a Linux server from library/preventcare_dossier_facts.py's facts."""
    facts = as_dict(raw)
    os_release = as_dict(facts.get("os_release"))
    dmi = as_dict(facts.get("dmi"))
    virt = facts.get("virtualization")
    addresses = _linux_addresses(facts.get("ip_addr"))
    services = [s for s in as_list(facts.get("enabled_services")) if isinstance(s, str)]
    smb = samba_shares(facts.get("smb_conf"))
    nfs = nfs_exports(facts.get("exports"))
    printers = []
    for line in str(facts.get("printers") or "").splitlines():
        match = _LPSTAT.match(line.strip())
        if match:
            printers.append({"name": match[1], "port": match[2], "driver": None})
    ups = [{"name": u.strip(), "status": None} for u in str(facts.get("ups") or "").split() if u]
    hostname = str(facts.get("hostname") or name)
    apt = _apt_policy(facts.get("apt_periodic"))
    return {
        "host": name,
        "platform": "linux",
        "hostname": hostname,
        "domain": hostname.split(".", 1)[1] if "." in hostname else None,
        "kind": None if virt is None else ("physical" if virt == "none" else "virtual"),
        "virtualization": None if virt in (None, "none") else virt,
        "vendor": dmi.get("vendor"),
        "model": dmi.get("product"),
        "identity": {
            "family": "linux",
            "id": str(os_release.get("ID") or "").lower(),
            "version": str(os_release.get("VERSION_ID") or ""),
            "name": os_release.get("PRETTY_NAME") or os_release.get("ID") or "Linux",
        },
        "domain_role": None,
        "features": [],
        "addresses": [{"interface": i, "address": a} for i, a in addresses],
        "gateway": _gateway(facts.get("routes")),
        # As the dossier counts them: template units (getty@) are no service of their own.
        "services": dossier_entry(services=services)["services"],
        "shares": smb + nfs,
        "share_paths": {},
        "logon_scripts": [],
        "printers": printers,
        "ups": ups,
        "update_policy": (
            "unattended_security" if apt else ("manual" if apt is False else "unknown")
        ),
        "mail_services": sorted({s.removesuffix(".service") for s in services} & set(MAIL_UNITS)),
        "backups": backup_results(facts.get("backup_metrics"), codes),
        "errors": [],
        "dossier": dossier_entry(
            addresses=[a for _, a in addresses], services=services, shares=smb + nfs
        ),
    }


# ---------------------------------------------------------------- Windows


def windows_output(result):
    """The script's object from an ansible.windows.win_powershell result (or the object)."""
    result = as_dict(result)
    if "output" in result:
        output = as_list(result.get("output"))
        return as_dict(output[0]) if output else {}
    return result


def _number(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def update_policy(updates):
    """The Windows Update policy as a locale-independent word."""
    updates = as_dict(updates)
    if _number(updates.get("NoAutoUpdate")) == 1:
        policy = "disabled"
    else:
        policy = AU_OPTIONS.get(_number(updates.get("AUOptions")), "not_configured")
    return f"wsus:{policy}" if updates.get("WUServer") else policy


def windows_host(name, result):
    """The host record of a Windows server from scripts/windows/technical_facts.ps1's output."""
    data = windows_output(result)
    computer = as_dict(data.get("computer"))
    os_info = as_dict(data.get("os"))
    role = _number(computer.get("DomainRole"))
    addresses = []
    for item in as_list(data.get("addresses")):
        row = as_dict(item)
        address = row.get("IPAddress")
        if address and dossier_entry(addresses=[address])["addresses"]:
            addresses.append((row.get("InterfaceAlias"), f"{address}/{row.get('PrefixLength')}"))
    auto = [
        as_dict(s).get("Name")
        for s in as_list(data.get("services"))
        # StartMode is the WMI value ("Auto", "Manual", "Disabled"), not a translated label.
        if as_dict(s).get("StartMode") == "Auto" and as_dict(s).get("Name")
    ]
    shares, paths = [], {}
    for item in as_list(data.get("shares")):
        share = as_dict(item)
        # Special marks the administrative shares (C$, ADMIN$, IPC$), whatever their names.
        if share.get("Special") is True or not share.get("Name"):
            continue
        shares.append(f"smb:{share['Name']}")
        paths[f"smb:{share['Name']}"] = share.get("Path")
    printers = [
        {
            "name": as_dict(p).get("Name"),
            "driver": as_dict(p).get("DriverName"),
            "port": as_dict(p).get("PortName"),
        }
        for p in as_list(data.get("printers"))
        if as_dict(p).get("Name")
    ]
    ups = [
        {
            "name": as_dict(b).get("Name"),
            "status": BATTERY_STATUS.get(_number(as_dict(b).get("BatteryStatus"))),
        }
        for b in as_list(data.get("ups"))
    ]
    hypervisor = computer.get("HypervisorPresent")
    domain = computer.get("Domain") if computer.get("PartOfDomain") is True else None
    version = ".".join(str(os_info.get("Version") or "").split(".")[:2])
    return {
        "host": name,
        "platform": "windows",
        "hostname": computer.get("DNSHostName") or computer.get("Name") or name,
        "domain": domain,
        # HypervisorPresent is true on a guest of Hyper-V, VMware and others (Win32_ComputerSystem).
        "kind": None if hypervisor is None else ("virtual" if hypervisor else "physical"),
        "virtualization": None,
        "vendor": computer.get("Manufacturer"),
        "model": computer.get("Model"),
        "identity": {
            "family": "windows",
            "version": version,
            "build": _number(os_info.get("BuildNumber")),
            "product_type": _number(os_info.get("ProductType")),
            "name": os_info.get("Caption") or f"Windows {os_info.get('Version') or ''}".strip(),
        },
        "domain_role": DOMAIN_ROLES.get(role),
        "features": sorted({str(f) for f in as_list(data.get("features")) if f}),
        "addresses": [{"interface": i, "address": a} for i, a in addresses],
        "gateway": None,
        "services": sorted(set(auto)),
        "shares": shares,
        "share_paths": paths,
        "logon_scripts": sorted(str(s) for s in as_list(data.get("logon")) if s),
        "printers": printers,
        "ups": ups,
        "update_policy": update_policy(data.get("updates")),
        "mail_services": sorted({"MSExchangeTransport", "SMTPSVC"} & set(auto)),
        "backups": [],
        "errors": [
            f"{as_dict(e).get('section')}: {as_dict(e).get('hresult')}"
            for e in as_list(data.get("errors"))
        ],
        "dossier": dossier_entry(addresses=[a for _, a in addresses], services=auto, shares=shares),
    }


def unreachable_host(name, platform, message):
    """A host the run could not read: listed, with what happened, never dropped."""
    return {
        "host": name,
        "platform": platform,
        "hostname": name,
        "domain": None,
        "kind": None,
        "virtualization": None,
        "vendor": None,
        "model": None,
        "identity": {"family": platform, "name": None},
        "domain_role": None,
        "features": [],
        "addresses": [],
        "gateway": None,
        "services": [],
        "shares": [],
        "share_paths": {},
        "logon_scripts": [],
        "printers": [],
        "ups": [],
        "update_policy": "unknown",
        "mail_services": [],
        "backups": [],
        "errors": [str(message or "unreachable")],
        "dossier": dossier_entry(),
    }


# ---------------------------------------------------------------- the document


def is_server(host, contract):
    """A server of the client (counted for SET-05 and VIS-01): every inventory server but a
    monitor host that is nothing else (the provider's box, not part of the client's IS)."""
    roles = [r for r in as_list(host.get("roles")) if r]
    return not (
        host["host"] == as_dict(contract).get("monitor_host") and set(roles) <= {MONITOR_ROLE}
    )


def _os_support(identity, table, find_entry):
    entry = find_entry(table, identity) if identity.get("name") else None
    if not entry:
        return {"name": identity.get("name"), "end_of_support": None, "source": None}
    end = entry.get("end_of_support")
    return {
        "name": identity.get("name"),
        "end_of_support": str(end) if end else None,
        "source": entry.get("source"),
    }


def _thresholds(merged, overrides, lang, *formatters):
    format_threshold, human_duration, parse_duration = formatters
    overridden = set()
    for key in as_dict(overrides):
        overridden |= {
            name
            for name, item in merged["items"].items()
            if name == key or item.get("requirement") == key
        }
    rows = []
    for name, item in merged["items"].items():
        duration = item.get("duration")
        rows.append(
            {
                "item": name,
                "requirement": item["requirement"],
                "summary": as_dict(item.get("summary")).get(lang, ""),
                "threshold": format_threshold(item, lang) if item.get("unit") != "bool" else "",
                "duration": human_duration(parse_duration(duration), lang) if duration else "",
                "criticality": item.get("criticality"),
                "overridden": name in overridden,
            }
        )
    return rows


def waiver_covers(waiver, result):
    waiver = as_dict(waiver)
    return (
        waiver.get("requirement") == result.get("requirement")
        and waiver.get("check") in (None, result.get("check"))
        and waiver.get("host") in (None, result.get("host"))
    )


def split_waived(blocking, waivers):
    """(waived, not waived) blocking failures: a failure is waived when a contract waiver
    covers its requirement (and its check and host when the waiver names them). An
    unreachable host is never waived."""
    waived, open_ = [], []
    for item in as_list(blocking):
        result = as_dict(item)
        match = next(
            (
                w
                for w in as_list(waivers)
                if result.get("status") != "UNREACHABLE" and waiver_covers(w, result)
            ),
            None,
        )
        if match:
            waived.append({**result, "waiver": plain(match)})
        else:
            open_.append(result)
    return waived, open_


def _site_of(host, sites):
    return host.get("site") if host.get("site") in sites else None


def build_technical(
    hosts,
    contract,
    run_id,
    *,
    generated_at,
    sizing,
    plan,
    thresholds,
    prerequisites=None,
    monitored=None,
    os_table=None,
    find_os_entry=None,
    formatters=None,
):
    """The technical document (schemas/technical.schema.json).

    hosts: host records (linux_host/windows_host/unreachable_host) with "site" and "roles"
    added from the inventory; thresholds: the merged table; prerequisites: {report, blocking}
    of this run's prerequisites (blocking: the blocking failures); monitored: {host: {agent,
    port, sensors}}; formatters: (format_threshold, human_duration, parse_duration).
    """
    contract = as_dict(contract)
    client = as_dict(contract.get("client"))
    if not client.get("id") or not client.get("name"):
        raise TechnicalError("contract.client.id and .name are required: validate the contract")
    lang = contract.get("language", "fr")
    site_names = [as_dict(s).get("name") for s in as_list(contract.get("sites"))]
    records = []
    for host in hosts:
        record = dict(host)
        identity = record.pop("identity", {})
        record["os"] = (
            _os_support(identity, os_table, find_os_entry)
            if find_os_entry
            else {"name": identity.get("name"), "end_of_support": None, "source": None}
        )
        record["server"] = is_server(record, contract)
        records.append(record)
    records.sort(key=lambda r: r["host"])

    sites = []
    for item in as_list(contract.get("sites")):
        site = as_dict(item)
        members = [r for r in records if _site_of(r, site_names) == site.get("name")]
        sites.append(
            {
                "name": site.get("name"),
                "subnets": as_list(site.get("subnets")),
                "vpn_peer": site.get("vpn_peer"),
                "router": site.get("router"),
                "internet_access": site.get("internet_access"),
                "workstations": as_list(site.get("workstations")),
                "servers": [
                    {"host": r["host"], "addresses": [a["address"] for a in r["addresses"]]}
                    for r in members
                ],
            }
        )
    relay = as_dict(contract.get("smtp_relay"))
    options = as_dict(contract.get("options"))
    prerequisites = as_dict(prerequisites)
    waived, open_ = split_waived(prerequisites.get("blocking"), contract.get("waivers"))
    fmt = formatters or (None, None, None)
    monitored = as_dict(monitored)
    servers = [r for r in records if r["server"]]
    document = {
        "schema_version": SCHEMA_VERSION,
        "kind": KIND,
        "run_id": run_id,
        "generated_at": generated_at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "language": lang,
        "client": {
            "id": client["id"],
            "name": client["name"],
            "users": client.get("users"),
            "contract_start": client.get("contract_start"),
            "timezone": contract.get("timezone"),
        },
        # SEC-02: the technical document is one of the two places contacts may appear.
        "contacts": [
            {k: as_dict(c).get(k) for k in ("side", "role", "name", "email", "phone")}
            for c in as_list(contract.get("contacts"))
        ],
        "sizing": {"users": client.get("users"), "servers": len(servers), **sizing},
        "servers": records,
        "network": {"public_ip": contract.get("public_ip"), "sites": sites},
        "information_system": {
            "shares": [
                {"host": r["host"], "share": s, "path": r["share_paths"].get(s)}
                for r in records
                for s in r["shares"]
            ],
            "logon_scripts": [
                {"host": r["host"], "script": s} for r in records for s in r["logon_scripts"]
            ],
            "security_box": options.get("security_box"),
            "backup": [
                {
                    **dict.fromkeys(BACKUP_KEYS),
                    "what": [],
                    **plain(job),
                    "last": next(
                        (
                            b
                            for r in records
                            if r["host"] == as_dict(job).get("host")
                            for b in r["backups"]
                            if b["job"] == as_dict(job).get("name")
                        ),
                        None,
                    ),
                }
                for job in as_list(contract.get("backup"))
            ],
            "antivirus": {
                **plain(as_dict(contract.get("antivirus"))),
                "from_provider": bool(options.get("antivirus_from_provider")),
            },
            "messaging": [
                {"host": r["host"], "service": s} for r in records for s in r["mail_services"]
            ],
            "update_policy": [{"host": r["host"], "policy": r["update_policy"]} for r in records],
            "remote_assistance": [
                str(t) for t in as_list(as_dict(contract.get("remote_assistance")).get("tools"))
            ],
        },
        "peripherals": {
            "printers": [{"host": r["host"], **p} for r in records for p in r["printers"]],
            "ups": [{"host": r["host"], **u} for r in records for u in r["ups"]],
        },
        "preventcare": {
            "monitor_host": contract.get("monitor_host"),
            "monitored": [
                {
                    "host": r["host"],
                    "agent": as_dict(monitored.get(r["host"])).get("agent"),
                    "port": as_dict(monitored.get(r["host"])).get("port"),
                    "sensors": as_list(as_dict(monitored.get(r["host"])).get("sensors")),
                }
                for r in records
            ],
            "thresholds": (
                _thresholds(thresholds, contract.get("thresholds"), lang, *fmt)
                if thresholds and fmt[0]
                else []
            ),
            "mailbox": contract.get("surveillance_mailbox"),
            "relay": {
                "host": relay.get("host"),
                "port": relay.get("port"),
                "tls": relay.get("tls"),
                "sender": relay.get("sender"),
                "authenticated": bool(relay.get("auth")),
            },
        },
        "homologation": {
            **plain(as_dict(contract.get("homologation"))),
            "prerequisites_report": prerequisites.get("report"),
            "waived": waived,
            "open": open_,
            "waivers": [
                {**dict.fromkeys(("check", "host")), **plain(w)}
                for w in as_list(contract.get("waivers"))
            ],
        },
        "visits": {**plan, "file": CALENDAR_FILE},
        "diagram": None,
        "dossier": {"hosts": {r["host"]: r["dossier"] for r in records}},
    }
    if needs_diagram(document):
        document["diagram"] = {"file": DIAGRAM_FILE}
    for record in records:
        record.pop("dossier")
        record.pop("share_paths")
        record.pop("backups")
    # Dates the YAML loader made date objects become text, as JSON carries them.
    return json.loads(json.dumps(document, default=str))


def needs_diagram(document):
    """SET-04: a network diagram for multi-server and multi-site clients."""
    sites = [s for s in document["network"]["sites"] if s["servers"]]
    return len(document["servers"]) > 1 or len(sites) > 1


# ---------------------------------------------------------------- the diagram


def _dot_id(text):
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dot_label(*lines):
    return _dot_id("\n".join(str(line) for line in lines if line))


def diagram_dot(document, labels):
    """Graphviz DOT of the network: a cluster per site with its router (or security box) and
    servers, the internet with the fixed public IP, and the VPN links between sites."""
    lines = [
        "digraph network {",
        "  graph [rankdir=TB, fontname=Helvetica, fontsize=11, compound=true];",
        "  node [fontname=Helvetica, fontsize=10, shape=box, style=rounded];",
        "  edge [fontname=Helvetica, fontsize=9, dir=none];",
        "  internet [label="
        + _dot_label(labels["internet"], document["network"].get("public_ip"))
        + ", shape=ellipse];",
    ]
    sites = document["network"]["sites"]
    by_host = {r["host"]: r for r in document["servers"]}
    placed = set()
    for index, site in enumerate(sites):
        router = f"router_{index}"
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(f"    label={_dot_label(labels['site'] + ' ' + str(site['name']))};")
        for subnet in site["subnets"]:
            lines.append(f"    // {subnet}")
        lines.append(
            f"    {router} [label="
            + _dot_label(site.get("router") or labels["router"], site.get("vpn_peer"))
            + ", shape=diamond];"
        )
        for server in site["servers"]:
            record = by_host.get(server["host"], {})
            placed.add(server["host"])
            lines.append(
                f"    {_dot_id(server['host'])} [label="
                + _dot_label(
                    server["host"],
                    (record.get("os") or {}).get("name"),
                    ", ".join(server["addresses"]),
                )
                + "];"
            )
            lines.append(f"    {router} -> {_dot_id(server['host'])};")
        lines.append("  }")
        lines.append(f"  internet -> {router};")
    for a in range(len(sites)):
        for b in range(a + 1, len(sites)):
            if sites[a].get("vpn_peer") and sites[b].get("vpn_peer"):
                lines.append(
                    f"  router_{a} -> router_{b} [label={_dot_label(labels['vpn'])}, "
                    "style=dashed, constraint=false];"
                )
    for record in document["servers"]:
        if record["host"] not in placed:
            lines.append(
                f"  {_dot_id(record['host'])} [label="
                + _dot_label(record["host"], ", ".join(a["address"] for a in record["addresses"]))
                + "];"
            )
    lines.append("}")
    return "\n".join(lines) + "\n"
