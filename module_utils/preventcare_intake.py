"""The console's mail intake: one alert e-mail in, Zabbix values out (ALR-01, SEC-04, MON-TEL-01).

Postfix hands every message for the surveillance address to `preventcare-intake`, a small SMTP
service on the console's loopback (one message at a time) that holds the clients' signing keys
as a systemd credential. This module is its logic, standard library only:

- `preventcare_alertmail.read_mail` verifies the signed machine-readable part; a mail that is
  malformed, unsigned, forged, stale or from an unknown client is written to the quarantine
  folder with the reason beside it and counted, never applied and never dropped;
- an authentic mail updates the intake's state (which alert fingerprints fire on which host and
  rule, the latest signature time of each, so that a late repeat never reopens a resolved alert)
  and becomes trapper values: ``preventcare.alert[<rule>]`` = how many alerts of that rule fire
  on the host, ``preventcare.heartbeat`` = the time of the monitor's last Watchdog mail;
- the values go to the Zabbix server with the Zabbix sender protocol (`zabbix_sender`).

Zabbix host names are ``<client>.<server>``; an alert whose instance is not a server of the
client (a blackbox probe target) belongs to the client's monitor host.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import fcntl
import hashlib
import json
import os
import subprocess
import tempfile

try:  # on the console host the file sits beside this one
    from preventcare_alertmail import MAX_BODY, Rejection, read_mail
except ImportError:  # on the controller and in the tests
    from ansible.module_utils.preventcare_alertmail import MAX_BODY, Rejection, read_mail

HEARTBEAT_ALERT = "Watchdog"
HEARTBEAT_KEY = "preventcare.heartbeat"
APPLIED_KEY = "preventcare.intake.applied"
QUARANTINED_KEY = "preventcare.intake.quarantined"
NOT_APPLIED = "not_applied"  # verified, but Zabbix refused some values (model out of date)
MAX_MAIL = 4 * MAX_BODY


def alert_key(item: str) -> str:
    return f"preventcare.alert[{item}]"


def zabbix_host(client: str, host: str) -> str:
    return f"{client}.{host}"


class ConfigError(Exception):
    """The intake's configuration file cannot be used."""


@dataclasses.dataclass
class Config:
    clients: dict  # id -> {"key": str, "hosts": [names], "monitor": name}
    server: str = "127.0.0.1"
    port: int = 10051
    sender: str = "/usr/bin/zabbix_sender"
    console_host: str = "preventcare-console"
    spool: str = "/var/lib/preventcare-intake"

    @property
    def keys(self) -> dict:
        return {name: client["key"].encode() for name, client in self.clients.items()}


def _read_json(path: str, what: str):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot use {what} {path}: {type(exc).__name__}: {exc}") from None


def load_config(path: str, keys_path: str | None = None) -> Config:
    """The intake's settings (path) and the clients' signing keys (keys_path).

    The keys live apart from the settings: on the console host keys_path is the intake
    service's systemd credential, decrypted into memory for that service only (SEC-04);
    without keys_path they are read from the settings themselves (tests).
    """
    data = _read_json(path, "the settings")
    keys = _read_json(keys_path, "the signing keys") if keys_path else None
    try:
        clients = data["clients"]
        if keys is not None:
            if not isinstance(keys, dict):
                raise ConfigError("the signing keys are not a mapping of client to key")
            clients = {name: {**client, "key": keys.get(name)} for name, client in clients.items()}
        for name, client in clients.items():
            if not (isinstance(client.get("key"), str) and client["key"]):
                raise ConfigError(f"client {name!r} has no signing key")
            if not isinstance(client.get("hosts"), list) or not client.get("monitor"):
                raise ConfigError(f"client {name!r} lacks its hosts or monitor")
        zabbix = data.get("zabbix", {})
        return Config(
            clients=clients,
            server=zabbix.get("server", "127.0.0.1"),
            port=int(zabbix.get("port", 10051)),
            sender=zabbix.get("sender", "/usr/bin/zabbix_sender"),
            console_host=data.get("console_host", "preventcare-console"),
            spool=data.get("spool", "/var/lib/preventcare-intake"),
        )
    except ConfigError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"cannot use {path}: {type(exc).__name__}: {exc}") from None


# --------------------------------------------------------------------------- state
def empty_state() -> dict:
    return {"alerts": {}, "counts": {"applied": 0, "quarantined": {}}}


def apply(state: dict, mail, config: Config) -> list[tuple[str, str, str]]:
    """Update `state` with an authentic mail; the (host, key, value) lines to send."""
    client = config.clients[mail.client]
    hosts = set(client["hosts"])
    touched: dict[tuple[str, str], None] = {}
    values: list[tuple[str, str, str]] = []
    for alert in mail.alerts:
        if alert["alert"] == HEARTBEAT_ALERT:
            if alert["status"] == "firing":
                host = zabbix_host(mail.client, client["monitor"])
                values.append((host, HEARTBEAT_KEY, str(mail.signed_at)))
            continue
        instance = alert["instance"] if alert["instance"] in hosts else client["monitor"]
        host = zabbix_host(mail.client, instance)
        slot = state["alerts"].setdefault(f"{host}|{alert['item']}", {})
        known = slot.get(alert["fingerprint"])
        if known is None or known["t"] <= mail.signed_at:
            slot[alert["fingerprint"]] = {"status": alert["status"], "t": mail.signed_at}
        touched[(host, alert["item"])] = None
    for host, item in touched:
        slot = state["alerts"][f"{host}|{item}"]
        firing = sum(1 for entry in slot.values() if entry["status"] == "firing")
        values.append((host, alert_key(item), str(firing)))
        # Resolved fingerprints are kept only while needed to order late mails.
        for fingerprint in [f for f, e in slot.items() if e["status"] == "resolved"]:
            if mail.signed_at - slot[fingerprint]["t"] > 7 * 24 * 3600:
                del slot[fingerprint]
    return values


@contextlib.contextmanager
def locked_state(spool: str):
    """The state file, read under an exclusive lock; written back when the block succeeds."""
    os.makedirs(spool, mode=0o750, exist_ok=True)
    path = os.path.join(spool, "state.json")
    with open(os.path.join(spool, "state.lock"), "a", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with open(path, encoding="utf-8") as handle:
                state = json.load(handle)
        except (OSError, ValueError):
            state = empty_state()
        yield state
        _write_atomic(path, json.dumps(state, sort_keys=True).encode())


def _write_atomic(path: str, data: bytes, mode: int = 0o640):
    folder = os.path.dirname(path)
    handle, temp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def quarantine(spool: str, raw: bytes, reason: str, detail: str, now: float) -> str:
    """Keep the mail and why it was refused; the path of the kept copy."""
    folder = os.path.join(spool, "quarantine")
    os.makedirs(folder, mode=0o750, exist_ok=True)
    stamp = datetime.datetime.fromtimestamp(now, datetime.UTC).strftime("%Y%m%dT%H%M%S")
    name = f"{stamp}-{reason}-{hashlib.sha256(raw).hexdigest()[:12]}"
    _write_atomic(os.path.join(folder, name + ".eml"), raw)
    note = {"reason": reason, "detail": detail, "received": int(now)}
    _write_atomic(os.path.join(folder, name + ".json"), json.dumps(note).encode())
    return os.path.join(folder, name + ".eml")


def counter_values(state: dict, console_host: str) -> list[tuple[str, str, str]]:
    counts = state["counts"]
    quarantined = counts["quarantined"]
    values = [
        (console_host, APPLIED_KEY, str(counts["applied"])),
        (console_host, QUARANTINED_KEY, str(sum(quarantined.values()))),
    ]
    return values


# --------------------------------------------------------------------------- sender
def sender_input(values) -> str:
    """zabbix_sender's input file: one `host key value` line per value, quoted."""

    def quote(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return "".join(f"{quote(h)} {quote(k)} {quote(v)}\n" for h, k, v in values)


class SendError(Exception):
    """The Zabbix server could not be reached: the mail stays queued."""


def send(config: Config, values) -> bool:
    """Send the values; True when Zabbix accepted every one, False when it refused some."""
    if not values:
        return True
    try:
        done = subprocess.run(
            [config.sender, "-z", config.server, "-p", str(config.port), "-i", "-"],
            input=sender_input(values),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={"LANG": "C", "PATH": "/usr/bin:/bin"},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SendError(f"cannot run {config.sender}: {exc}") from None
    if done.returncode == 0:
        return True
    if done.returncode == 2:  # sent, but the server refused some values
        return False
    raise SendError(f"zabbix_sender failed ({done.returncode}): {done.stdout.strip()[-300:]}")


# --------------------------------------------------------------------------- one mail
def process(raw: bytes, config: Config, now: float, sender=send) -> tuple[str, str]:
    """Handle one mail: ('applied', '') or (reason, detail). Raises SendError to defer."""
    with locked_state(config.spool) as state:
        try:
            if len(raw) > MAX_MAIL:
                raise Rejection("malformed", "the mail is too large for an alert")
            mail = read_mail(raw, config.keys, now)
        except Rejection as rejection:
            outcome = (rejection.reason, rejection.detail)
            values = []
        else:
            values = apply(state, mail, config)
            outcome = ("applied", "")
        if outcome[0] == "applied" and not sender(config, values):
            outcome = (NOT_APPLIED, "the Zabbix server refused some values: rerun console.yml")
        if outcome[0] == "applied":
            state["counts"]["applied"] += 1
        else:
            quarantine(config.spool, raw, outcome[0], outcome[1], now)
            reasons = state["counts"]["quarantined"]
            reasons[outcome[0]] = reasons.get(outcome[0], 0) + 1
        # The counters are best effort: a refused counter never defers a mail.
        with contextlib.suppress(SendError):
            sender(config, counter_values(state, config.console_host))
    return outcome


# --------------------------------------------------------------------------- SMTP service
class SmtpHandler:
    """aiosmtpd handler of the intake service: Postfix hands it the surveillance address's mail.

    Each message is processed in turn (one worker thread: the state file and zabbix_sender are
    used one mail at a time). The answer is what Postfix acts on: 250 when the mail was applied
    or quarantined (it is kept either way), 451 when Zabbix cannot be reached, so that Postfix
    keeps the mail queued and retries.
    """

    def __init__(self, config: Config, clock=None, sender=send):
        import concurrent.futures  # noqa: PLC0415 - only the service needs a worker thread
        import time  # noqa: PLC0415

        self.config = config
        self.clock = clock or time.time
        self.sender = sender
        self._worker = concurrent.futures.ThreadPoolExecutor(max_workers=1)

    def handle(self, raw: bytes) -> str:
        try:
            outcome, detail = process(raw, self.config, self.clock(), self.sender)
        except SendError as exc:
            log(f"deferred: {exc}")
            return "451 4.3.0 the console cannot reach Zabbix, try again later"
        log(f"{outcome}{': ' + detail if detail else ''}")
        return f"250 2.0.0 {'applied' if outcome == 'applied' else 'quarantined: ' + outcome}"

    async def handle_DATA(self, server, session, envelope):
        import asyncio  # noqa: PLC0415

        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, self.handle, raw)


def log(text: str) -> None:
    import sys  # noqa: PLC0415

    print(f"preventcare-intake: {text}", file=sys.stderr, flush=True)
