"""What an engineer sees on a server after the set-up day's first step."""

import json

import pytest


@pytest.mark.req("SET-04")
def test_identity_fact_names_the_client_and_site(host):
    fact = host.file("/etc/ansible/facts.d/preventcare.fact")
    assert fact.exists
    assert fact.user == "root"
    assert fact.mode == 0o644
    data = json.loads(fact.content_string)
    assert data["client_id"] == "martin"
    assert data["site"] == "villeurbanne"
    assert data["monitor_host"] == "mon01"


def test_state_directory_exists(host):
    state = host.file("/var/lib/preventcare")
    assert state.is_directory
    assert state.mode == 0o755


def test_host_booted_with_systemd(host):
    # Proves the test host is a real systemd machine, as the roles expect.
    assert host.run("systemctl is-system-running --wait").stdout.strip() in {"running", "degraded"}
