"""The technical dossier's comparable facts and their drift (VIS-03, dossier item)."""

import pytest
from ansible.module_utils.preventcare_dossier import dossier_entry, drift, nfs_exports, samba_shares

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
