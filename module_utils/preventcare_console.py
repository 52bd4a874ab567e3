"""The surveillance console's model in Zabbix, generated from the client inventories (ALR-01/02).

`zabbix_model` returns one Zabbix 6.0 configuration export (JSON) that
community.zabbix.zabbix_configuration imports in one API call (configuration.importcompare
makes a second run report no change):

- a host group ``PreventCare/<client id>`` per client, a host ``<client>.<server>`` per server;
- on each server, a trapper item ``preventcare.alert[<rule>]`` per alert rule of
  data/thresholds.yml that applies to its platform (the site's rules on the monitor host),
  with a trigger ``last(...)>0`` whose severity is the booklet's level (none -> Information,
  minor -> Warning, moderate -> Average, significant -> High, major -> Disaster) and whose
  description is that level's handling text;
- on each monitor host, the heartbeat item and its ``nodata()`` trigger (window + grace,
  MON-TEL-01): a silent site is a Disaster naming the client and the site;
- a ``preventcare-console`` host with the intake's counters (applied, quarantined mails).

The item keys and host names are the intake's (module_utils/preventcare_intake.py).
"""

from __future__ import annotations

import uuid

from ansible.module_utils.preventcare_intake import (
    APPLIED_KEY,
    HEARTBEAT_KEY,
    QUARANTINED_KEY,
    alert_key,
    zabbix_host,
)
from ansible.module_utils.preventcare_thresholds import (
    format_threshold,
    human_duration,
    merge_overrides,
    parse_duration,
    rule_expression,
)

SEVERITY = {
    "none": "INFO",
    "minor": "WARNING",
    "moderate": "AVERAGE",
    "significant": "HIGH",
    "major": "DISASTER",
}
# The API's numbers for the same severities (actions and problem.get use them).
SEVERITY_NUMBER = {"INFO": 1, "WARNING": 2, "AVERAGE": 3, "HIGH": 4, "DISASTER": 5}
CONSOLE_HOST = "preventcare-console"
CONSOLE_GROUP = "PreventCare/console"
HEARTBEAT_ITEM = "tel_watchdog"
_NAMESPACE = uuid.UUID("6f1b6c1e-4d0a-4c39-9d8e-7a5b2f0c1d11")

_WORDS = {
    "fr": {
        "on": "sur",
        "silent": "Site silencieux : aucun battement de cœur de {client}, site {site} ({monitor}) "
        "depuis plus de {silence}",
        "silent_why": "Le moniteur PreventCare du site envoie un battement de cœur chaque heure "
        "(MON-TEL-01) ; son absence est une alerte majeure : le moniteur, le relais de messagerie "
        "ou la liaison du site ne fonctionne plus.",
        "heartbeat": "Battement de cœur du moniteur (heure de signature)",
        "quarantined": "Des e-mails d'alerte non authentiques ont été mis en quarantaine (SEC-04)",
        "quarantined_why": "Un e-mail reçu à l'adresse de surveillance n'était pas signé, était "
        "falsifié, mal formé ou d'un client inconnu. Il n'a pas été appliqué ; il est conservé "
        "dans /var/lib/preventcare-intake/quarantine sur la console.",
        "handling": "Traitement (ALR-02)",
        "criticality": "Criticité",
    },
    "en": {
        "on": "on",
        "silent": "Silent site: no heartbeat from {client}, site {site} ({monitor}) "
        "for more than {silence}",
        "silent_why": "The site's PreventCare monitor sends a heartbeat every hour (MON-TEL-01); "
        "its absence is a major alert: the monitor, the mail relay or the site's link is down.",
        "heartbeat": "Monitor heartbeat (signature time)",
        "quarantined": "Alert e-mails that were not authentic were quarantined (SEC-04)",
        "quarantined_why": "A mail to the surveillance address was unsigned, forged, malformed or "
        "from an unknown client. It was not applied; it is kept in "
        "/var/lib/preventcare-intake/quarantine on the console.",
        "handling": "Handling (ALR-02)",
        "criticality": "Criticality",
    },
}


def _uuid(*parts: str) -> str:
    """A stable UUID per name, in the version-4 form Zabbix's import requires."""
    return uuid.UUID(bytes=uuid.uuid5(_NAMESPACE, "/".join(parts)).bytes, version=4).hex


def client_group(client_id: str) -> str:
    return f"PreventCare/{client_id}"


def summary(table: dict, name: str, lang: str) -> str:
    item = table["items"][name]
    text = item["summary"][lang].format(
        threshold=format_threshold(item, lang),
        duration=human_duration(parse_duration(item["duration"]), lang),
    )
    return text[:1].upper() + text[1:]


def _description(table: dict, criticality: str, lang: str, before: str = "") -> str:
    words = _WORDS[lang]
    level = table["levels"][criticality]
    sep = " : " if lang == "fr" else ": "
    text = f"{words['criticality']}{sep}{level['label'][lang]}.\n"
    text += f"{words['handling']}{sep}{level['handling'][lang]}"
    return (before + "\n\n" + text) if before else text


def _tags(**tags) -> list:
    return [{"tag": k, "value": str(v)} for k, v in tags.items() if v != ""]


def _alert_item(table, client, server, name, lang):
    item = table["items"][name]
    host = zabbix_host(client["id"], server["name"])
    key = alert_key(name)
    words = _WORDS[lang]
    return {
        "name": f"[{item['requirement']}] {item['alert']}",
        "type": "TRAP",
        "key": key,
        "delay": "0",
        "history": "90d",
        "value_type": "UNSIGNED",
        "description": "Alerts of this rule firing on the host, from the site's signed e-mails.",
        "tags": _tags(requirement=item["requirement"], criticality=item["criticality"]),
        "triggers": [
            {
                "expression": f"last(/{host}/{key})>0",
                "name": f"[{item['requirement']}] {summary(table, name, lang)} "
                f"{words['on']} {server['name']} ({client['name']})",
                "priority": SEVERITY[item["criticality"]],
                "description": _description(table, item["criticality"], lang),
                "manual_close": "YES",
                "tags": _tags(
                    client=client["id"],
                    site=server["site"],
                    requirement=item["requirement"],
                    criticality=item["criticality"],
                    item=name,
                ),
            }
        ],
    }


def _heartbeat_item(table, client, server, silence: int, lang: str):
    host = zabbix_host(client["id"], server["name"])
    words = _WORDS[lang]
    item = table["items"][HEARTBEAT_ITEM]
    level = item.get("absence_criticality", "major")
    site = server["site"] or client.get("monitor_site", "")
    return {
        "name": f"[{item['requirement']}] {words['heartbeat']}",
        "type": "TRAP",
        "key": HEARTBEAT_KEY,
        "delay": "0",
        "history": "90d",
        "value_type": "UNSIGNED",
        "units": "unixtime",
        "tags": _tags(requirement=item["requirement"]),
        "triggers": [
            {
                "expression": f"nodata(/{host}/{HEARTBEAT_KEY},{silence}s)=1",
                "name": words["silent"].format(
                    client=client["name"],
                    site=site,
                    monitor=server["name"],
                    silence=human_duration(silence, lang),
                ),
                "priority": SEVERITY[level],
                "description": _description(table, level, lang, words["silent_why"]),
                "tags": _tags(
                    client=client["id"],
                    site=site,
                    requirement=item["requirement"],
                    criticality=level,
                    item="heartbeat_missing",
                ),
            }
        ],
    }


def _platform_rules(table: dict, platform: str) -> list[str]:
    return [
        name
        for name, item in table["items"].items()
        if item.get("enabled", True) is not False
        and name != HEARTBEAT_ITEM
        and rule_expression(table, name, platform) is not None
    ]


def zabbix_model(clients: list, base_table: dict, provider: dict) -> dict:
    """The configuration export for every client of the provider inventory."""
    lang = provider.get("language", "fr")
    heartbeat = provider.get("heartbeat", {})
    silence = parse_duration(heartbeat.get("window", "1h")) + parse_duration(
        heartbeat.get("grace", "10m")
    )
    groups = [{"uuid": _uuid("group", CONSOLE_GROUP), "name": CONSOLE_GROUP}]
    hosts = [_console_host(lang)]
    for client in sorted(clients, key=lambda c: c["id"]):
        # The contract's agreed overrides (a criticality, a rule disabled) apply to its triggers.
        merged, problems = merge_overrides(base_table, client.get("thresholds") or {})
        if problems:
            raise ValueError(f"client {client['id']}: invalid threshold overrides {problems}")
        table = merged
        rules = {p: _platform_rules(table, p) for p in ("linux", "windows", "site")}
        group = client_group(client["id"])
        groups.append({"uuid": _uuid("group", group), "name": group})
        for server in sorted(client["servers"], key=lambda s: s["name"]):
            names = list(rules[server["platform"]])
            items = [_alert_item(table, client, server, n, lang) for n in names]
            if server["monitor"]:
                items += [_alert_item(table, client, server, n, lang) for n in rules["site"]]
                items.append(_heartbeat_item(table, client, server, int(silence), lang))
            hosts.append(
                {
                    "host": zabbix_host(client["id"], server["name"]),
                    "name": f"{server['name']} ({client['name']})",
                    "groups": [{"name": group}],
                    "description": f"PreventCare {client['id']}: {server['platform']} server"
                    + (f", site {server['site']}" if server["site"] else "")
                    + (", monitor host" if server["monitor"] else ""),
                    "items": sorted(items, key=lambda i: i["key"]),
                    "tags": _tags(client=client["id"], site=server["site"]),
                    "inventory_mode": "DISABLED",
                }
            )
    return {"zabbix_export": {"version": "6.0", "groups": groups, "hosts": hosts}}


def _console_host(lang: str) -> dict:
    words = _WORDS[lang]
    count = f"/{CONSOLE_HOST}/{QUARANTINED_KEY}"
    return {
        "host": CONSOLE_HOST,
        "name": "PreventCare console (mail intake)",
        "groups": [{"name": CONSOLE_GROUP}],
        "items": [
            {
                "name": "Alert e-mails applied",
                "type": "TRAP",
                "key": APPLIED_KEY,
                "delay": "0",
                "value_type": "UNSIGNED",
            },
            {
                "name": "Alert e-mails quarantined (SEC-04)",
                "type": "TRAP",
                "key": QUARANTINED_KEY,
                "delay": "0",
                "value_type": "UNSIGNED",
                "triggers": [
                    {
                        # Open for an hour after the last quarantined mail (or until closed).
                        "expression": f"last({count})-min({count},1h)>0",
                        "name": words["quarantined"],
                        "priority": "WARNING",
                        "description": words["quarantined_why"],
                        "manual_close": "YES",
                        "tags": _tags(requirement="SEC-04"),
                    }
                ],
            },
        ],
        "inventory_mode": "DISABLED",
    }


# Import rules: create and update everything, delete the items and triggers a rule removed
# from data/thresholds.yml (only within the imported hosts).
IMPORT_RULES = {
    "groups": {"createMissing": True},
    "hosts": {"createMissing": True, "updateExisting": True},
    "items": {"createMissing": True, "updateExisting": True, "deleteMissing": True},
    "triggers": {"createMissing": True, "updateExisting": True, "deleteMissing": True},
}


def client_messages_config(clients: list, table: dict, provider: dict, messages: dict) -> dict:
    """/etc/preventcare/clients.json for preventcare-client-message (ALR-03).

    messages: level -> {"client_contact": bool, "fr": text, "en": text}, the client-facing
    sentence of each booklet level (supervision_console_client_messages).
    """
    levels = {
        name: {
            "label": level["label"],
            "client_contact": bool(messages.get(name, {}).get("client_contact", True)),
            "client_message": {lang: messages.get(name, {}).get(lang, "") for lang in ("fr", "en")},
        }
        for name, level in table["levels"].items()
    }
    rules = {
        name: {
            "requirement": item["requirement"],
            "summary": {lang: summary(table, name, lang) for lang in ("fr", "en")},
        }
        for name, item in table["items"].items()
    }
    rules["heartbeat_missing"] = {
        "requirement": "MON-TEL-01",
        "summary": {
            "fr": "le moniteur PreventCare du site n'envoie plus son battement de cœur",
            "en": "the site's PreventCare monitor no longer sends its heartbeat",
        },
    }
    return {
        "provider": provider.get("name", "PreventCare"),
        "sender": provider.get("outgoing_mail", {}).get("sender")
        or provider["surveillance"]["address"],
        "clients": {
            c["id"]: {"name": c["name"], "language": c["language"], "contacts": c["contacts"]}
            for c in clients
        },
        "levels": levels,
        "rules": rules,
    }
