"""Filters building the surveillance console's Zabbix model from the provider inventory."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.module_utils.preventcare_console import (
    IMPORT_RULES,
    client_messages_config,
    zabbix_model,
)
from ansible.module_utils.preventcare_thresholds import load_thresholds


def preventcare_zabbix_model(clients, provider, table=None):
    """Zabbix 6.0 configuration export (dict) of every client's hosts, items and triggers."""
    if not isinstance(clients, list) or not all(isinstance(c, dict) for c in clients):
        raise AnsibleFilterError(
            f"preventcare_zabbix_model: clients must be a list of mappings, not {clients!r:.80}"
        )
    if not isinstance(provider, dict):
        raise AnsibleFilterError(
            f"preventcare_zabbix_model: provider must be a mapping, not {type(provider).__name__}"
        )
    try:
        merged = table if isinstance(table, dict) else load_thresholds(table)
        return zabbix_model(clients, merged, provider)
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"preventcare_zabbix_model: {type(exc).__name__}: {exc}") from exc


def preventcare_client_messages(clients, provider, messages, table=None):
    """The configuration of preventcare-client-message (clients, levels, rules)."""
    if not isinstance(messages, dict):
        raise AnsibleFilterError(
            "preventcare_client_messages: messages must be a mapping, "
            f"not {type(messages).__name__}"
        )
    try:
        merged = table if isinstance(table, dict) else load_thresholds(table)
        return client_messages_config(clients, merged, provider, messages)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise AnsibleFilterError(
            f"preventcare_client_messages: {type(exc).__name__}: {exc}"
        ) from exc


def preventcare_zabbix_import_rules(_ignored=None):
    """The configuration.import rules the model is imported with."""
    return dict(IMPORT_RULES)


class FilterModule:
    def filters(self):
        return {
            "preventcare_zabbix_model": preventcare_zabbix_model,
            "preventcare_zabbix_import_rules": preventcare_zabbix_import_rules,
            "preventcare_client_messages": preventcare_client_messages,
        }
