"""The site's metric retention, derived from the visit cadence (VIS-01, VIS-03).

The visit sheet lists the alerts since the last visit, read from the site's Prometheus: its
retention must cover the longest gap between two visits (module_utils/preventcare_calendar.py,
the one cadence rule, also used by the visit plan) plus a margin for a visit that slips.
"""

from __future__ import annotations

import math

from ansible.errors import AnsibleFilterError
from ansible.module_utils.preventcare_calendar import days_between_visits
from ansible.module_utils.preventcare_thresholds import parse_duration

# preventcare_roles of a host that is only the site's monitor appliance, not a client server.
MONITOR_ONLY = ["monitor"]


def preventcare_visit_servers(hosts, hostvars):
    """The client's servers that count in VIS-01's cadence, sorted.

    Every host given (the linux and windows groups) except a dedicated monitor host (its
    preventcare_roles are only `monitor`): the monitor is the provider's appliance, and
    counting it would add a visit, shorten the gap and so the retention.
    """
    if not isinstance(hosts, list | tuple):
        raise AnsibleFilterError(
            f"preventcare_visit_servers: expected a list of host names, got {type(hosts).__name__}"
        )
    servers = []
    for host in hosts:
        roles = (hostvars.get(host) or {}).get("preventcare_roles") or []
        if sorted(roles) != MONITOR_ONLY:
            servers.append(str(host))
    return sorted(set(servers))


def preventcare_visit_retention(servers, margin_days=30):
    """A Prometheus retention ("213d") covering the gap between two visits plus the margin."""
    if isinstance(servers, list | tuple):
        servers = len(servers)
    if isinstance(servers, bool) or not isinstance(servers, int) or servers < 0:
        raise AnsibleFilterError(
            f"preventcare_visit_retention: expected a server count or list, got {servers!r:.80}"
        )
    if isinstance(margin_days, bool) or not isinstance(margin_days, int) or margin_days < 0:
        raise AnsibleFilterError(
            f"preventcare_visit_retention: margin_days must be a whole number of days >= 0, "
            f"got {margin_days!r:.80}"
        )
    return f"{days_between_visits(max(servers, 1)) + margin_days}d"


def preventcare_retention_size(
    retention, servers, server_mb_per_day, site_mb_per_day, headroom=1.5
):
    """A --storage.tsdb.retention.size ("11GB") for `retention` of `servers` and the site's own.

    (servers x server_mb_per_day + site_mb_per_day) x days x headroom, in whole GB (Prometheus
    reads GB as GiB, a little more room again), at least 1GB. docs/footprint.md measures the
    per-day figures; the cap only bites if a site stores far more than measured.
    """
    if isinstance(servers, list | tuple):
        servers = len(servers)
    try:
        days = parse_duration(str(retention)) / 86400
        total = (int(servers) * float(server_mb_per_day) + float(site_mb_per_day)) * days
        total *= float(headroom)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"preventcare_retention_size: {exc}") from None
    if total < 0:
        raise AnsibleFilterError("preventcare_retention_size: negative sizes make no cap")
    return f"{max(math.ceil(total / 1000), 1)}GB"


class FilterModule:
    def filters(self):
        return {
            "preventcare_visit_servers": preventcare_visit_servers,
            "preventcare_visit_retention": preventcare_visit_retention,
            "preventcare_retention_size": preventcare_retention_size,
        }
