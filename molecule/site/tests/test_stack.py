"""The site's monitoring stack on the monitor host, seen through its own HTTP APIs."""

from __future__ import annotations

import json
import re
import uuid
from urllib.parse import quote

import pytest
import testinfra
import yaml
from helpers import (
    ALERTMANAGER,
    BLACKBOX,
    LINUX_HOSTS,
    PROMETHEUS,
    WINDOWS_HOSTS,
    api,
    container,
    contract,
    fetch,
    thresholds,
    wait_for,
)


@pytest.fixture(scope="module")
def monitor():
    """The monitor host: these tests run once, whichever hosts testinfra is given."""
    return testinfra.get_host(container("mon01"))


SERVICES = ("prometheus", "prometheus-alertmanager", "prometheus-blackbox-exporter")


def _targets(monitor):
    """Active targets once every one of them has been scraped at least once."""

    def probe():
        targets = api(monitor, f"{PROMETHEUS}/api/v1/targets?state=active")["data"]["activeTargets"]
        return targets if all(t["health"] != "unknown" for t in targets) else None

    targets = wait_for(probe, timeout=60)
    assert targets, "Prometheus has not scraped every target within 60 s"
    return targets


def _rules(monitor):
    groups = api(monitor, f"{PROMETHEUS}/api/v1/rules?type=alert")["data"]["groups"]
    return [rule for group in groups for rule in group["rules"]]


def _alertmanager_config(monitor) -> dict:
    status = api(monitor, f"{ALERTMANAGER}/api/v2/status")
    return yaml.safe_load(status["config"]["original"])


def _route(config, alertname):
    for route in config["route"].get("routes", []):
        if f'alertname="{alertname}"' in route.get("matchers", []):
            return route
    raise AssertionError(f"no Alertmanager route for {alertname}")


def _seconds(duration: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([smhd])", duration))


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _promql(monitor, query: str):
    return api(monitor, f"{PROMETHEUS}/api/v1/query?query={quote(query, safe='')}")["data"][
        "result"
    ]


def _monitor_site(monitor) -> str:
    fact = monitor.file("/etc/ansible/facts.d/preventcare.fact").content_string
    return json.loads(fact)["site"]


@pytest.mark.req("MON-SYS-09")
@pytest.mark.parametrize("name", SERVICES)
def test_stack_service_runs_and_starts_at_boot(monitor, name):
    service = monitor.service(name)
    assert service.is_running
    assert service.is_enabled


@pytest.mark.req("SEC-03")
@pytest.mark.parametrize("port", [9090, 9093, 9115])
def test_stack_answers_on_loopback_only(monitor, port):
    assert monitor.socket(f"tcp://127.0.0.1:{port}").is_listening
    assert not monitor.socket(f"tcp://0.0.0.0:{port}").is_listening
    assert not monitor.socket(f"tcp://:::{port}").is_listening


@pytest.mark.parametrize(
    ("path", "group", "mode"),
    [
        ("/etc/prometheus/prometheus.yml", "prometheus", 0o640),
        ("/etc/prometheus/alertmanager.yml", "prometheus", 0o640),
        ("/etc/prometheus/blackbox.yml", "root", 0o644),
        ("/etc/prometheus/rules/preventcare-linux.yml", "root", 0o644),
        ("/etc/prometheus/rules/preventcare-windows.yml", "root", 0o644),
        ("/etc/prometheus/rules/preventcare-site.yml", "root", 0o644),
        ("/etc/prometheus/alertmanager_templates/preventcare.tmpl", "root", 0o644),
    ],
)
def test_config_file_is_in_place(monitor, path, group, mode):
    config = monitor.file(path)
    assert config.is_file
    assert (config.user, config.group, config.mode) == ("root", group, mode)


@pytest.mark.req("SET-01")
@pytest.mark.req("MON-SYS-09")
def test_every_linux_server_is_scraped_and_up(monitor):
    params = thresholds()["params"]
    job = params["linux_job"]
    nodes = {t["labels"]["instance"]: t for t in _targets(monitor) if t["labels"]["job"] == job}
    assert set(nodes) == set(LINUX_HOSTS)
    for name, target in nodes.items():
        assert target["health"] == "up", f"{name}: {target['lastError']}"
        # SEC-03: over TLS, with the exporters' credentials.
        assert target["scrapeUrl"].startswith("https://")
        assert target["scrapeUrl"].endswith(":9100/metrics")


@pytest.mark.req("SET-01")
def test_every_windows_server_is_a_scrape_target(monitor):
    # No Windows monitor runs here: the targets exist, on windows_exporter's port,
    # and are down - which is what MonitoringAgentDown (MON-SYS-09) alerts on.
    params = thresholds()["params"]
    targets = [t for t in _targets(monitor) if t["labels"]["job"] == params["windows_job"]]
    assert {t["labels"]["instance"] for t in targets} == set(WINDOWS_HOSTS)
    assert all(t["scrapeUrl"].endswith(":9182/metrics") for t in targets)


@pytest.mark.req("MON-TEL-02")
@pytest.mark.req("MON-AV-01")
def test_every_other_scrape_target_is_up(monitor):
    params = thresholds()["params"]
    others = [t for t in _targets(monitor) if t["labels"]["job"] != params["windows_job"]]
    down = {
        f"{t['labels']['job']}/{t['labels']['instance']}": t["lastError"]
        for t in others
        if t["health"] != "up"
    }
    assert not down
    probes = {t["labels"]["job"]: t for t in others}
    # The VPN peer of every other site, and the antivirus console, are probed.
    here = _monitor_site(monitor)
    other_sites = [s for s in contract()["sites"] if s["name"] != here and s.get("vpn_peer")]
    vpn = [t for t in others if t["labels"]["job"] == params["vpn_probe_job"]]
    assert {t["labels"]["instance"] for t in vpn} == {s["vpn_peer"] for s in other_sites}
    assert "module=icmp" in vpn[0]["scrapeUrl"]
    antivirus = probes[params["antivirus_probe_job"]]
    assert antivirus["labels"]["instance"].endswith(":443")
    assert "module=tls_connect" in antivirus["scrapeUrl"]


@pytest.mark.req("MON-TEL-02")
def test_blackbox_icmp_probe_measures_a_reachable_host(monitor):
    # Proves the ICMP capability: a VPN peer that answers is seen as up, with its latency.
    metrics = fetch(monitor, f"{BLACKBOX}/probe?module=icmp&target=srv-lin01")
    assert "probe_success 1" in metrics
    assert 'probe_icmp_duration_seconds{phase="rtt"}' in metrics


@pytest.mark.req("ALR-02")
def test_every_requirement_of_the_thresholds_is_in_the_loaded_rules(monitor):
    table = thresholds()
    items = table["items"].values()
    expected = {item["requirement"] for item in items if item.get("enabled", True)}
    rules = _rules(monitor)
    loaded = {rule["labels"].get("requirement") for rule in rules}
    assert expected <= loaded, f"missing: {sorted(expected - loaded)}"
    levels = set(table["levels"])
    assert all(rule["labels"].get("criticality") in levels for rule in rules)


@pytest.mark.req("MON-SYS-05")
def test_contract_override_reaches_the_live_rules(monitor):
    value = contract()["thresholds"]["MON-SYS-05"]["value"]
    processor = [r for r in _rules(monitor) if r["labels"].get("requirement") == "MON-SYS-05"]
    assert len(processor) == 2  # Linux and Windows metric names
    assert all(r["query"].endswith(f"> {value}") for r in processor)


@pytest.mark.req("MON-SYS-08")
def test_systemd_unit_states_reach_prometheus(monitor):
    def probe():
        query = 'node_systemd_unit_state{name="systemd-journald.service",state="active"}'
        series = _promql(monitor, query)
        return series if len(series) == len(LINUX_HOSTS) else None

    series = wait_for(probe, timeout=45)
    assert series, "systemd unit states missing from Prometheus"
    assert {s["metric"]["instance"] for s in series} == set(LINUX_HOSTS)
    assert all(s["value"][1] == "1" for s in series)


@pytest.mark.req("MON-BK-03")
@pytest.mark.req("MON-SYS-07")
def test_textfile_metrics_of_a_server_reach_prometheus(monitor):
    server = testinfra.get_host(container("srv-lin01"))
    token = uuid.uuid4().hex[:12]
    path = "/var/lib/prometheus/node-exporter/molecule_probe.prom"
    server.check_output(f"printf 'preventcare_molecule_probe{{token=\"{token}\"}} 1\\n' > {path}")
    try:
        query = f'preventcare_molecule_probe{{token="{token}"}}'
        found = wait_for(lambda: _promql(monitor, query), timeout=45)
    finally:
        server.run(f"rm -f {path}")
    assert found and found[0]["metric"]["instance"] == "srv-lin01"


@pytest.mark.req("MON-TEL-01")
@pytest.mark.req("ALR-01")
def test_watchdog_fires_and_reaches_alertmanager(monitor):
    def probe():
        watchdog = quote('alertname="Watchdog"')
        alerts = api(monitor, f"{ALERTMANAGER}/api/v2/alerts?filter={watchdog}")
        return alerts or None

    alerts = wait_for(probe, timeout=90)
    assert alerts, "the Watchdog never reached Alertmanager"
    assert alerts[0]["labels"]["requirement"] == "MON-TEL-01"
    assert alerts[0]["labels"]["instance"] == contract()["monitor_host"]
    assert [r["name"] for r in alerts[0]["receivers"]] == ["preventcare-surveillance"]


@pytest.mark.req("MON-TEL-01")
def test_watchdog_is_mailed_every_hour(monitor):
    assert _seconds(_route(_alertmanager_config(monitor), "Watchdog")["repeat_interval"]) == 3600


@pytest.mark.req("MON-TEL-02")
@pytest.mark.parametrize("alertname", ["SiteVpnLinkDown", "SiteLinkLatencyHigh"])
def test_link_alerts_repeat_until_the_link_is_restored(monitor, alertname):
    route = _route(_alertmanager_config(monitor), alertname)
    assert _seconds(route["repeat_interval"]) <= 3600
    assert "active_time_intervals" not in route and "mute_time_intervals" not in route


@pytest.mark.req("MON-SYS-06")
def test_low_disk_is_delivered_once_a_day_at_3_local_time(monitor):
    config = _alertmanager_config(monitor)
    route = _route(config, "DiskSpaceLow")
    [name] = route["active_time_intervals"]
    [interval] = next(t["time_intervals"] for t in config["time_intervals"] if t["name"] == name)
    assert interval["location"] == contract()["timezone"]
    [times] = interval["times"]
    assert times["start_time"] == "03:00"
    window = 60 * (_minutes(times["end_time"]) - _minutes(times["start_time"]))
    group_interval = _seconds(route.get("group_interval", config["route"]["group_interval"]))
    # One flush always falls inside the window, and one mail only per window.
    assert group_interval <= window < _seconds(route["repeat_interval"]) < 86400


@pytest.mark.req("MON-SYS-09")
@pytest.mark.req("ALR-01")
def test_alerts_are_mailed_within_a_minute_through_the_relay(monitor):
    config = _alertmanager_config(monitor)
    relay = contract()["smtp_relay"]
    prometheus = yaml.safe_load(api(monitor, f"{PROMETHEUS}/api/v1/status/config")["data"]["yaml"])
    # Collection and notification take at most half of the minute; rule
    # evaluation (the table's intervals) has the rest.
    scrape = _seconds(prometheus["global"]["scrape_interval"])
    assert scrape + _seconds(config["route"]["group_wait"]) <= 30
    assert config["global"]["smtp_smarthost"] == f"{relay['host']}:{relay['port']}"
    assert config["global"]["smtp_require_tls"] is (relay["tls"] == "starttls")
    [receiver] = config["receivers"]
    assert receiver["name"] == config["route"]["receiver"]
    assert receiver["email_configs"][0]["to"] == contract()["surveillance_mailbox"]
    language = contract().get("language", "fr")
    assert f"preventcare.{language}.subject" in receiver["email_configs"][0]["headers"]["Subject"]


def test_alertmanager_runs_single_site_without_clustering(monitor):
    assert api(monitor, f"{ALERTMANAGER}/api/v2/status")["cluster"]["status"] == "disabled"


def test_vis03_retention_covers_the_time_between_two_visits(monitor):
    """The example contract gives no retention: the role derives it from the visit cadence."""
    flags = api(monitor, f"{PROMETHEUS}/api/v1/status/flags")["data"]
    # srv-ad01, srv-app01, srv-lin01, srv-lin02 (mon01 is only the monitor): 2 + 3 visits a
    # year, ceil(365 / 5) = 73 days apart, plus the 30-day margin.
    assert flags["storage.tsdb.retention.time"] == "103d"
    # (4 x 12 MB + 20 MB) x 103 days x 1.5 = 10.5 GB -> 11GB; Prometheus counts in GiB.
    assert flags["storage.tsdb.retention.size"] == "11GiB"
