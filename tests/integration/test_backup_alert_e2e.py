"""Backup results end to end (MON-BK-03): from the Linux backup manager to the mailbox.

A monitor host and a Linux server, converged with playbooks/site_day.yml, mail through a real
SMTP server on this machine (aiosmtpd), which the containers reach as host.containers.internal.
The server's contract has two jobs: `daily` (/srv/compta to the backup disk /mnt/backup) and
`offsite` (to /mnt/nas, a share that is unmounted after the set-up day). What the
surveillance team reads, in this order (Alertmanager groups by alert name and server: the
"not received" of `daily` is proved before `offsite` can join its group):
- `daily` succeeds, then no result comes within the window: the BackupNotReceived alert;
- the `offsite` run fails: the backup manager's own result mail through the server's
  satellite MTA, and the BackupFailed alert of the site's Prometheus and Alertmanager.

Only the rules under test are changed, through the contract's threshold overrides: they are
evaluated every 15 minutes in production, here every 30 s like the counters; the "not
received" window is 36 s (0.01 h) instead of 26 h so that the test does not wait a day.
Scrape interval, group_wait and every other setting stay the production ones.
"""

from __future__ import annotations

import time

import pytest
import yaml
from required_tools import require
from site_lab import HOST_FROM_CONTAINERS, ROOT, LabError, MailSink, SiteLab

pytestmark = pytest.mark.podman

MONITOR, SERVER = "mon01", "srv-lin01"
OVERRIDES = {
    "bk_failed": {"interval": "30s"},
    "bk_not_received": {"value": 0.01, "interval": "30s"},
}
TABLE = yaml.safe_load((ROOT / "data" / "thresholds.yml").read_text(encoding="utf-8"))


def _edit(port: int):
    def edit(contract: dict):
        contract["smtp_relay"] = {
            "host": HOST_FROM_CONTAINERS,
            "port": port,
            "tls": "none",
            "sender": contract["smtp_relay"]["sender"],
        }
        contract["thresholds"] = {**contract.get("thresholds", {}), **OVERRIDES}
        daily = next(job for job in contract["backup"] if job["host"] == SERVER)
        daily["what"] = ["/srv/compta"]
        contract["backup"].append(
            {**daily, "name": "offsite", "where": "/mnt/nas", "schedule": "daily 01:00"}
        )

    return edit


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    require("podman", "the backup alert test runs real test hosts")
    sink = MailSink().start()
    lab = SiteLab(
        tmp_path_factory.mktemp("backup-e2e"),
        prefix="pc-sensors-e2e",
        subnet_prefix="10.89.232",
        servers=(SERVER,),
        image="localhost/preventcare-sensors:test",
        image_script="tests/containers/sensors/build-image.sh",
    )
    try:
        try:
            lab.start()
            # The client's backup disk and NAS share, and the data the contract saves.
            lab.shell(
                SERVER,
                "mkdir -p /mnt/backup /mnt/nas /srv/compta && "
                "head -c 100000 /dev/urandom >/srv/compta/grand-livre.dat",
            )
            lab.write_inventory(_edit(sink.port))
            lab.converge()
        except LabError as exc:
            pytest.fail(f"the test site could not be set up: {exc}", pytrace=False)
        yield lab, sink
    finally:
        lab.stop()
        sink.stop()


def _subject(level: str, alert: str) -> str:
    return f"[PreventCare martin] {level} · MON-BK-03 · {SERVER} · {alert}"


@pytest.mark.req("MON-BK-03")
@pytest.mark.req("MON-BK-01")
def test_a_backup_not_received_within_its_window_is_alerted(site, capsys):
    lab, sink = site
    done = lab.exec(SERVER, "systemctl", "start", "preventcare-backup@daily.service", check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    finished = time.time()

    def fresh():
        found = lab.query(
            f'preventcare_backup_last_status{{instance="{SERVER}",backup_job="daily"}}'
        )
        return found and found[0]["value"][1] == "0"

    assert lab.wait_for(fresh, timeout=90), "Prometheus never saw the successful daily backup"
    expected = _subject("significative", "BackupNotReceived")

    def about_daily(arrival):
        # a grouped mail ("x2" in its subject) is the same alert for several jobs of the server
        return arrival.subject.startswith(expected) and f"{SERVER} (daily)" in arrival.body

    window = OVERRIDES["bk_not_received"]["value"] * 3600
    mail = sink.wait_for(about_daily, timeout=window + 240)
    assert mail, f"no {expected!r} for daily; received {[a.subject for a in sink.arrivals]}"
    assert mail.at - finished >= window, "alerted before the window had passed"
    with capsys.disabled():
        print(f"\nMON-BK-03: not received alert {mail.at - finished:.1f} s after the last result "
              f"(window {window:.0f} s)")  # fmt: skip


@pytest.mark.req("MON-BK-03")
@pytest.mark.req("ALR-01")
def test_a_failed_backup_reaches_the_mailbox_as_the_managers_mail_and_as_an_alert(
    site, capsys, record_property
):
    lab, sink = site
    assert lab.wait_for(lambda: lab.targets_up("preventcare-node"), timeout=90)
    lab.shell(SERVER, "umount /mnt/nas 2>/dev/null; rmdir /mnt/nas")  # the share is gone
    started = time.time()
    failed = lab.exec(
        SERVER, "systemctl", "start", "preventcare-backup@offsite.service", check=False
    )
    assert failed.returncode != 0

    result = sink.wait_for(lambda a: "backup offsite: échouée" in a.subject, timeout=60)
    assert result, (
        f"no result mail from the backup manager; received {[a.subject for a in sink.arrivals]}"
    )
    assert "/mnt/nas" in result.body

    expected = _subject("significative", "BackupFailed")
    alert = sink.wait_for(lambda a: a.subject == expected, timeout=240)
    assert alert, f"no {expected!r}; received {[a.subject for a in sink.arrivals]}"
    assert alert.rcpt_tos == ["surveillance@preventcare.example"]
    summary = TABLE["items"]["bk_failed"]["summary"]["fr"]
    assert f"{summary[:1].upper()}{summary[1:]} sur {SERVER} (offsite)" in alert.body, alert.body
    assert "Criticité : significative" in alert.body
    delay = alert.at - started
    record_property("backup_failed_alert_delay_seconds", round(delay, 1))
    with capsys.disabled():
        print(f"\nMON-BK-03: failed backup mailed as BackupFailed {delay:.1f} s after the run")
