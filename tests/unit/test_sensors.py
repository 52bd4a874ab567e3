"""Collector parsers (MON-HW-01, MON-SYS-07, MON-BK-03) on captured or documented tool outputs.

Fixtures: tests/fixtures/linux/sensors/ (README.md says which were captured live) and
tests/fixtures/windows/sensors/ (built from the documented formats, English and French).
"""

from __future__ import annotations

import datetime
import json
import math
from pathlib import Path

import pytest
import yaml
from ansible.module_utils import preventcare_backup as backup
from ansible.module_utils import preventcare_sensors as sensors

ROOT = Path(__file__).resolve().parents[2]
LINUX = ROOT / "tests" / "fixtures" / "linux" / "sensors"
WINDOWS = ROOT / "tests" / "fixtures" / "windows" / "sensors"
TABLE = yaml.safe_load((ROOT / "data" / "thresholds.yml").read_text(encoding="utf-8"))
CODES = TABLE["textfile_metrics"]["preventcare_backup_last_status"]["codes"]
RESULTS = yaml.safe_load((ROOT / "data" / "backup_results.yml").read_text(encoding="utf-8"))
VENDORS = yaml.safe_load((ROOT / "data" / "hardware_vendors.yml").read_text(encoding="utf-8"))
EVENTLOG = yaml.safe_load((ROOT / "data" / "eventlog.yml").read_text(encoding="utf-8"))


def _text(name: str, folder: Path = LINUX) -> str:
    return (folder / name).read_text(encoding="utf-8")


def _json(name: str):
    return json.loads(_text(name, WINDOWS))


def _verdicts(readings):
    return [(r.component, r.device, r.ok) for r in readings]


# --------------------------------------------------------------------------- smartctl
@pytest.mark.req("MON-HW-01")
@pytest.mark.parametrize(
    ("fixture", "component", "expected"),
    [
        ("smartctl_ata_passed.json", "disk", [("disk", "/dev/sda", True)]),
        ("smartctl_ata_failing.json", "disk", [("disk", "/dev/sdb", False)]),
        # passed, but exit status bit 4: a pre-fail attribute at its threshold
        ("smartctl_nvme_prefail.json", "disk", [("disk", "/dev/nvme0", False)]),
        ("smartctl_scsi_tape_passed.json", "tape", [("tape", "/dev/nst0", True)]),
        # captured here: a virtio disk has no SMART -> no reading, never "ok"
        ("smartctl_virtio_captured.json", "disk", []),
    ],
)
def test_smartctl_json_gives_the_drives_own_verdict(fixture, component, expected):
    assert _verdicts(sensors.parse_smartctl_json(_text(fixture), component)) == expected


def test_smartctl_scan_lists_devices_and_none_on_a_machine_without_disks():
    names = [d["name"] for d in sensors.parse_smartctl_scan(_text("smartctl_scan_two.json"))]
    assert names == ["/dev/sda", "/dev/nvme0"]
    assert sensors.parse_smartctl_scan(_text("smartctl_scan_none_captured.json")) == []


@pytest.mark.parametrize("bad", ["", "not json", "[1, 2]"])
def test_smartctl_garbage_is_a_parse_error_not_a_traceback(bad):
    with pytest.raises(sensors.ParseError):
        sensors.parse_smartctl_json(bad)


# --------------------------------------------------------------------------- mdstat
@pytest.mark.req("MON-HW-01")
@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("mdstat_raid1_ok.txt", [("raid", "md0", True)]),
        ("mdstat_raid1_degraded.txt", [("raid", "md0", False), ("raid", "md1", True)]),
        ("mdstat_raid5_recovery.txt", [("raid", "md127", False)]),
        ("mdstat_raid0_inactive.txt", [("raid", "md2", False)]),
        ("mdstat_none.txt", []),
    ],
)
def test_mdstat_finds_degraded_failed_rebuilding_and_inactive_arrays(fixture, expected):
    assert _verdicts(sensors.parse_mdstat(_text(fixture))) == expected


def test_mdstat_says_why_an_array_is_degraded():
    md0 = sensors.parse_mdstat(_text("mdstat_raid1_degraded.txt"))[0]
    assert "sdb1[1](F)" in md0.detail
    assert "[1/2] [U_]" in md0.detail


# --------------------------------------------------------------------------- ipmitool
@pytest.mark.req("MON-HW-01")
def test_ipmitool_sdr_healthy_server_reports_fans_power_supplies_and_battery_ok():
    readings = sensors.parse_ipmitool_sdr(_text("ipmitool_sdr_elist_ok.txt"))
    assert {r.component for r in readings} == {"fan", "psu", "battery"}
    assert all(r.ok for r in readings)
    # "ns" (no reading) is not a verdict, and temperatures are not a MON-HW-01 item
    assert "Fan3A RPM" not in {r.device for r in readings}
    assert "Inlet Temp" not in {r.device for r in readings}


@pytest.mark.req("MON-HW-01")
def test_ipmitool_sdr_faults_a_critical_fan_a_lost_power_supply_and_failed_batteries():
    faulty = {
        r.device: r.component
        for r in sensors.parse_ipmitool_sdr(_text("ipmitool_sdr_elist_faults.txt"))
        if r.ok is False
    }
    assert faulty == {
        "Fan2A RPM": "fan",
        "PS2 Status": "psu",
        "CMOS Battery": "battery",
        "ROMB Battery": "battery",
    }


# --------------------------------------------------------------------------- NICs, N/A
def _nic(root: Path, name: str, carrier: str, flags: str = "0x1003", physical: bool = True):
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "carrier").write_text(carrier + "\n")
    (folder / "flags").write_text(flags + "\n")
    (folder / "operstate").write_text(("up" if carrier == "1" else "down") + "\n")
    if physical:
        (folder / "device").mkdir()


@pytest.mark.req("MON-HW-01")
def test_nics_are_the_physical_interfaces_that_are_up(tmp_path):
    _nic(tmp_path, "eno1", "1")
    _nic(tmp_path, "eno2", "0")
    _nic(tmp_path, "eno3", "0", flags="0x1002")  # administratively down: not judged
    _nic(tmp_path, "veth0", "1", physical=False)
    assert _verdicts(sensors.read_nics(str(tmp_path))) == [
        ("nic", "eno1", True),
        ("nic", "eno2", False),
    ]


@pytest.mark.req("MON-HW-01")
def test_a_virtual_machine_gets_not_applicable_never_a_fake_ok():
    readings = sensors.complete([], virtual=True)
    assert {r.component for r in readings} == set(sensors.COMPONENTS)
    assert all(r.ok is None and r.device == "not_applicable" for r in readings)
    assert all(math.isnan(r.value) for r in readings)
    text = sensors.render_textfile(sensors.hardware_samples(readings, 1.0), {})
    assert 'preventcare_hardware_ok{component="fan",device="not_applicable"} NaN' in text
    assert " 1\n" not in text.replace("last_run_timestamp_seconds 1\n", "")


def test_a_physical_server_without_a_sensor_says_no_sensor():
    readings = sensors.complete([sensors.Reading("disk", "/dev/sda", True)], virtual=False)
    by_component = {r.component: r for r in readings}
    assert by_component["disk"].ok is True
    assert by_component["fan"].device == "no_sensor"
    assert by_component["fan"].ok is None


# --------------------------------------------------------------------------- journal
@pytest.mark.req("MON-SYS-07")
def test_journal_counts_err_entries_by_source_and_keeps_the_cursor():
    counts, cursor = sensors.parse_journal_json(_text("journal_err_captured.json"))
    assert counts == {("cron", "3"): 1, ("preventcare-backup@demo.service", "3"): 1}
    assert cursor.startswith("s=")


@pytest.mark.req("MON-SYS-07")
def test_journal_ignores_entries_below_err_and_unwatched_units():
    counts, _ = sensors.parse_journal_json(_text("journal_cron_all_priorities_captured.json"))
    assert counts == {("cron", "3"): 1}  # the PRIORITY 6 line is not counted
    kernel = json.dumps({"PRIORITY": "2", "_TRANSPORT": "kernel", "MESSAGE": "I/O error"})
    text = _text("journal_err_captured.json") + kernel + "\nnot json\n"
    counts, _ = sensors.parse_journal_json(text, EVENTLOG["linux"]["units_pattern"])
    assert counts == {("preventcare-backup@demo.service", "3"): 1, ("kernel", "2"): 1}


# --------------------------------------------------------------------------- textfile
def test_textfile_rendering_escapes_labels_and_declares_help_and_type():
    metrics = TABLE["textfile_metrics"]
    text = sensors.render_textfile(
        [("preventcare_hardware_ok", {"component": "disk", "device": 'a"b\\c'}, 0.0)], metrics
    )
    lines = text.splitlines()
    assert lines[0].startswith("# HELP preventcare_hardware_ok 1 when the vendor hardware tool")
    assert lines[1] == "# TYPE preventcare_hardware_ok gauge"
    assert lines[2] == 'preventcare_hardware_ok{component="disk",device="a\\"b\\\\c"} 0'


def test_textfile_is_replaced_atomically(tmp_path):
    target = tmp_path / "x.prom"
    target.write_text("old\n")
    sensors.write_atomically(str(target), "new\n")
    assert target.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["x.prom"]
    assert oct(target.stat().st_mode & 0o777) == "0o644"


# --------------------------------------------------------------------------- Linux backup
@pytest.mark.req("MON-BK-03")
@pytest.mark.parametrize(
    ("returncode", "stderr", "status"),
    [
        (0, "", "success"),
        (1, "tar: /srv/db: file changed as we read it\n", "incomplete"),
        (
            2,
            "tar: /srv/x: Cannot open: Permission denied\n"
            "tar: Exiting with failure status due to previous errors\n",
            "incomplete",
        ),
        (2, "tar: /mnt/backup/x.tar.gz: Cannot write: No space left on device\n", "failed"),
        (2, "", "failed"),
    ],
)
def test_gnu_tar_exit_status_becomes_a_backup_status(returncode, stderr, status):
    assert backup.classify_tar(returncode, stderr) == status


def test_cpio_results():
    assert backup.classify_cpio(0, 0, "") == "success"
    assert backup.classify_cpio(1, 0, "find: '/srv/x': Permission denied") == "incomplete"
    assert backup.classify_cpio(0, 2, "cpio: write error: No space left") == "failed"


@pytest.mark.req("SET-03")
def test_rotation_removes_archives_older_than_the_retention_but_keeps_the_newest():
    now = datetime.datetime(2026, 12, 1, 23, 0, tzinfo=datetime.UTC)
    names = [
        "daily-20261110T230000Z.tar.gz",
        "daily-20261116T230000Z.tar.gz",
        "daily-20261130T230000Z.tar.gz",
        "other-20261101T230000Z.tar.gz",
        "notes.txt",
    ]
    assert backup.to_rotate(names, "daily", now, 14) == [
        "daily-20261110T230000Z.tar.gz",
        "daily-20261116T230000Z.tar.gz",
    ]
    # only one old archive: it is the newest, so it stays
    assert backup.to_rotate(names[:1], "daily", now, 1) == []


@pytest.mark.req("MON-BK-03")
def test_backup_metrics_use_the_tables_codes_and_labels():
    job = {"name": "daily", "software": "cpio_tar", "codes": CODES}
    samples = backup.backup_samples(job, "cancelled", 10.0, 20.0, size=5, files=2)
    status = next(s for s in samples if s[0] == "preventcare_backup_last_status")
    assert status == (
        "preventcare_backup_last_status",
        {"backup_job": "daily", "software": "cpio_tar"},
        float(CODES["cancelled"]),
    )
    for name, labels, _ in samples:
        assert set(labels) == set(TABLE["textfile_metrics"][name]["labels"])


def test_tar_and_find_commands_carry_the_excludes():
    job = {"paths": ["/srv/compta", "/etc"], "exclude": ["*.tmp"]}
    assert backup.tar_create_command(job, "/b/x")[-4:] == [
        "--exclude",
        "*.tmp",
        "/srv/compta",
        "/etc",
    ]
    assert backup.find_command(job)[:6] == ["find", "/srv/compta", "/etc", "-xdev", "(", "-path"]


# --------------------------------------------------------------------------- Windows backup
@pytest.mark.req("MON-BK-02")
@pytest.mark.req("MON-BK-03")
@pytest.mark.parametrize(
    ("fixture", "status"),
    [
        ("wsb_job_success_en.json", "success"),
        ("wsb_summary_success_fr.json", "success"),
        ("wsb_job_incomplete_fr.json", "incomplete"),
        ("wsb_job_failed_fr.json", "failed"),
        ("wsb_job_cancelled_en.json", "cancelled"),
        ("wsb_job_running_en.json", "running"),
    ],
)
def test_windows_server_backup_results_map_to_status_codes(fixture, status):
    found = sensors.wsb_status(_json(fixture), RESULTS["windows_server_backup"])
    assert found == status
    if status != "running":
        assert sensors.status_code(found, CODES) == CODES[status]


@pytest.mark.req("MON-BK-03")
def test_a_wsb_result_without_hresult_is_a_clear_error():
    with pytest.raises(sensors.ParseError, match="no HResult"):
        sensors.wsb_status({"JobState": "Completed"}, RESULTS["windows_server_backup"])


@pytest.mark.req("MON-BK-02")
@pytest.mark.req("MON-BK-03")
@pytest.mark.parametrize(
    ("fixture", "status"),
    [
        ("arcserve_finished_en.json", "success"),
        ("arcserve_failed_fr.json", "failed"),
        ("arcserve_canceled_fr.json", "cancelled"),
        ("arcserve_incomplete_en.json", "incomplete"),
    ],
)
def test_arcserve_job_status_maps_to_status_codes(fixture, status):
    assert sensors.arcserve_status(_json(fixture)["Status"], RESULTS["arcserve"]) == status


def test_an_unknown_arcserve_status_is_a_failure_not_a_success():
    assert sensors.arcserve_status("Weird", RESULTS["arcserve"]) == "failed"
    assert sensors.arcserve_status("", RESULTS["arcserve"]) == "failed"


def test_every_mapped_status_has_a_code_in_the_thresholds_table():
    assert set(RESULTS["arcserve"]["status_keywords"]) <= set(CODES)
    with pytest.raises(sensors.ParseError, match="unknown backup status"):
        sensors.status_code("partial", CODES)


# --------------------------------------------------------------------------- Windows HW, events
@pytest.mark.req("MON-HW-01")
@pytest.mark.req("SET-06")
@pytest.mark.parametrize(
    ("fixture", "vendor", "agent", "running"),
    [
        ("system_hpe_en.json", "hpe", "hpe_ams", True),
        ("system_dell_fr.json", "dell", "dell_ism", False),
        ("system_lenovo_en.json", "lenovo", "lenovo_xclarity", True),
        ("system_hyperv_fr.json", "virtual", None, False),
    ],
)
def test_the_vendor_agent_is_chosen_from_smbios_data(fixture, vendor, agent, running):
    assert sensors.windows_vendor(_json(fixture), VENDORS) == {
        "vendor": vendor,
        "agent": agent,
        "agent_running": running,
    }


@pytest.mark.req("MON-SYS-07")
def test_windows_events_are_counted_by_log_provider_and_id_in_french():
    counts = sensors.windows_event_counts(_json("events_dc_fr.json"), EVENTLOG["windows"])
    assert counts == {
        ("System", "EventLog", "6008"): 1,
        ("System", "Microsoft-Windows-Kernel-Power", "41"): 1,
        ("Directory Service", "Microsoft-Windows-ActiveDirectory_DomainService", "1311"): 1,
        ("System", "Service Control Manager", "7034"): 1,
    }


@pytest.mark.req("MON-SYS-07")
def test_a_single_windows_event_in_english_is_counted_too():
    # ConvertTo-Json writes one object, not a list, when Get-WinEvent returns one event
    counts = sensors.windows_event_counts(_json("events_member_en.json"), EVENTLOG["windows"])
    assert counts == {("System", "EventLog", "6008"): 1}


@pytest.mark.req("MON-HW-01")
def test_windows_hardware_task_judges_disks_and_nics_by_their_enum_numbers_in_french():
    readings = sensors.windows_hardware_readings(_json("hardware_dell_faults_fr.json"))
    assert [(r.component, r.device, r.ok) for r in readings if r.ok is not None] == [
        ("disk", "DELL PERC H755 SCSI Disk Device", True),
        ("disk", "TOSHIBA MG08ACA16TE", False),
        ("nic", "Ethernet", True),
        ("nic", "Ethernet 2", False),  # "Ethernet 3" is administratively down: not judged
    ]
    # RAID, fans, power supplies, tape: the vendor agent's own alert mail, no sensor here
    assert {r.component for r in readings if r.device == "no_sensor"} == {
        "raid",
        "fan",
        "psu",
        "battery",
        "tape",
    }


@pytest.mark.req("MON-HW-01")
def test_windows_virtual_machine_gets_not_applicable_for_every_item():
    readings = sensors.windows_hardware_readings(_json("hardware_hyperv_en.json"))
    assert {(r.device, r.ok) for r in readings} == {("not_applicable", None)}
