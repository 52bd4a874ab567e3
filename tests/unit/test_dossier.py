"""The technical dossier's comparable facts and their drift (VIS-03, dossier item)."""

import os

import pytest
from ansible.module_utils.preventcare_dossier import (
    dossier_entry,
    drift,
    enabled_services,
    nfs_exports,
    samba_shares,
)

pytestmark = pytest.mark.req("VIS-03")


def test_entry_keeps_global_addresses_and_boot_services_only():
    entry = dossier_entry(
        addresses=["127.0.0.1", "10.0.0.5/24", "fe80::1%eth0", "2001:db8::5", "::1"],
        services=["ssh.service", "cron", "getty@tty1.service", "ssh"],
        shares=["smb:Data", " "],
    )
    assert entry == {
        "addresses": ["10.0.0.5", "2001:db8::5"],
        "services": ["cron", "ssh"],
        "shares": ["smb:Data"],
    }


def _server(root):
    """A server's unit folders as Debian lays them out, with each case systemctl knows."""
    lib, etc = root / "lib/systemd/system", root / "etc/systemd/system"
    for folder in (lib, etc / "multi-user.target.wants", etc / "getty.target.wants",
                   etc / "sysinit.target.requires", etc / "timers.target.wants",
                   root / "run/systemd/system"):  # fmt: skip
        folder.mkdir(parents=True)
    for unit in ("ssh", "cron", "postfix", "getty@", "chrony", "smartmontools", "fstrim"):
        (lib / f"{unit}.service").write_text("[Install]\nWantedBy=multi-user.target\n")
    wants = etc / "multi-user.target.wants"
    os.symlink("/lib/systemd/system/ssh.service", wants / "ssh.service")
    os.symlink("../../../../lib/systemd/system/postfix.service", wants / "postfix.service")
    os.symlink("/lib/systemd/system/cron.service", wants / "cron.service")  # masked below
    os.symlink("/lib/systemd/system/chrony.service", wants / "chrony.service")  # masked in /run
    os.symlink("/lib/systemd/system/gone.service", wants / "gone.service")  # package removed
    os.symlink("/dev/null", wants / "nulled.service")
    os.symlink("/lib/systemd/system/getty@.service", etc / "getty.target.wants/getty@tty1.service")
    os.symlink("/lib/systemd/system/smartmontools.service",
               etc / "sysinit.target.requires/smartmontools.service")  # fmt: skip
    os.symlink("/lib/systemd/system/fstrim.timer", etc / "timers.target.wants/fstrim.timer")
    os.symlink("/dev/null", etc / "cron.service")
    os.symlink("/dev/null", root / "run/systemd/system/chrony.service")


def test_enabled_services_are_the_install_links_systemctl_counts(tmp_path):
    """As `systemctl list-unit-files --type=service --state=enabled` (compared live with it on
    the set-up day's image, molecule/site test_setupday): masked, dangling and non-service
    links are left out, an instance counts as its template."""
    _server(tmp_path)
    assert enabled_services(str(tmp_path)) == [
        "getty@.service",
        "postfix.service",
        "smartmontools.service",
        "ssh.service",
    ]
    assert enabled_services(str(tmp_path / "nowhere")) is None


def test_share_parsers_read_smb_conf_sections_and_exports():
    conf = "[global]\n  workgroup = X\n[Compta]\n path = /srv/c\n[ print$ ]\n"
    assert samba_shares(conf) == ["smb:Compta", "smb:print$"]
    exports = '# comment\n/srv/nfs 10.0.0.0/24(rw)\n"/srv/a b" host(ro)\n\n'
    assert nfs_exports(exports) == ["nfs:/srv/nfs", "nfs:/srv/a b"]


def test_drift_lists_each_change_and_a_server_once():
    before = {
        "srv1": dossier_entry(addresses=["10.0.0.5"], services=["ssh"], shares=["smb:Data"]),
        "old": dossier_entry(addresses=["10.0.0.9"]),
    }
    after = {
        "srv1": dossier_entry(addresses=["10.0.0.6"], services=["ssh", "nginx"]),
        "new": dossier_entry(addresses=["10.0.0.7"]),
    }
    assert drift(before, after) == [
        {"host": "new", "kind": "server", "change": "added", "value": "new"},
        {"host": "old", "kind": "server", "change": "removed", "value": "old"},
        {"host": "srv1", "kind": "address", "change": "removed", "value": "10.0.0.5"},
        {"host": "srv1", "kind": "address", "change": "added", "value": "10.0.0.6"},
        {"host": "srv1", "kind": "service", "change": "added", "value": "nginx"},
        {"host": "srv1", "kind": "share", "change": "removed", "value": "smb:Data"},
    ]


def test_no_drift_between_equal_dossiers():
    same = {"a": dossier_entry(addresses=["10.0.0.1"], services=["ssh"])}
    assert drift(same, dict(same)) == []
