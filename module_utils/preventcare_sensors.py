"""PreventCare sensors: parsers of the hardware and journal tools, and the textfile writer.

Pure functions, Python standard library only, so that the same file serves twice:
- on the controller, imported as ansible.module_utils.preventcare_sensors by the unit tests
  (captured or documented outputs under tests/fixtures/linux/sensors/ and .../windows/sensors/);
- on each Linux server, copied to /usr/local/lib/preventcare/ and run by the systemd timers
  of the hardware_sensors role (`hardware`, `eventlog` subcommands), writing the textfile
  metrics node_exporter publishes (MON-HW-01, MON-SYS-07).

A reading is ok (1), faulty (0) or not applicable (NaN, device "not_applicable" on a virtual
machine, "no_sensor" on a physical server whose tools give no reading): never a fake "ok".
The Windows result parsers (Windows Server Backup, Arcserve, vendor agents, event IDs) live
here as well, so that the mapping the PowerShell scripts apply is proved in Python.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

COMPONENTS = ("raid", "disk", "fan", "psu", "battery", "nic", "tape")
NOT_APPLICABLE = "not_applicable"  # device label on a virtual machine
NO_SENSOR = "no_sensor"  # device label on a physical server without a reading for the item

# smartctl(8) EXIT STATUS: bit 3 "SMART status check returned DISK FAILING", bit 4 "found
# prefail attributes <= threshold", bits 0-1 "command line / device open failed".
SMARTCTL_DISK_FAILING = 1 << 3
SMARTCTL_PREFAIL = 1 << 4
SMARTCTL_OPEN_FAILED = (1 << 0) | (1 << 1)

# IPMI entity IDs (IPMI v2.0 specification, table 43-13), the number before the dot in the
# 4th column of `ipmitool sdr elist`: language-independent, unlike sensor names.
IPMI_ENTITIES = {10: "psu", 29: "fan", 30: "fan", 40: "battery"}
# ipmitool's status column (ipmitool(1), "sdr elist"): ok, ns = no reading, else a threshold
# crossed: nc/cr/nr (non-critical, critical, non-recoverable), lnc/lcr/lnr, unc/ucr/unr.
IPMI_NO_READING = {"ns"}
# Discrete sensors report "ok" in that column and list their asserted states in the reading;
# ipmitool prints these state names from its own tables (English, never localised).
IPMI_FAULT_STATES = (
    "failure detected",
    "predictive failure",
    "power supply ac lost",
    "ac lost or out-of-range",
    "config error",
    "battery failed",
    "battery low",
    "fully redundant lost",
    "redundancy lost",
    "redundancy degraded",
)

# journald's PRIORITY field (syslog(3)): 0 emerg .. 3 err.
JOURNAL_ERR = 3


@dataclass(frozen=True)
class Reading:
    """One hardware item: ok True/False, or None when the item does not apply or has no sensor."""

    component: str
    device: str
    ok: bool | None
    detail: str = ""

    @property
    def value(self) -> float:
        if self.ok is None:
            return math.nan
        return 1.0 if self.ok else 0.0


class ParseError(ValueError):
    """The tool's output is not in the documented format."""


# --------------------------------------------------------------------------- smartctl
def parse_smartctl_json(text: str, component: str = "disk") -> list[Reading]:
    """`smartctl --json -H -i DEV` -> one Reading, or [] when the device has no SMART.

    smart_status.passed is the drive's own verdict (ATA, SCSI and NVMe alike; for a SCSI tape
    it is the TapeAlert verdict). The exit status bits 3/4 say the same in older versions.
    """
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise ParseError(f"smartctl output is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ParseError("smartctl output is not a JSON object")
    device = (data.get("device") or {}).get("name") or ""
    status = data.get("smart_status")
    exit_status = (data.get("smartctl") or {}).get("exit_status", 0)
    if not isinstance(exit_status, int):
        exit_status = 0
    if exit_status & SMARTCTL_OPEN_FAILED and not isinstance(status, dict):
        return []  # no such device, no SMART support, or unknown type: nothing to judge
    if isinstance(status, dict) and isinstance(status.get("passed"), bool):
        ok = status["passed"] and not exit_status & SMARTCTL_PREFAIL
        model = data.get("model_name") or data.get("product") or ""
        return [Reading(component, device, ok, "" if ok else f"SMART: failing {model}".strip())]
    if exit_status & SMARTCTL_DISK_FAILING:
        return [Reading(component, device, False, "SMART: disk failing")]
    return []


def parse_smartctl_scan(text: str) -> list[dict]:
    """`smartctl --json --scan-open` -> [{"name": "/dev/sda", "type": "sat"}, ...]."""
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise ParseError(f"smartctl --scan output is not JSON: {exc}") from None
    devices = data.get("devices") if isinstance(data, dict) else None
    return [d for d in devices or [] if isinstance(d, dict) and d.get("name")]


# --------------------------------------------------------------------------- mdstat
_MD_ARRAY = re.compile(r"^(md[0-9a-z_]+)\s*:\s*(\S+)\s+(.*)$")
_MD_STATUS = re.compile(r"\[(\d+)/(\d+)\]\s*\[([U_]+)\]")


def parse_mdstat(text: str) -> list[Reading]:
    """/proc/mdstat (Documentation/admin-guide/md.rst) -> one Reading per md array.

    Degraded when a member is marked (F), when [n/m] shows fewer working than required, or
    when the [UU_] map has a hole; an inactive array is a fault too. raid0/linear carry no
    [n/m] map: they are judged on (F) and state only.
    """
    readings = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = _MD_ARRAY.match(line.strip())
        if not match:
            continue
        name, state, rest = match.groups()
        following = lines[index + 1] if index + 1 < len(lines) else ""
        faults = []
        if state != "active":
            faults.append(f"array {state}")
        if "(F)" in rest:
            faults.append("failed member " + " ".join(m for m in rest.split() if "(F)" in m))
        status = _MD_STATUS.search(following)
        if status:
            required, working, members = int(status[1]), int(status[2]), status[3]
            if working < required or "_" in members:
                faults.append(f"degraded [{working}/{required}] [{members}]")
        if re.search(r"\b(recovery|resync|reshape)\s*=", " ".join(lines[index + 1 : index + 3])):
            faults.append("rebuilding")
        readings.append(Reading("raid", name, not faults, "; ".join(faults)))
    return readings


# --------------------------------------------------------------------------- ipmitool
def parse_ipmitool_sdr(text: str) -> list[Reading]:
    """`ipmitool sdr elist` -> Readings for fans, power supplies and batteries.

    Columns (ipmitool(1)): name | sensor number | status | entity.instance | reading.
    """
    readings = []
    for line in text.splitlines():
        cols = [c.strip() for c in line.split("|")]
        if len(cols) < 5:
            continue
        name, _number, status, entity, reading = cols[:5]
        try:
            entity_id = int(entity.split(".")[0])
        except ValueError:
            continue
        component = IPMI_ENTITIES.get(entity_id)
        if component is None or status.lower() in IPMI_NO_READING:
            continue
        lowered = reading.lower()
        faulty_state = next((s for s in IPMI_FAULT_STATES if s in lowered), None)
        # Battery sensors (sensor type 29h) assert "Low" or "Failed" on their own.
        if component == "battery" and lowered.strip() in ("low", "failed"):
            faulty_state = lowered.strip()
        ok = status.lower() == "ok" and faulty_state is None
        detail = "" if ok else f"{status} {reading}".strip()
        readings.append(Reading(component, name, ok, detail))
    return readings


# --------------------------------------------------------------------------- NICs, sysfs
def read_nics(sys_class_net: str = "/sys/class/net") -> list[Reading]:
    """Physical NICs (those with a `device` link) that are administratively up: carrier 1 = ok.

    A virtual interface (veth, bridge, loopback) has no `device`: it is not a network card.
    """
    readings = []
    try:
        names = sorted(os.listdir(sys_class_net))
    except OSError:
        return []
    for name in names:
        base = os.path.join(sys_class_net, name)
        if not os.path.exists(os.path.join(base, "device")):
            continue
        operstate = _read(os.path.join(base, "operstate")).strip()
        flags = _read(os.path.join(base, "flags")).strip()
        try:
            admin_up = bool(int(flags, 16) & 0x1)
        except ValueError:
            admin_up = operstate == "up"
        if not admin_up:
            continue
        carrier = _read(os.path.join(base, "carrier")).strip()
        ok = carrier == "1"
        readings.append(Reading("nic", name, ok, "" if ok else f"no carrier ({operstate})"))
    return readings


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


# --------------------------------------------------------------------------- verdict
def complete(readings: list[Reading], virtual: bool) -> list[Reading]:
    """Add one not-applicable Reading for every component that got no reading at all."""
    seen = {r.component for r in readings}
    filler = NOT_APPLICABLE if virtual else NO_SENSOR
    return list(readings) + [Reading(c, filler, None) for c in COMPONENTS if c not in seen]


# --------------------------------------------------------------------------- journal
def parse_journal_json(text: str, units_pattern: str | None = None) -> tuple[dict, str | None]:
    """`journalctl -o json -p err` lines -> ({(source, priority): count}, last cursor).

    source is the entry's systemd unit, or "kernel" for kernel messages, or its syslog
    identifier; entries above err (PRIORITY > 3) are ignored even if the filter let them
    through; units_pattern (a regex on the source) keeps only the watched units.
    """
    counts: dict[tuple[str, str], int] = {}
    cursor = None
    watched = re.compile(units_pattern) if units_pattern else None
    for raw in text.splitlines():
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(entry, dict):
            continue
        cursor = entry.get("__CURSOR", cursor)
        try:
            priority = int(entry.get("PRIORITY", 6))
        except (TypeError, ValueError):
            continue
        if priority > JOURNAL_ERR:
            continue
        if entry.get("_TRANSPORT") == "kernel":
            source = "kernel"
        else:
            source = (
                entry.get("_SYSTEMD_UNIT")
                or entry.get("UNIT")
                or entry.get("SYSLOG_IDENTIFIER")
                or "unknown"
            )
        if watched and not watched.fullmatch(str(source)):
            continue
        key = (str(source), str(priority))
        counts[key] = counts.get(key, 0) + 1
    return counts, cursor


# --------------------------------------------------------------------------- textfile
def _label_value(text) -> str:
    return str(text).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def render_textfile(samples, descriptions: dict) -> str:
    """Prometheus text exposition of [(name, {label: value}, number)], HELP/TYPE from descriptions.

    descriptions: {name: {"help": ..., "type": ...}} (data/thresholds.yml textfile_metrics).
    """
    out, declared = [], set()
    for name, labels, value in samples:
        if name not in declared:
            meta = descriptions.get(name, {})
            help_text = " ".join(str(meta.get("help", name)).split())
            out.append(f"# HELP {name} {help_text}")
            out.append(f"# TYPE {name} {meta.get('type', 'gauge')}")
            declared.add(name)
        inner = ",".join(f'{k}="{_label_value(v)}"' for k, v in labels.items())
        out.append(f"{name}{{{inner}}} {_number(value)}" if inner else f"{name} {_number(value)}")
    return "\n".join(out) + "\n"


def write_atomically(path: str, text: str | bytes, mode: int = 0o644, suffix: str = ".prom"):
    """Write then rename in the same folder: a reader (node_exporter, a person opening a
    report) never sees half a file. Bytes are written as they are (a PDF)."""
    folder = os.path.dirname(os.fspath(path)) or "."
    handle, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=folder)
    try:
        if isinstance(text, bytes):
            with os.fdopen(handle, "wb") as stream:
                stream.write(text)
        else:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def hardware_samples(readings: list[Reading], now: float) -> list:
    samples = [
        ("preventcare_hardware_ok", {"component": r.component, "device": r.device}, r.value)
        for r in readings
    ]
    samples.append(("preventcare_hardware_collector_last_run_timestamp_seconds", {}, float(now)))
    return samples


# --------------------------------------------------------------------------- Windows
def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _to_int(value, default=None):
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text, 16) if text.lower().startswith("0x") else int(text)
        except ValueError:
            return default
    return default


def hresult(value):
    """An HRESULT as the unsigned 32-bit number (ConvertTo-Json prints them signed)."""
    number = _to_int(value)
    return None if number is None else number & 0xFFFFFFFF


def wsb_status(job: dict, mapping: dict) -> str:
    """Status name (success, failed, incomplete, cancelled) of one Windows Server Backup job.

    job: {"HResult": int, "DetailedHResult": int, "JobState": "Completed"|...} as the
    script writes it from Get-WBJob -Previous 1 (or Get-WBSummary's LastBackupResultHR /
    LastBackupResultDetailedHR). Judged on numbers and enum names, never on message text.
    mapping: data/backup_results.yml `windows_server_backup`.
    """
    if not isinstance(job, dict):
        raise ParseError("the Windows Server Backup result is not an object")
    state = str(job.get("JobState") or "")
    if state in mapping.get("running_states", []):
        return "running"
    code = hresult(job.get("HResult"))
    detailed = hresult(job.get("DetailedHResult")) or 0
    if code is None:
        raise ParseError("the Windows Server Backup result has no HResult")
    cancelled = {hresult(c) for c in mapping.get("cancelled_hresults", [])}
    if code in cancelled or detailed in cancelled:
        return "cancelled"
    if code == 0:
        return "incomplete" if detailed != 0 else "success"
    incomplete = {hresult(c) for c in mapping.get("incomplete_hresults", [])}
    if code in incomplete:
        return "incomplete"
    return "failed"


def arcserve_status(status_text: str, mapping: dict) -> str:
    """Status name of an Arcserve job from its job-status keyword (BackupInfo*.xml Status=)."""
    keyword = str(status_text or "").strip().lower()
    for name, keywords in mapping.get("status_keywords", {}).items():
        if keyword in (k.lower() for k in keywords):
            return name
    return mapping.get("unknown", "failed")


def status_code(name: str, codes: dict) -> int:
    """The numeric code of a status name (data/thresholds.yml textfile_metrics codes)."""
    if name not in codes:
        raise ParseError(f"unknown backup status {name!r}; known: {', '.join(codes)}")
    return int(codes[name])


def windows_vendor(system: dict, catalogue: dict) -> dict:
    """Which vendor agent a Windows server needs, from Win32_ComputerSystem / Win32_BIOS data.

    system: {"Manufacturer": ..., "Model": ..., "HypervisorPresent": bool, "Services": [names]}
    Returns {"vendor": hpe|dell|lenovo|virtual|unknown, "agent": catalogue key or None,
    "agent_running": bool}. Manufacturer strings are the SMBIOS vendor names, not localised.
    """
    if not isinstance(system, dict):
        raise ParseError("the hardware inventory is not an object")
    manufacturer = str(system.get("Manufacturer") or "")
    model = str(system.get("Model") or "")
    virtual_models = [m.lower() for m in catalogue.get("virtual_models", [])]
    if any(m in model.lower() for m in virtual_models) or (
        system.get("HypervisorPresent") is True and "virtual" in model.lower()
    ):
        return {"vendor": "virtual", "agent": None, "agent_running": False}
    running = {str(s).lower() for s in _as_list(system.get("Services"))}
    for vendor, entry in catalogue.get("vendors", {}).items():
        if any(manufacturer.lower().startswith(m.lower()) for m in entry["manufacturers"]):
            services = [s.lower() for s in entry.get("services", [])]
            return {
                "vendor": vendor,
                "agent": entry.get("artifact"),
                "agent_running": any(s in running for s in services),
            }
    return {"vendor": "unknown", "agent": None, "agent_running": False}


# Storage module HealthStatus (MSFT_PhysicalDisk): 0 Healthy, 1 Warning, 2 Unhealthy, 5 Unknown.
# Get-NetAdapter: MediaConnectState 1 Connected, 2 Disconnected; ifAdminStatus 1 up.
# Win32_Battery.Status: CIM status keywords ("OK", "Degraded", "Pred Fail", "Error"), not
# localised.
WINDOWS_DISK_HEALTHY = 0
WINDOWS_NIC_CONNECTED = 1


def windows_hardware_readings(inventory: dict) -> list[Reading]:
    """Readings from the hardware task's inventory (hardware_status.ps1 applies the same rules).

    inventory: {"Virtual": bool, "Disks": [{FriendlyName, HealthStatus}], "Nics": [{Name,
    MediaConnectState, AdminStatus}], "Batteries": [{DeviceID, Status}]}. RAID, fans, power
    supplies and tape are the vendor agent's: it mails their alerts itself (iLO, iDRAC,
    XClarity) and they are reported no_sensor here.
    """
    if not isinstance(inventory, dict):
        raise ParseError("the Windows hardware inventory is not an object")
    virtual = inventory.get("Virtual") is True
    readings = []
    if not virtual:
        for disk in _as_list(inventory.get("Disks")):
            health = _to_int(disk.get("HealthStatus"), -1)
            if health in (0, 1, 2):
                readings.append(
                    Reading(
                        "disk", str(disk.get("FriendlyName") or "?"), health == WINDOWS_DISK_HEALTHY
                    )
                )
        for nic in _as_list(inventory.get("Nics")):
            if _to_int(nic.get("AdminStatus"), 1) != 1:
                continue
            state = _to_int(nic.get("MediaConnectState"), 0)
            readings.append(
                Reading("nic", str(nic.get("Name") or "?"), state == WINDOWS_NIC_CONNECTED)
            )
        for battery in _as_list(inventory.get("Batteries")):
            status = str(battery.get("Status") or "")
            readings.append(Reading("battery", str(battery.get("DeviceID") or "?"), status == "OK"))
    return complete(readings, virtual)


def windows_event_counts(events, selection: list[dict]) -> dict:
    """Counts of relevant events by (log, source, event_id) from Get-WinEvent output.

    events: ConvertTo-Json of Get-WinEvent objects reduced to LogName, ProviderName, Id,
    Level; selection: data/eventlog.yml `windows` entries ({log, provider, ids, levels}).
    Judged by log name, provider and numeric ID: the Message text is localised and ignored.
    """
    counts: dict[tuple[str, str, str], int] = {}
    for event in _as_list(events):
        if not isinstance(event, dict):
            continue
        log = str(event.get("LogName") or "")
        provider = str(event.get("ProviderName") or "")
        event_id = _to_int(event.get("Id"))
        level = _to_int(event.get("Level"))
        for rule in selection:
            if rule["log"].lower() != log.lower():
                continue
            if rule.get("provider") and rule["provider"].lower() != provider.lower():
                continue
            if rule.get("ids") and event_id not in rule["ids"]:
                continue
            if rule.get("levels") and level not in rule["levels"]:
                continue
            key = (log, provider, str(event_id))
            counts[key] = counts.get(key, 0) + 1
            break
    return counts


# --------------------------------------------------------------------------- host CLI
def _run(command: list[str], timeout: int = 60) -> tuple[int, str]:
    env = dict(os.environ, LANG="C", LC_ALL="C")
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 127, str(exc)
    return done.returncode, done.stdout


def is_virtual() -> bool:
    code, _ = _run(["systemd-detect-virt", "--quiet"])
    return code == 0


def collect_hardware(config: dict) -> list[Reading]:
    """Run the tools this server has and return one Reading per item (MON-HW-01)."""
    readings: list[Reading] = []
    virtual = config.get("virtual")
    if virtual is None:
        virtual = is_virtual()
    if os.path.exists(config.get("mdstat", "/proc/mdstat")):
        readings += parse_mdstat(_read(config.get("mdstat", "/proc/mdstat")))
    smartctl = config.get("smartctl", "/usr/sbin/smartctl")
    if os.access(smartctl, os.X_OK):
        code, out = _run([smartctl, "--json", "--scan-open"])
        for device in parse_smartctl_scan(out) if out.strip() else []:
            kind = "tape" if re.search(r"/n?st[0-9]", device["name"]) else "disk"
            args = [smartctl, "--json", "-H", "-i", "-d", device.get("type", "auto")]
            _code, text = _run([*args, device["name"]])
            try:
                readings += parse_smartctl_json(text, kind)
            except ParseError:
                continue
    ipmitool = config.get("ipmitool", "/usr/bin/ipmitool")
    if os.access(ipmitool, os.X_OK) and any(
        os.path.exists(p) for p in ("/dev/ipmi0", "/dev/ipmi/0", "/dev/ipmidev/0")
    ):
        code, out = _run([ipmitool, "sdr", "elist"], timeout=120)
        if code == 0:
            readings += parse_ipmitool_sdr(out)
    readings += read_nics(config.get("sys_class_net", "/sys/class/net"))
    return complete(readings, bool(virtual))


def _load_json(path: str, default):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return default


def collect_eventlog(config: dict) -> list:
    """Count new journal errors since the saved cursor; the counter survives restarts."""
    state_file = config["state_file"]
    state = _load_json(state_file, {})
    counts = {tuple(k.split("\t")): v for k, v in state.get("counts", {}).items()}
    command = ["journalctl", "--no-pager", "-o", "json", "-p", "err", "-q"]
    if state.get("cursor"):
        command += ["--after-cursor", state["cursor"]]
    else:
        command += ["--since", config.get("first_since", "-10min")]
    code, out = _run(command, timeout=120)
    if code == 0:
        new, cursor = parse_journal_json(out, config.get("units_pattern") or None)
        for key, value in new.items():
            counts[key] = counts.get(key, 0) + value
        state = {
            "cursor": cursor or state.get("cursor"),
            "counts": {"\t".join(k): v for k, v in counts.items()},
        }
        write_atomically(state_file, json.dumps(state), 0o600)
    samples = [
        (
            "preventcare_eventlog_errors_total",
            {"log": "journal", "source": source, "event_id": priority},
            float(value),
        )
        for (source, priority), value in sorted(counts.items())
    ]
    # A server without errors still shows the counter, at 0, so that the rule has a series
    # to compute increase() from when the first error comes.
    if not samples:
        samples.append(
            (
                "preventcare_eventlog_errors_total",
                {"log": "journal", "source": "none", "event_id": "none"},
                0.0,
            )
        )
    samples.append(("preventcare_eventlog_collector_last_run_timestamp_seconds", {}, time.time()))
    return samples


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="preventcare-sensors", description=__doc__.split("\n")[0])
    parser.add_argument("collector", choices=["hardware", "eventlog"])
    parser.add_argument("--config", required=True, help="JSON settings written by the role")
    args = parser.parse_args(argv)
    config = _load_json(args.config, None)
    if not isinstance(config, dict):
        print(f"preventcare-sensors: cannot read the settings {args.config}", file=sys.stderr)
        return 2
    try:
        if args.collector == "hardware":
            readings = collect_hardware(config)
            samples = hardware_samples(readings, time.time())
            for reading in readings:
                if reading.ok is False:
                    print(f"<3>{reading.component} {reading.device}: {reading.detail}")
        else:
            samples = collect_eventlog(config)
        text = render_textfile(samples, config.get("metrics", {}))
        write_atomically(os.path.join(config["textfile_dir"], config["textfile"]), text)
    except (OSError, KeyError, ParseError) as exc:
        print(f"preventcare-sensors {args.collector}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
