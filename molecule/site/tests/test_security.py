"""SEC-03 on real containers: the exporters and the stack answer only whom they should.

mon01 is the monitor host, srv-lin02 plays a third machine of the LAN (neither the monitor
host nor the contract's administration network): it must not get a scrape of srv-lin01.
"""

from __future__ import annotations

import pytest
import testinfra
from helpers import (
    ALERTMANAGER,
    BLACKBOX,
    PROMETHEUS,
    SITE_CA,
    container,
    exporter_credentials,
    get,
    vault,
    web_credentials,
)

pytestmark = pytest.mark.req("SEC-03")


@pytest.fixture(scope="module")
def monitor():
    return testinfra.get_host(container("mon01"))


@pytest.fixture(scope="module")
def third():
    return testinfra.get_host(container("srv-lin02"))


@pytest.fixture(scope="module")
def server():
    return testinfra.get_host(container("srv-lin01"))


def test_the_monitor_hosts_scrape_works_over_tls_with_its_credentials(monitor):
    body = get(monitor, "https://srv-lin01:9100/metrics", exporter_credentials(), SITE_CA)
    assert "node_exporter_build_info" in body


def test_a_scrape_without_credentials_is_refused(monitor):
    assert get(monitor, "https://srv-lin01:9100/metrics", ca=SITE_CA) == "HTTP 401"
    wrong = (exporter_credentials()[0], "not-the-password")
    assert get(monitor, "https://srv-lin01:9100/metrics", wrong, SITE_CA) == "HTTP 401"


def test_plain_http_gets_no_metrics(monitor):
    body = get(monitor, "http://srv-lin01:9100/metrics", exporter_credentials())
    assert "node_exporter_build_info" not in body


def test_a_third_machine_cannot_reach_the_exporter_even_with_credentials(third):
    # The firewall answers with a TCP reset: the port is closed to it.
    body = get(third, "https://srv-lin01:9100/metrics", exporter_credentials(), SITE_CA)
    assert body.startswith("ERROR "), body
    assert "refused" in body.lower() or "reset" in body.lower(), body


def test_the_servers_firewall_table_is_loaded_and_kept_at_boot(server):
    service = server.service("preventcare-firewall")
    assert service.is_enabled
    rules = server.check_output("nft list table inet preventcare_exporters")
    assert "tcp dport { 9100, 9290 }" in rules
    assert "reject with tcp reset" in rules


def test_the_exporter_password_is_only_hashed_on_the_servers(server):
    password = exporter_credentials()[1]
    found = server.run(f"grep -rlF -- '{password}' /etc /var/lib/prometheus")
    assert found.rc == 1, f"the exporter password is in clear in: {found.stdout}"
    web = server.file("/etc/prometheus/preventcare-exporter-web.yml")
    assert (web.user, web.group, web.mode) == ("root", "prometheus", 0o640)
    assert "$2b$" in web.content_string
    key = server.file("/etc/prometheus/preventcare-tls/exporter.key")
    assert (key.user, key.group, key.mode) == ("root", "prometheus", 0o640)


@pytest.mark.parametrize("url", [f"{PROMETHEUS}/api/v1/targets", f"{ALERTMANAGER}/api/v2/status",
                                 f"{BLACKBOX}/metrics"])  # fmt: skip
def test_the_stack_asks_for_its_user(monitor, url):
    assert get(monitor, url) == "HTTP 401"
    assert not get(monitor, url, web_credentials()).startswith(("HTTP ", "ERROR "))


def test_nobody_can_silence_alerts_without_the_password(monitor):
    silence = f"{ALERTMANAGER}/api/v2/silences"
    assert get(monitor, silence) == "HTTP 401"
    assert (
        vault()["vault_preventcare_web_password"]
        not in monitor.file("/etc/prometheus/preventcare-web.yml").content_string
    )
