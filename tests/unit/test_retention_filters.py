"""VIS-03: the site's retention is the gap between two visits (VIS-01 cadence) plus a margin."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from preventcare_retention_filters import FilterModule

FILTERS = FilterModule().filters()
servers = FILTERS["preventcare_visit_servers"]
retention = FILTERS["preventcare_visit_retention"]
size = FILTERS["preventcare_retention_size"]

HOSTVARS = {
    "mon01": {"preventcare_roles": ["monitor"]},
    "srv-lin01": {"preventcare_roles": ["accounting"]},
    "srv-ad01": {"preventcare_roles": ["domain_controller", "file_server"]},
    "srv-both": {"preventcare_roles": ["monitor", "file_server"]},
    "srv-bare": {},
}


@pytest.mark.req("VIS-01")
def test_a_dedicated_monitor_is_not_a_client_server():
    hosts = ["srv-lin01", "mon01", "srv-ad01", "srv-both", "srv-bare", "srv-lin01"]
    assert servers(hosts, HOSTVARS) == ["srv-ad01", "srv-bare", "srv-both", "srv-lin01"]


@pytest.mark.req("VIS-03")
@pytest.mark.parametrize(
    ("count", "margin", "expected"),
    [
        (0, 30, "213d"),  # no server listed: the booklet's two visits a year
        (1, 30, "213d"),  # 2 visits: 183 days apart
        (3, 30, "122d"),  # 4 visits: 92 days
        (9, 30, "67d"),  # 10 visits: 37 days
        (1, 0, "183d"),
    ],
)
def test_retention_is_the_gap_between_visits_plus_the_margin(count, margin, expected):
    assert retention(count, margin) == expected
    assert retention([f"s{i}" for i in range(count)], margin) == expected


@pytest.mark.parametrize("bad", ["three", -1, None, True])
def test_bad_input_is_a_filter_error(bad):
    with pytest.raises(AnsibleFilterError, match="preventcare_visit_retention"):
        retention(bad)
    with pytest.raises(AnsibleFilterError, match="margin_days"):
        retention(2, bad if bad != -1 else -5)


def test_servers_need_a_list():
    with pytest.raises(AnsibleFilterError, match="expected a list of host names"):
        servers("srv-lin01", HOSTVARS)


@pytest.mark.req("VIS-03")
@pytest.mark.parametrize(
    ("kept", "servers", "expected"),
    [
        ("213d", 1, "11GB"),  # (12 + 20) x 213 x 1.5 = 10.2 GB
        ("122d", 3, "11GB"),  # (36 + 20) x 122 x 1.5 = 10.2 GB
        ("48d", 20, "19GB"),  # (240 + 20) x 48 x 1.5 = 18.7 GB
        ("1y", ["a", "b"], "25GB"),  # (24 + 20) x 365 x 1.5 = 24.1 GB, rounded up
        ("1h", 1, "1GB"),  # never below 1GB
    ],
)
def test_the_size_cap_follows_the_retention_and_the_servers(kept, servers, expected):
    assert size(kept, servers, 12, 20) == expected


def test_a_bad_retention_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match=r"preventcare_retention_size: .*not a Prometheus"):
        size("six months", 1, 12, 20)
