"""The set-up day's sensors as the engineer and the surveillance team find them on a server.

srv-lin01 was converged with playbooks/site_day.yml; its mail goes through the real Postfix
relay container to the surveillance mailbox (/var/mail/surveillance on the relay).
"""

from __future__ import annotations

import json
import math
import re
import shlex
import sys
import time
import uuid
from pathlib import Path

import pytest
import testinfra
import yaml
from helpers import SITE_CA, exporter_credentials, get

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "module_utils"))
from preventcare_scrape import missing  # noqa: E402

SCENARIO = Path(__file__).resolve().parents[1]
CONTRACT = yaml.safe_load(
    (SCENARIO / "inventory" / "group_vars" / "all" / "preventcare.yml").read_text(encoding="utf-8")
)["preventcare"]
TABLE = yaml.safe_load((ROOT / "data" / "thresholds.yml").read_text(encoding="utf-8"))
CODES = TABLE["textfile_metrics"]["preventcare_backup_last_status"]["codes"]
MAILBOX = CONTRACT["surveillance_mailbox"]
TEXTFILE = "/var/lib/prometheus/node-exporter"
SPOOL = "/var/mail/surveillance"

server = testinfra.get_host("podman://pcd-srv-lin01")
relay = testinfra.get_host("podman://pcd-relay")


def _sh(host, script: str, check: bool = True):
    result = host.run("sh -c " + shlex.quote(script))
    if check:
        assert result.rc == 0, f"{script!r} failed ({result.rc}): {result.stderr or result.stdout}"
    return result


def _wait_for_mail(needle: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        box = _sh(relay, f"cat {SPOOL} 2>/dev/null || true").stdout
        if needle in box:
            # the message that holds the needle, from its "From " line
            return next(m for m in re.split(r"(?m)^(?=From )", box) if needle in m)
        time.sleep(0.5)
    log = _sh(relay, "tail -n 20 /var/log/postfix.log", check=False).stdout
    queue = _sh(server, "postqueue -p", check=False).stdout
    raise AssertionError(
        f"{needle!r} never reached {SPOOL}; relay log:\n{log}\nserver queue:\n{queue}"
    )


def _metrics(name: str) -> dict:
    """{(metric, frozenset(labels)): value} of one textfile of the server."""
    text = server.file(f"{TEXTFILE}/{name}").content_string
    found = {}
    for line in text.splitlines():
        match = re.match(r"^(\w+)\{(.*)\} (\S+)$", line) or re.match(r"^(\w+)() (\S+)$", line)
        if match:
            labels = frozenset(re.findall(r'(\w+)="([^"]*)"', match[2]))
            found[(match[1], labels)] = float(match[3])
    return found


def _backup_result(job: str) -> dict:
    labels = frozenset({("backup_job", job), ("software", "cpio_tar")})
    values = _metrics(f"preventcare_backup_{job}.prom")
    return {
        name.removeprefix("preventcare_backup_last_"): values[(name, labels)]
        for name, _ in values
        if name.startswith("preventcare_backup_last_")
    }


def _cleanup(job: str) -> None:
    unit = f"preventcare-backup@{job}.service"
    _sh(server, f"systemctl stop {unit}; systemctl reset-failed {unit}", check=False)
    _sh(
        server, f"rm -f /etc/preventcare/backup/{job}.json {TEXTFILE}/preventcare_backup_{job}.prom"
    )


def _scrape() -> str:
    """node_exporter's /metrics, read on the server at the address the monitor scrapes."""
    args = server.file("/etc/default/prometheus-node-exporter").content_string
    listen = re.search(r"--web\.listen-address=(\S+)", args)[1]
    # SEC-03: over TLS (the site CA), as the scrape user.
    body = get(server, f"https://{listen}/metrics", exporter_credentials(), SITE_CA)
    assert not body.startswith(("HTTP ", "ERROR ")), body
    return body


def _job_settings(name: str, **changes) -> None:
    """A test job beside the contract's: the contract's settings with a few changes."""
    settings = json.loads(server.file("/etc/preventcare/backup/daily.json").content_string)
    settings.update(name=name, **changes)
    _sh(server, f"cat >/etc/preventcare/backup/{name}.json <<'EOF'\n{json.dumps(settings)}\nEOF")


# --------------------------------------------------------------------------- SET-02
@pytest.mark.req("SET-02")
def test_the_server_is_in_the_contracts_time_zone_with_a_persistent_journal():
    assert server.file("/etc/localtime").linked_to.endswith(CONTRACT["timezone"])
    assert server.file("/var/log/journal").is_directory
    assert (
        "Storage=persistent"
        in server.file("/etc/systemd/journald.conf.d/preventcare.conf").content_string
    )
    # journald wrote its files there, so the errors of the night survive a reboot
    assert _sh(server, "ls /var/log/journal/*/system.journal").rc == 0


@pytest.mark.req("SET-02")
def test_unattended_upgrades_take_only_the_security_suite_and_mail_the_mailbox():
    dump = _sh(server, "apt-config dump Unattended-Upgrade APT::Periodic").stdout
    patterns = re.findall(r'Unattended-Upgrade::Origins-Pattern:: "([^"]+)"', dump)
    assert patterns, dump
    assert all("security" in pattern.lower() for pattern in patterns), patterns
    assert f'Unattended-Upgrade::Mail "{MAILBOX}";' in dump
    assert 'APT::Periodic::Unattended-Upgrade "1";' in dump


@pytest.mark.req("SET-02")
def test_postfix_is_a_send_only_satellite_of_the_contracts_relay():
    assert server.service("postfix").is_running
    settings = _sh(server, "postconf -h relayhost inet_interfaces mydestination").stdout.split("\n")
    relay_cfg = CONTRACT["smtp_relay"]
    assert settings[:3] == [f"[{relay_cfg['host']}]:{relay_cfg['port']}", "loopback-only", ""]
    assert not server.socket("tcp://0.0.0.0:25").is_listening


@pytest.mark.req("SET-02")
@pytest.mark.req("MON-HW-01")
def test_a_local_mail_to_root_reaches_the_surveillance_mailbox_through_the_relay():
    subject = f"preventcare-mta-test-{uuid.uuid4()}"
    _sh(server, f"echo 'from cron or smartd' | mail -s {subject} root")
    message = _wait_for_mail(subject)
    assert f"Delivered-To: {MAILBOX}" in message
    # the envelope sender is the one the relay accepts; the server is named by its Received:
    assert f"Return-Path: <{CONTRACT['smtp_relay']['sender']}>" in message
    assert re.search(r"(?m)^Received: by srv-lin01 \(Postfix", message), message
    assert "from cron or smartd" in message


# --------------------------------------------------------------------------- MON-HW-01
@pytest.mark.req("MON-HW-01")
@pytest.mark.req("SET-06")
def test_smartd_and_mdadm_mail_the_surveillance_mailbox():
    smartd = server.file("/etc/smartd.conf").content_string
    assert re.search(rf"(?m)^DEVICESCAN .* -m {re.escape(MAILBOX)} ", smartd), smartd
    # smartd's -M exec runner hands the alert to `mail`, i.e. to the satellite MTA
    assert server.file("/etc/smartmontools/run.d/10mail").exists
    assert server.service("smartmontools").is_enabled
    assert re.search(
        rf"(?m)^MAILADDR {re.escape(MAILBOX)}$", server.file("/etc/mdadm/mdadm.conf").content_string
    )


@pytest.mark.req("MON-HW-01")
def test_a_virtual_server_reports_every_hardware_item_not_applicable_never_ok():
    assert server.service("preventcare-hardware.timer").is_running
    _sh(server, "systemctl start preventcare-hardware.service")
    values = _metrics("preventcare_hardware.prom")
    items = {
        dict(labels)["component"]: (dict(labels)["device"], value)
        for (name, labels), value in values.items()
        if name == "preventcare_hardware_ok"
    }
    assert set(items) == {"raid", "disk", "fan", "psu", "battery", "nic", "tape"}
    for component, (device, value) in items.items():
        assert device == "not_applicable", component
        assert math.isnan(value), f"{component} is {value}, not NaN"


# --------------------------------------------------------------------------- MON-BK
@pytest.mark.req("SET-03")
@pytest.mark.req("MON-BK-01")
def test_the_contracts_backup_job_is_scheduled_daily_at_its_time():
    job = next(j for j in CONTRACT["backup"] if j["host"] == "srv-lin01")
    timer = "preventcare-backup-daily.timer"
    assert server.service(timer).is_enabled
    assert server.service(timer).is_running
    calendar = _sh(server, f"systemctl show -p TimersCalendar --value {timer}").stdout
    hour, minute = job["schedule"].split()[-1].split(":")
    assert f"*-*-* {int(hour):02d}:{minute}:00" in calendar, calendar


@pytest.mark.req("MON-BK-02")
@pytest.mark.req("MON-BK-03")
def test_a_successful_backup_writes_its_metrics_a_verified_archive_and_mails_the_result():
    before = time.time()
    _sh(server, "systemctl start preventcare-backup@daily.service")
    result = _backup_result("daily")
    assert result["status"] == CODES["success"]
    assert (
        before - 1
        <= result["start_timestamp_seconds"]
        <= result["end_timestamp_seconds"]
        <= time.time() + 1
    )
    archives = _sh(server, "ls /mnt/backup").stdout.split()
    newest = sorted(a for a in archives if a.startswith("daily-"))[-1]
    assert newest.endswith(".tar.gz")
    listing = _sh(server, f"tar -tzf /mnt/backup/{newest}").stdout
    assert "srv/compta/2026/novembre/grand-livre-5.dat" in listing
    assert "brouillon.tmp" not in listing  # the contract's exclude
    assert result["files"] == len([n for n in listing.splitlines() if not n.endswith("/")])
    assert result["size_bytes"] == server.file(f"/mnt/backup/{newest}").size
    _wait_for_mail("srv-lin01 backup daily: réussie")


@pytest.mark.req("MON-BK-03")
def test_a_backup_to_an_unwritable_destination_fails_with_metrics_mail_and_a_journal_error():
    _job_settings("failtest", destination="/mnt/readonly")
    try:
        done = _sh(server, "systemctl start preventcare-backup@failtest.service", check=False)
        assert done.rc != 0, "a failed backup must leave its unit failed"
        result = _backup_result("failtest")
        assert result["status"] == CODES["failed"]
        assert result["files"] == 0
        mail = _wait_for_mail("srv-lin01 backup failtest: échouée")
        assert "/mnt/readonly" in mail
        assert _sh(server, "ls -A /mnt/readonly").stdout == ""
        # MON-SYS-07: the failure is an err entry of a watched unit, counted by the collector
        _sh(server, "systemctl start preventcare-eventlog.service")
        values = _metrics("preventcare_eventlog.prom")
        counted = [v for (name, labels), v in values.items()
                   if name == "preventcare_eventlog_errors_total"
                   and ("source", "preventcare-backup@failtest.service") in labels]  # fmt: skip
        assert counted and counted[0] >= 1, values
    finally:
        _cleanup("failtest")


@pytest.mark.req("MON-BK-03")
def test_a_backup_stopped_mid_run_is_cancelled_and_a_second_run_is_locked_out():
    # /usr of the test image is a few hundred MB: long enough to be stopped mid-run.
    _job_settings("canceltest", paths=["/usr"], exclude=[], mail_to="")
    try:
        _sh(server, "systemctl start --no-block preventcare-backup@canceltest.service")
        deadline = time.monotonic() + 30
        while not _sh(
            server, "ls /mnt/backup/.partial-canceltest-* 2>/dev/null", check=False
        ).stdout:
            assert time.monotonic() < deadline, "the cancel test's archive never started"
            time.sleep(0.2)
        second = _sh(server, "preventcare-backup run canceltest", check=False)
        assert second.rc == 75, second.stdout + second.stderr
        assert "another run holds" in second.stdout
        _sh(server, "systemctl stop preventcare-backup@canceltest.service")
        result = _backup_result("canceltest")
        assert result["status"] == CODES["cancelled"]
        left = _sh(server, "ls -A /mnt/backup").stdout.split()
        assert not [name for name in left if "canceltest" in name], left
    finally:
        _cleanup("canceltest")


_TREE = (
    "cd / && find srv/compta -printf '%y %m %u:%g %p %l\\n' | sort && "
    "find srv/compta -type f -print0 | sort -z | xargs -0 sha256sum"
)


@pytest.mark.req("SET-03")
@pytest.mark.req("MON-BK-02")
def test_restore_gives_back_the_deleted_tree_with_its_checksums_owners_and_modes():
    _sh(server, "systemctl start preventcare-backup@daily.service")
    before = _sh(server, _TREE).stdout
    assert "grand-livre-5.dat" in before
    _sh(server, "rm -rf /srv/compta")
    assert not server.file("/srv/compta").exists
    # The job also saves /etc; only the deleted tree is given back, in place.
    _sh(server, "preventcare-backup restore daily --target / --only /srv/compta")
    after = _sh(server, _TREE).stdout
    # the excluded file is the only difference: it was never in the archive
    assert after == "\n".join(line for line in before.split("\n") if "brouillon.tmp" not in line)


# --------------------------------------------------------------------------- live scrape
@pytest.mark.req("SET-01")
@pytest.mark.req("MON-HW-01")
@pytest.mark.req("MON-BK-03")
@pytest.mark.req("MON-SYS-07")
def test_every_metric_and_label_the_linux_rules_read_is_in_a_live_scrape(tmp_path):
    import subprocess  # noqa: PLC0415 - only this test renders the rules

    subprocess.run(
        [sys.executable, str(ROOT / "bin" / "preventcare-rules"), "--platform", "linux",
         "--contract", str(SCENARIO / "inventory" / "group_vars" / "all" / "preventcare.yml"),
         "--out", str(tmp_path)],
        check=True, capture_output=True,
    )  # fmt: skip
    groups = yaml.safe_load((tmp_path / "preventcare-linux.rules.yml").read_text())["groups"]
    if not server.file(f"{TEXTFILE}/preventcare_backup_daily.prom").exists:
        _sh(server, "systemctl start preventcare-backup@daily.service")
    scrape = _scrape()
    problems = missing(groups, scrape)
    assert problems == [], "the rules read series the server does not give:\n" + "\n".join(
        f"  {p['alert']}: {', '.join(p['selectors'])}" for p in problems
    )
    assert "node_textfile_scrape_error 0" in scrape


@pytest.mark.req("SET-01")
def test_debians_own_textfile_collectors_are_published_too():
    # prometheus-node-exporter-collectors writes apt.prom into the folder node_exporter reads
    _sh(server, "systemctl start prometheus-node-exporter-apt.service")
    scrape = _scrape()
    assert re.search(r"(?m)^apt_upgrades_pending", scrape) or re.search(
        r"(?m)^apt_package_cache_timestamp_seconds", scrape
    ), "apt.prom is not published"


@pytest.mark.req("SET-03")
def test_a_backup_destination_that_does_not_exist_stops_the_set_up_day_before_any_change(
    tmp_path,
):
    import os  # noqa: PLC0415
    import subprocess  # noqa: PLC0415

    _sh(server, "mv /mnt/backup /mnt/backup.unplugged")
    try:
        env = {
            **os.environ,
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_LOCAL_TEMP": str(tmp_path),
        }
        done = subprocess.run(
            [str(Path(sys.executable).with_name("ansible-playbook")),
             "-i", str(SCENARIO / "inventory"), "playbooks/site_day.yml",
             "--limit", "srv-lin01:localhost"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        output = " ".join((done.stdout + done.stderr).split())  # the callback wraps lines
        assert done.returncode != 0
        assert "The backup destination /mnt/backup of job daily on srv-lin01 does not" in output
        assert "Nothing was changed on the server" in output
        assert "PLAY [Record each Linux server" not in output
    finally:
        _sh(server, "mv /mnt/backup.unplugged /mnt/backup")
