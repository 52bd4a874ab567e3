"""The console's mail intake: authentic mails become Zabbix values, the rest is quarantined.

The Zabbix sender is replaced by a recorder here (the real zabbix_sender and Zabbix server are
exercised by molecule/console); everything else, state and quarantine files included, is real.
"""

from __future__ import annotations

import copy
import json
import os
import stat
from pathlib import Path

import pytest
from ansible.module_utils.preventcare_alertmail import sign_message
from ansible.module_utils.preventcare_intake import (
    APPLIED_KEY,
    HEARTBEAT_KEY,
    QUARANTINED_KEY,
    Config,
    ConfigError,
    SendError,
    load_config,
    process,
    sender_input,
)
from test_alertmail import BODY, KEY, NOW, _mail

CLIENTS = {"martin": {"key": KEY.decode(), "hosts": ["mon01", "srv-lin01"], "monitor": "mon01"}}


class Recorder:
    def __init__(self, accept=True, fail=False):
        self.sent, self.accept, self.fail = [], accept, fail

    def __call__(self, config, values):
        if self.fail:
            raise SendError("connection refused")
        self.sent.append(list(values))
        return self.accept if any(k.startswith("preventcare.alert") for _, k, _ in values) else True

    def alert_values(self):
        return [
            v for batch in self.sent for v in batch if v[1] not in (APPLIED_KEY, QUARANTINED_KEY)
        ]

    def last_counters(self):
        return {k: v for _, k, v in self.sent[-1]}


@pytest.fixture
def config(tmp_path):
    return Config(clients=copy.deepcopy(CLIENTS), spool=str(tmp_path / "spool"))


def _alert(**changes):
    body = copy.deepcopy(BODY)
    body["alerts"][0].update(changes)
    return body


def _signed(body, at=NOW):
    return sign_message(_mail(body), KEY, now=at)


@pytest.mark.req("ALR-01")
@pytest.mark.req("SEC-04")
def test_a_firing_then_resolved_alert_raises_then_clears_the_hosts_item(config):
    sender = Recorder()
    assert process(_signed(_alert()), config, NOW, sender) == ("applied", "")
    assert sender.alert_values() == [
        ("martin.srv-lin01", "preventcare.alert[sys_service_down]", "1")
    ]
    resolved = _alert(status="resolved", ends_at=NOW + 30)
    assert process(_signed(resolved, NOW + 40), config, NOW + 40, sender)[0] == "applied"
    assert sender.alert_values()[-1] == (
        "martin.srv-lin01",
        "preventcare.alert[sys_service_down]",
        "0",
    )
    assert sender.last_counters() == {APPLIED_KEY: "2", QUARANTINED_KEY: "0"}


@pytest.mark.req("ALR-01")
def test_two_alerts_of_one_rule_on_one_host_stay_a_problem_until_both_resolve(config):
    sender = Recorder()
    process(_signed(_alert(fingerprint="aaaa")), config, NOW, sender)
    process(_signed(_alert(fingerprint="bbbb"), NOW + 1), config, NOW + 1, sender)
    process(
        _signed(_alert(fingerprint="aaaa", status="resolved"), NOW + 2), config, NOW + 2, sender
    )
    assert [v[2] for v in sender.alert_values()] == ["1", "2", "1"]


@pytest.mark.req("ALR-01")
def test_a_late_repeat_of_a_firing_mail_does_not_reopen_a_resolved_alert(config):
    sender = Recorder()
    process(_signed(_alert(status="resolved", ends_at=NOW), NOW + 60), config, NOW + 60, sender)
    process(_signed(_alert(), NOW), config, NOW + 61, sender)  # signed earlier, arrives later
    assert [v[2] for v in sender.alert_values()] == ["0", "0"]


@pytest.mark.req("MON-TEL-01")
def test_the_watchdog_refreshes_the_monitors_heartbeat_item(config):
    sender = Recorder()
    watchdog = _alert(alert="Watchdog", item="tel_watchdog", instance="mon01", site="")
    process(_signed(watchdog), config, NOW, sender)
    assert sender.alert_values() == [("martin.mon01", HEARTBEAT_KEY, str(NOW))]


@pytest.mark.req("ALR-01")
def test_a_probe_target_that_is_no_server_belongs_to_the_monitor_host(config):
    sender = Recorder()
    process(_signed(_alert(instance="10.10.1.254", item="tel_vpn_down")), config, NOW, sender)
    assert sender.alert_values() == [("martin.mon01", "preventcare.alert[tel_vpn_down]", "1")]


def _quarantined(config):
    folder = os.path.join(config.spool, "quarantine")
    notes = sorted(n for n in os.listdir(folder) if n.endswith(".json"))
    return [json.loads(Path(folder, n).read_text(encoding="utf-8")) for n in notes]


@pytest.mark.req("SEC-04")
@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (_mail(), "unsigned"),
        (sign_message(_mail(), b"not-the-key", NOW), "forged"),
        (_mail(block="Bonjour, ceci n'est pas une alerte."), "malformed"),
    ],
)
def test_a_mail_that_is_not_authentic_is_kept_counted_and_never_applied(config, raw, reason):
    sender = Recorder()
    assert process(raw, config, NOW, sender)[0] == reason
    assert sender.alert_values() == []
    notes = _quarantined(config)
    assert [n["reason"] for n in notes] == [reason]
    kept = [n for n in os.listdir(os.path.join(config.spool, "quarantine")) if n.endswith(".eml")]
    path = os.path.join(config.spool, "quarantine", kept[0])
    assert Path(path).read_bytes() == raw
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert sender.last_counters() == {APPLIED_KEY: "0", QUARANTINED_KEY: "1"}


@pytest.mark.req("SEC-04")
def test_values_zabbix_refuses_are_quarantined_as_not_applied(config):
    sender = Recorder(accept=False)
    assert process(_signed(_alert()), config, NOW, sender)[0] == "not_applied"
    assert [n["reason"] for n in _quarantined(config)] == ["not_applied"]


@pytest.mark.req("ALR-01")
def test_an_unreachable_zabbix_defers_the_mail_and_changes_no_state(config):
    with pytest.raises(SendError):
        process(_signed(_alert()), config, NOW, Recorder(fail=True))
    sender = Recorder()
    process(_signed(_alert(fingerprint="cccc")), config, NOW, sender)
    assert sender.alert_values() == [
        ("martin.srv-lin01", "preventcare.alert[sys_service_down]", "1")
    ]
    assert sender.last_counters()[APPLIED_KEY] == "1"


def test_sender_input_quotes_every_field():
    assert sender_input([('a"b', "k[x]", "1")]) == '"a\\"b" "k[x]" "1"\n'


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "cannot use"),
        ('{"clients": {"martin": {"hosts": [], "monitor": "mon01"}}}', "no signing key"),
        ('{"clients": {"martin": {"key": "k"}}}', "lacks its hosts"),
    ],
)
def test_a_bad_configuration_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "intake.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_config(str(path))


@pytest.mark.req("SEC-04")
def test_the_keys_come_from_their_own_file_and_a_client_without_one_is_refused(tmp_path):
    settings = tmp_path / "intake.json"
    settings.write_text(
        json.dumps({"clients": {"martin": {"hosts": ["mon01"], "monitor": "mon01"}}})
    )
    keys = tmp_path / "signing_keys"
    keys.write_text(json.dumps({"martin": "k-martin"}))
    assert load_config(str(settings), str(keys)).keys == {"martin": b"k-martin"}
    keys.write_text(json.dumps({"dupont": "k-dupont"}))
    with pytest.raises(ConfigError, match="'martin' has no signing key"):
        load_config(str(settings), str(keys))
    with pytest.raises(ConfigError, match="cannot use the signing keys"):
        load_config(str(settings), str(tmp_path / "absent"))
