"""Filters of the set-up day (playbooks/site_day.yml): waivers and the heartbeat proof."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.module_utils.preventcare_heartbeat import deliveries, relay_reply
from ansible.module_utils.preventcare_technical import split_waived


def preventcare_waived(blocking, waivers):
    """{waived, open}: the blocking failures a contract waiver covers, and the others."""
    if not isinstance(blocking, list):
        raise AnsibleFilterError(
            "preventcare_waived expects the list of blocking failures, got "
            f"{type(blocking).__name__}"
        )
    waived, open_ = split_waived(blocking, waivers if isinstance(waivers, list) else [])
    return {"waived": waived, "open": open_}


def preventcare_alertmanager_deliveries(metrics_text, integration="email"):
    """{attempts, failed, delivered} from Alertmanager's /metrics text."""
    if not isinstance(metrics_text, str):
        raise AnsibleFilterError(
            "preventcare_alertmanager_deliveries expects the /metrics text, got "
            f"{type(metrics_text).__name__}"
        )
    return deliveries(metrics_text, integration)


def preventcare_relay_reply(log_text):
    """The relay's last reply in Alertmanager's log, or an empty text."""
    return relay_reply(log_text if isinstance(log_text, str) else "")


class FilterModule:
    def filters(self):
        return {
            "preventcare_waived": preventcare_waived,
            "preventcare_alertmanager_deliveries": preventcare_alertmanager_deliveries,
            "preventcare_relay_reply": preventcare_relay_reply,
        }
