"""The message to the client for one console problem, in the client's language (ALR-02, ALR-03).

The console's operator runs "PreventCare: message au client" on a problem in the front end (a
Zabbix script on the server); it calls `preventcare-client-message` with the problem's host,
rule and current severity, all names the model wrote itself. This module composes the mail from
/etc/preventcare/clients.json (written by the role from the client inventories and the booklet's
levels) and sends it through the console's Postfix. The severity the operator set decides the
level (ALR-02): Information is "none", and a level without client contact sends nothing.

Standard library only: it runs on the console host.
"""

from __future__ import annotations

import email.message
import email.utils
import json
import smtplib

# Zabbix's numeric severity (EVENT.NSEVERITY) -> the booklet's level.
LEVEL_OF_SEVERITY = {1: "none", 2: "minor", 3: "moderate", 4: "significant", 5: "major"}

TEXT = {
    "fr": {
        "subject": "[{provider}] {client} : alerte {label} sur {server}",
        "greeting": "Bonjour,",
        "detected": "Notre équipe de surveillance a détecté sur votre serveur {server} l'alerte "
        "suivante : {summary} (exigence {requirement}), de criticité {label}.",
        "closing": "Cordialement,\nL'équipe de surveillance {provider}",
        "no_contact": "niveau {label} : pas de communication client (ALR-02), aucun message envoyé",
    },
    "en": {
        "subject": "[{provider}] {client}: {label} alert on {server}",
        "greeting": "Hello,",
        "detected": "Our surveillance team detected the following alert on your server {server}: "
        "{summary} (requirement {requirement}), criticality {label}.",
        "closing": "Best regards,\nThe {provider} surveillance team",
        "no_contact": "level {label}: no client communication (ALR-02), no message sent",
    },
}


class MessageError(Exception):
    """The message cannot be composed (unknown host or rule)."""


def compose(config: dict, host: str, item: str, severity: int):
    """(message or None, what the operator reads) for a problem on Zabbix host `host`."""
    client_id, _, server = host.partition(".")
    client = config["clients"].get(client_id)
    if client is None or not server:
        raise MessageError(f"{host!r} is not a PreventCare client host")
    level = LEVEL_OF_SEVERITY.get(int(severity))
    if level is None:
        raise MessageError(f"severity {severity!r} is not one of the booklet's levels")
    lang = client["language"] if client["language"] in TEXT else "fr"
    words = TEXT[lang]
    levels = config["levels"]
    label = levels[level]["label"][lang]
    if not levels[level].get("client_contact", True) or not client["contacts"]:
        return None, words["no_contact"].format(label=label)
    rule = config["rules"].get(item)
    if rule is None:
        raise MessageError(f"unknown rule {item!r}")
    values = {
        "provider": config["provider"],
        "client": client["name"],
        "server": server,
        "label": label,
        "summary": rule["summary"][lang],
        "requirement": rule["requirement"],
    }
    body = "\n\n".join(
        [
            words["greeting"],
            words["detected"].format(**values),
            levels[level]["client_message"][lang],
            words["closing"].format(**values),
        ]
    )
    message = email.message.EmailMessage()
    message["From"] = config["sender"]
    message["To"] = ", ".join(client["contacts"])
    message["Subject"] = words["subject"].format(**values)
    message["Date"] = email.utils.formatdate(localtime=True)
    message["Message-ID"] = email.utils.make_msgid(domain=config["sender"].split("@")[1])
    message["Content-Language"] = lang
    message.set_content(body + "\n")
    return message, f"message ({label}) sent to {len(client['contacts'])} client contact(s)"


def send(message, server: str = "127.0.0.1", port: int = 25):
    with smtplib.SMTP(server, port, timeout=30) as smtp:
        smtp.send_message(message)


def load(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
