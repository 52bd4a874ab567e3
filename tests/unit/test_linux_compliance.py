"""The Linux compliance facts' parsers (VIS-03), on outputs captured in their documented formats."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from ansible.module_utils import preventcare_linux_compliance as linux

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "linux" / "compliance"
pytestmark = pytest.mark.req("VIS-03")


def fixture(name):
    return (FIXTURES / name).read_text(encoding="utf-8")


@pytest.fixture
def utc(monkeypatch):
    """Parsers read local times as the server's: the tests' server is in UTC."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_unit_states_tell_absent_stopped_and_running():
    names = ["ssh.service", "cron.service", "gone.service", "preventcare-hardware.timer"]
    states = linux.parse_unit_states(fixture("systemctl-show.txt"), names)
    assert states["ssh.service"] == {"present": True, "active": True, "enabled": True}
    assert states["cron.service"] == {"present": True, "active": False, "enabled": True}
    assert states["gone.service"]["present"] is False
    assert states["preventcare-hardware.timer"]["active"] is True


def test_boots_since_the_period_start(utc):
    starts = linux.parse_list_boots(fixture("list-boots.txt"))
    assert [linux.iso(s) for s in starts] == [
        "2026-05-10T08:00:01Z",
        "2026-06-15T08:02:11Z",
        "2026-11-03T22:12:40Z",
    ]


def test_a_bond_with_a_member_down():
    assert linux.parse_bond("bond0", fixture("bond0.txt")) == {
        "name": "bond0",
        "members": 2,
        "up": 1,
    }


def test_last_package_installation_from_dpkg_log(utc):
    assert linux.iso(linux.parse_dpkg_log_last(fixture("dpkg.log"))) == "2026-11-27T06:31:40Z"
    assert linux.parse_dpkg_log_last("2026-11-20 06:25:01 startup archives unpack\n") is None


def test_administrators_uid0_groups_and_empty_passwords():
    passwd = (
        "root:x:0:0:root:/root:/bin/bash\n"
        "toor:x:0:0::/root:/bin/sh\n"
        "alice:x:1000:1000::/home/alice:/bin/bash\n"
        "bob:x:1001:1001::/home/bob:/bin/bash\n"
        "carol:x:1002:27::/home/carol:/bin/bash\n"
    )
    group = "root:x:0:\nsudo:x:27:alice\nbob:x:1001:\n"
    shadow = "root:$y$j9T$hash:19000::::::\ntoor::19000::::::\nalice:!:19000::::::\n"
    found = {a["name"]: a for a in linux.parse_admins(passwd, group, shadow)}
    assert sorted(found) == ["alice", "carol", "root", "toor"]
    assert found["toor"]["uid0"] and found["toor"]["empty_password"]
    assert found["alice"]["empty_password"] is False
    assert linux.parse_admins(passwd, group, None)[0]["empty_password"] is None


def test_password_policy_from_login_defs_and_pwquality():
    login_defs = "# comment\nPASS_MAX_DAYS\t99999\nPASS_MIN_LEN 5\n"
    assert linux.parse_password_policy([login_defs]) == {"min_length": 5, "max_age_days": None}
    pwquality = "# minlen = 9\nminlen = 12\n"
    pam = "password requisite pam_pwquality.so retry=3 minlen=14\n"
    policy = linux.parse_password_policy(["PASS_MAX_DAYS 90\n", pwquality, pam])
    assert policy == {"min_length": 14, "max_age_days": 90}


def test_dpkg_versions_keep_installed_packages_only():
    out = "bash\t5.2.15-2+b8\tii \nfoo\t1.0\trc \nlibc6:amd64\t2.36-9\tii \n"
    assert linux.parse_dpkg_versions(out) == {"bash": "5.2.15-2+b8", "libc6": "2.36-9"}


def test_meminfo_in_bytes():
    values = linux.parse_meminfo(
        "MemTotal:       16384 kB\nMemAvailable:    8192 kB\nHugePages_Total: 0\n"
    )
    assert values["MemTotal"] == 16384 * 1024
    assert values["MemAvailable"] == 8192 * 1024
