"""The PreventCare Monitor agent as the engineer finds it on every Linux server."""

from __future__ import annotations

import re

import pytest
import testinfra
from helpers import LINUX_HOSTS, SITE_CA, container, exporter_credentials, get

TEXTFILE_DIR = "/var/lib/prometheus/node-exporter"
HARDWARE_COLLECTORS = ("mdadm", "hwmon", "powersupplyclass", "tapestats", "netclass")


@pytest.fixture(scope="module", params=LINUX_HOSTS)
def host(request):
    """Each Linux server of the site (the relay, also a verifier host, runs no agent)."""
    return testinfra.get_host(container(request.param))


def _args(host) -> str:
    content = host.file("/etc/default/prometheus-node-exporter").content_string
    match = re.search(r'^ARGS="(.*)"$', content, re.MULTILINE)
    assert match, "ARGS= missing from /etc/default/prometheus-node-exporter"
    return match.group(1)


def _listen(host) -> str:
    return re.search(r"--web\.listen-address=(\S+)", _args(host)).group(1)


def _own_metrics(host) -> str:
    body = get(host, f"https://{_listen(host)}/metrics", exporter_credentials(), SITE_CA)
    assert not body.startswith(("HTTP ", "ERROR ")), body
    return body


@pytest.mark.req("MON-SYS-09")
def test_node_exporter_runs_and_starts_at_boot(host):
    service = host.service("prometheus-node-exporter")
    assert service.is_running
    assert service.is_enabled


@pytest.mark.req("SEC-03")
def test_node_exporter_answers_on_the_scraped_address_only(host):
    address = _listen(host)
    ip = address.rsplit(":", 1)[0]
    assert ip not in ("", "0.0.0.0", "[::]"), f"bound to every interface: {address}"
    assert ip in host.interface.default().addresses
    assert host.socket(f"tcp://{address}").is_listening
    assert not host.socket("tcp://0.0.0.0:9100").is_listening
    assert not host.socket("tcp://:::9100").is_listening


@pytest.mark.req("MON-BK-03")
@pytest.mark.req("MON-SYS-07")
def test_textfile_collector_reads_the_projects_folder(host):
    folder = host.file(TEXTFILE_DIR)
    assert folder.is_directory
    assert (folder.user, folder.group, folder.mode) == ("root", "root", 0o755)
    assert f"--collector.textfile.directory={TEXTFILE_DIR}" in _args(host).split()


@pytest.mark.req("MON-HW-01")
@pytest.mark.parametrize("collector", HARDWARE_COLLECTORS)
def test_hardware_collector_is_enabled(host, collector):
    assert f"--collector.{collector}" in _args(host).split()
    # The exporter reports every enabled collector; whether it succeeds depends on
    # the hardware (a container has no RAID, sensors or tape drive).
    assert f'node_scrape_collector_success{{collector="{collector}"}}' in _own_metrics(host)


@pytest.mark.req("MON-SYS-08")
@pytest.mark.req("MON-SYS-07")
@pytest.mark.parametrize("collector", ["systemd", "textfile"])
def test_systemd_and_textfile_collectors_work(host, collector):
    assert f"--collector.{collector}" in _args(host).split()
    assert f'node_scrape_collector_success{{collector="{collector}"}} 1' in _own_metrics(host)


@pytest.mark.req("MON-HW-01")
def test_ipmi_exporter_only_where_a_bmc_exists(host):
    # The test hosts have no BMC (/dev/ipmi0): the IPMI exporter must not be installed.
    assert not host.file("/dev/ipmi0").exists
    assert not host.package("prometheus-ipmi-exporter").is_installed
