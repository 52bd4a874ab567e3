"""PRE-01: a real SMTP dialogue with the client's relay, and the judgement of its transcript.

`run_dialogue()` speaks SMTP (stdlib only, so it runs on any monitored Linux server through
AnsiballZ) and records every step. `classify()` judges a transcript alone, so the transcripts of
`scripts/windows/smtp_dialogue.ps1` are judged by the same code. `check_relay()` does both.

Transcript step: {step, command, code, reply: [lines without the code], elapsed_ms, error?}.
`error` is {type, code, name, reason, message}: the exception's class name, its numeric code
(errno, or the Windows SocketException ErrorCode), the errno/SocketError name, the TLS reason and
the (possibly localised) message. Judgement uses type, code, name and reason, never the message.

Failure classes (one per FAIL) are listed in FAILURE_CLASSES. Two are finer than the brief's list:
`auth_required` (530: the relay wants AUTH and the contract gives no credentials) and
`unreachable` (no route to the relay), because their fixes differ from auth_failed and timeout.

Why about 800 lines in one file: the modules that run on the servers import the dialogue and
its classifier together, and AnsiballZ ships this one file; a third of it is the hint of each
failure class in fr and en, which the classifier picks by the step where the reply came.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import hashlib
import re
import secrets
import socket
import ssl
import time
from datetime import datetime, timezone
from email.utils import formatdate, make_msgid

from ansible.module_utils.preventcare_secrets import MASK, mask, secret_forms

TLS_MODES = ("none", "starttls", "tls")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}
SUBJECT_PREFIX = "PreventCare PRE-01 test"
FAILURE_CLASSES = (
    "dns",
    "refused",
    "unreachable",
    "timeout",
    "tls_not_offered",
    "tls_failed",
    "auth_required",
    "auth_failed",
    "sender_rejected",
    "relay_denied",
    "temporary",
    "message_rejected",
    "protocol",
)

# Reply codes that let the dialogue go on, per step (RFC 5321 section 4.3.2).
EXPECTED = {
    "banner": (220,),
    "ehlo": (250,),
    "helo": (250,),
    "starttls": (220,),
    "auth": (235, 334),
    "auth_username": (334,),
    "auth_password": (235,),
    "mail": (250,),
    "rcpt": (250, 251),
    "data": (354,),
    "message": (250,),
    "rset": (250,),
}
NO_REPLY_STEPS = ("connect", "tls_handshake")
# Every step name a transcript may hold (the PowerShell script uses the same).
STEPS = (*NO_REPLY_STEPS, *EXPECTED, "quit")
FINAL_STEPS = {
    "auth": "auth_failed",
    "auth_username": "auth_failed",
    "auth_password": "auth_failed",
    "mail": "sender_rejected",
    "rcpt": "relay_denied",
    "data": "message_rejected",
    "message": "message_rejected",
    "starttls": "tls_failed",
}

# Windows SocketException.ErrorCode (WSA codes) and errno names: locale-independent.
WSA_CLASSES = {
    10061: "refused",
    10060: "timeout",
    10051: "unreachable",
    10065: "unreachable",
    11001: "dns",
    11002: "dns",
    11003: "dns",
    11004: "dns",
}
ERRNO_CLASSES = {
    "ECONNREFUSED": "refused",
    "ETIMEDOUT": "timeout",
    "ENETUNREACH": "unreachable",
    "EHOSTUNREACH": "unreachable",
}
TYPE_CLASSES = {
    "gaierror": "dns",
    "herror": "dns",
    "ConnectionRefusedError": "refused",
    "TimeoutError": "timeout",
    "timeout": "timeout",  # socket.timeout before Python 3.10
    "TimeoutException": "timeout",
    "SSLError": "tls_failed",
    "SSLCertVerificationError": "tls_failed",
    "SSLEOFError": "tls_failed",
    "SSLZeroReturnError": "tls_failed",
    "CertificateError": "tls_failed",
    "AuthenticationException": "tls_failed",  # .NET SslStream handshake/certificate failure
}

HINTS = {
    "en": {
        "pass": "The relay accepted mail from this server for the surveillance mailbox.",
        "pass_sent": "The relay accepted the test message: check that the surveillance mailbox "
        "received the subject '{subject}'.",
        "dns": "The name {host} does not resolve from this server. Check smtp_relay.host in the "
        "contract and this server's DNS servers, or give the relay's IP address.",
        "refused": "{host}:{port} refused the connection: nothing listens on that port or a "
        "firewall rejects it. Check smtp_relay.port (25, 587 or 465) and that the appliance's "
        "SMTP relay service is enabled and accepts this server.",
        "unreachable": "There is no route from this server to {host}. Check the IP plan, the "
        "default gateway, the VPN link and the firewall rules between the server and the "
        "appliance.",
        "timeout": "No answer from {host}:{port} within the time limit (step {step}). A firewall "
        "probably drops the traffic: check the outbound rules of this server and of the "
        "appliance. Also check smtp_relay.tls: implicit TLS (465) and STARTTLS (587) "
        "wait for each other when mixed up.",
        "tls_not_offered": "The contract requires STARTTLS but {host}:{port} does not offer it "
        "(see the EHLO reply). Enable TLS on the appliance's SMTP relay, or set "
        "smtp_relay.tls to none only if the client accepts unencrypted mail on the LAN.",
        "tls_failed": "The TLS negotiation with {host} failed at step {step}: {reason}. If the "
        "certificate comes from a private CA, give that CA in the contract "
        "(smtp_relay.ca_path); check that the certificate names {host}, has not expired and "
        "that the relay speaks TLS 1.2 or later. validate_certs: false is only a documented, "
        "temporary exception.",
        "auth_required": "The relay requires authentication but the contract gives no "
        "credentials. Add smtp_relay.auth (user name, password in the vault), or allow this "
        "server's IP address to relay without authentication on the appliance.",
        "auth_failed": "Authentication failed ({reason}). Check smtp_relay.auth.username and the "
        "password in the vault, and that the account may send through the relay and is not "
        "locked. When AUTH is not offered, enable it on the appliance or use STARTTLS: many "
        "relays offer AUTH only after TLS.",
        "sender_rejected": "The relay refuses the sender address ({reason}). Use an address "
        "the appliance accepts for this server (smtp_relay.sender), usually one of the "
        "client's own domain, or authorise it on the appliance.",
        "relay_denied": "The relay refuses to relay to the surveillance mailbox ({reason}). On "
        "the appliance, allow this server's IP address (or its subnet) to relay to external "
        "domains, or authenticate with smtp_relay.auth.",
        "relay_denied:5.1": "The recipient address is refused as unknown or invalid ({reason}). "
        "Check surveillance_mailbox in the contract.",
        "tls_failed:starttls": "{host}:{port} offers STARTTLS but refused to start it "
        "({reason}): TLS is broken on the appliance, usually a missing or unreadable "
        "certificate or key. Fix TLS on the appliance's SMTP relay; set smtp_relay.tls to none "
        "only if the client accepts unencrypted mail on the LAN.",
        "temporary": "The relay answered with a temporary error at step {step} ({reason}): "
        "421 means the service is unavailable or overloaded. Run the check again later, and "
        "check the appliance's SMTP service and its logs if it persists.",
        "temporary:rcpt": "The relay answered with a temporary error at step {step} ({reason}). "
        "Greylisting (450/451 on RCPT) clears by itself: run the check again in a few minutes "
        "and whitelist this server on the appliance if it persists. 421 means the service is "
        "unavailable or overloaded: check the appliance's SMTP service and its logs.",
        "message_rejected": "The relay accepted sender and recipient but rejected the message "
        "itself ({reason}): a content, size or antispam filter on the appliance. Check its "
        "logs for the test message and allow PreventCare alerts.",
        "protocol": "Unexpected exchange at step {step} ({reason}). Check that {host}:{port} "
        "is the appliance's SMTP relay and that smtp_relay.tls matches its configuration.",
    },
    "fr": {
        "pass": "Le relais accepte le courrier de ce serveur pour la boîte de surveillance.",
        "pass_sent": "Le relais a accepté le message de test : vérifiez que la boîte de "
        "surveillance a reçu l'objet « {subject} ».",
        "dns": "Le nom {host} ne se résout pas depuis ce serveur. Vérifiez smtp_relay.host dans "
        "le contrat et les serveurs DNS de ce serveur, ou indiquez l'adresse IP du relais.",
        "refused": "{host}:{port} a refusé la connexion : aucun service n'écoute sur ce port ou "
        "un pare-feu la rejette. Vérifiez smtp_relay.port (25, 587 ou 465) et que le relais "
        "SMTP du boîtier est activé et accepte ce serveur.",
        "unreachable": "Aucune route de ce serveur vers {host}. Vérifiez le plan d'adressage, la "
        "passerelle par défaut, le lien VPN et les règles de pare-feu entre le serveur et le "
        "boîtier.",
        "timeout": "Pas de réponse de {host}:{port} dans le délai imparti (étape {step}). Un "
        "pare-feu bloque probablement le trafic : vérifiez les règles sortantes de ce serveur "
        "et du boîtier. Vérifiez aussi smtp_relay.tls : TLS implicite (465) et STARTTLS (587) "
        "s'attendent mutuellement s'ils sont confondus.",
        "tls_not_offered": "Le contrat exige STARTTLS mais {host}:{port} ne le propose pas (voir "
        "la réponse à EHLO). Activez TLS sur le relais SMTP du boîtier, ou passez "
        "smtp_relay.tls à none seulement si le client accepte du courrier non chiffré sur "
        "son réseau local.",
        "tls_failed": "La négociation TLS avec {host} a échoué à l'étape {step} : {reason}. Si "
        "le certificat vient d'une autorité privée, fournissez-la dans le contrat "
        "(smtp_relay.ca_path) ; vérifiez que le certificat porte le nom {host}, qu'il n'a "
        "pas expiré et que le relais parle TLS 1.2 ou plus. validate_certs: false n'est "
        "qu'une exception temporaire et documentée.",
        "auth_required": "Le relais exige une authentification mais le contrat ne donne pas "
        "d'identifiants. Ajoutez smtp_relay.auth (utilisateur, mot de passe dans le coffre), "
        "ou autorisez l'adresse IP de ce serveur à relayer sans authentification sur le "
        "boîtier.",
        "auth_failed": "Échec d'authentification ({reason}). Vérifiez smtp_relay.auth.username et "
        "le mot de passe du coffre, et que le compte a le droit d'envoyer par le relais et "
        "n'est pas verrouillé. Si AUTH n'est pas proposé, activez-le sur le boîtier ou "
        "utilisez STARTTLS : beaucoup de relais ne proposent AUTH qu'après TLS.",
        "sender_rejected": "Le relais refuse l'adresse d'expéditeur ({reason}). Utilisez une "
        "adresse que le boîtier accepte pour ce serveur (smtp_relay.sender), en général du "
        "domaine du client, ou autorisez-la sur le boîtier.",
        "relay_denied": "Le relais refuse de relayer vers la boîte de surveillance ({reason}). "
        "Sur le boîtier, autorisez l'adresse IP de ce serveur (ou son sous-réseau) à relayer "
        "vers les domaines externes, ou authentifiez-vous avec smtp_relay.auth.",
        "relay_denied:5.1": "L'adresse du destinataire est refusée comme inconnue ou invalide "
        "({reason}). Vérifiez surveillance_mailbox dans le contrat.",
        "tls_failed:starttls": "{host}:{port} propose STARTTLS mais refuse de le démarrer "
        "({reason}) : TLS est défaillant sur le boîtier, le plus souvent un certificat ou une "
        "clé absent ou illisible. Réparez TLS sur le relais SMTP du boîtier ; ne passez "
        "smtp_relay.tls à none que si le client accepte du courrier non chiffré sur son réseau "
        "local.",
        "temporary": "Le relais a répondu par une erreur temporaire à l'étape {step} "
        "({reason}) : 421 signifie service indisponible ou surchargé. Relancez la "
        "vérification plus tard, et vérifiez le service SMTP du boîtier et ses journaux si "
        "cela persiste.",
        "temporary:rcpt": "Le relais a répondu par une erreur temporaire à l'étape {step} "
        "({reason}). Le greylisting (450/451 sur RCPT) se lève seul : relancez la vérification "
        "dans quelques minutes et mettez ce serveur en liste blanche sur le boîtier si cela "
        "persiste. 421 signifie service indisponible ou surchargé : vérifiez le service SMTP du "
        "boîtier et ses journaux.",
        "message_rejected": "Le relais a accepté l'expéditeur et le destinataire mais a rejeté "
        "le message lui-même ({reason}) : filtre de contenu, de taille ou antispam du boîtier. "
        "Consultez ses journaux pour le message de test et autorisez les alertes PreventCare.",
        "protocol": "Échange inattendu à l'étape {step} ({reason}). Vérifiez que {host}:{port} "
        "est bien le relais SMTP du boîtier et que smtp_relay.tls correspond à sa "
        "configuration.",
    },
}

_ENHANCED = re.compile(r"^([245]\.\d{1,3}\.\d{1,3})\b")


class SmtpCheckError(ValueError):
    """A local configuration problem (not a relay problem), e.g. an unreadable CA file."""


class _Stop(Exception):
    """Ends the dialogue after a reply the classifier will judge."""


# Their transcript type names are the PowerShell script's, so both judge alike.
class ConnectionClosedError(OSError):
    """The server closed the connection instead of replying."""

    type_name = "ConnectionClosed"


class BadReplyError(ValueError):
    """The server sent a line that is not an SMTP reply."""

    type_name = "BadReply"


def _ms(start):
    return round((time.monotonic() - start) * 1000)


def _rdn_text(rdns):
    short = {
        "commonName": "CN",
        "organizationName": "O",
        "organizationalUnitName": "OU",
        "countryName": "C",
        "localityName": "L",
        "stateOrProvinceName": "ST",
        "emailAddress": "E",
    }
    return ", ".join(f"{short.get(k, k)}={v}" for rdn in rdns for k, v in rdn)


def tls_context(validate_certs=True, ca_path=None, ca_data=None):
    """Client TLS context: system trust store, or only the CA given (a file, or PEM text)."""
    try:
        ctx = ssl.create_default_context(cafile=ca_path or None, cadata=ca_data or None)
    except (OSError, ssl.SSLError, ValueError) as exc:
        where = f"file {ca_path!r}" if ca_path else "given as PEM text"
        raise SmtpCheckError(
            f"cannot load the CA certificate {where} ({exc}): give a PEM file "
            "holding the CA that signed the relay's certificate"
        ) from None
    if not validate_certs:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


class _Dialogue:
    def __init__(self, timeout, secret_values):
        self.timeout = timeout
        self.secret_values = secret_values
        self.transcript = []
        self.sock = None
        self.reader = None
        self.tls = None

    def _add(self, step, command):
        entry = {"step": step, "command": command, "code": None, "reply": [], "elapsed_ms": 0}
        self.transcript.append(entry)
        return entry

    def _error(self, entry, exc, start):
        code = getattr(exc, "errno", None)
        record = {
            "type": getattr(exc, "type_name", type(exc).__name__),
            "code": code if isinstance(code, int) else None,
            "name": errno.errorcode.get(code) if isinstance(code, int) and code > 0 else None,
            "reason": None,
            "message": mask(str(exc), self.secret_values),
        }
        if isinstance(exc, ssl.SSLCertVerificationError):
            record["reason"] = f"{exc.reason}: {exc.verify_message}"
        elif isinstance(exc, ssl.SSLError):
            record["reason"] = exc.reason or type(exc).__name__
        entry["error"] = record
        entry["elapsed_ms"] = _ms(start)

    def connect(self, host, port):
        entry = self._add("connect", f"connect {host}:{port}")
        entry["host"], entry["port"] = host, port
        start = time.monotonic()
        try:
            self.sock = socket.create_connection((host, port), timeout=self.timeout)
        except OSError as exc:
            self._error(entry, exc, start)
            raise _Stop from None
        entry["peer"] = "{}:{}".format(*self.sock.getpeername()[:2])
        entry["elapsed_ms"] = _ms(start)
        self.reader = self.sock.makefile("rb")

    def handshake(self, host, context):
        entry = self._add("tls_handshake", None)
        start = time.monotonic()
        try:
            self.sock = context.wrap_socket(self.sock, server_hostname=host)
        except OSError as exc:  # ssl.SSLError and socket errors both derive from OSError
            self._error(entry, exc, start)
            raise _Stop from None
        entry["elapsed_ms"] = _ms(start)
        self.reader = self.sock.makefile("rb")
        self.tls = _tls_info(self.sock)
        entry["reply"] = [f"{self.tls['version']} {self.tls['cipher']}"]

    def exchange(self, step, line=None, shown=None, expected=None):
        """Send line (if any), read one reply; return its code. Stops on an unexpected code."""
        entry = self._add(step, shown if shown is not None else line)
        start = time.monotonic()
        try:
            if line is not None:
                self.sock.sendall(line.encode("utf-8") + b"\r\n")
            code, lines = self._read_reply()
        except (OSError, ValueError) as exc:
            self._error(entry, exc, start)
            raise _Stop from None
        entry["code"], entry["reply"], entry["elapsed_ms"] = code, lines, _ms(start)
        if expected is not None and code not in expected:
            self.quit()
            raise _Stop
        return code

    def _read_reply(self):
        lines = []
        while True:
            raw = self.reader.readline(8192)
            if not raw:
                raise ConnectionClosedError("the server closed the connection")
            text = mask(raw.decode("utf-8", "replace").rstrip("\r\n"), self.secret_values)
            if len(text) < 3 or not text[:3].isdigit() or text[3:4] not in ("", " ", "-"):
                raise BadReplyError(f"not an SMTP reply: {text[:200]!r}")
            lines.append(text[4:])
            if text[3:4] != "-":
                return int(text[:3]), lines

    def quit(self):
        if self.sock is None:
            return
        with contextlib.suppress(_Stop):
            self.exchange("quit", "QUIT")
        self.close()

    def close(self):
        for thing in (self.reader, self.sock):
            try:
                if thing is not None:
                    thing.close()
            except OSError:
                pass
        self.sock = self.reader = None


def _tls_info(sock):
    cipher = sock.cipher()
    der = sock.getpeercert(binary_form=True)
    info = {
        "version": sock.version(),
        "cipher": cipher[0] if cipher else None,
        "peer_certificate": {"sha256": hashlib.sha256(der).hexdigest() if der else None},
    }
    cert = sock.getpeercert()  # empty when the certificate was not validated
    if cert:
        seconds = ssl.cert_time_to_seconds(cert["notAfter"])
        # timezone.utc, not datetime.UTC (3.11+): this runs on the servers' own Python.
        not_after = datetime.fromtimestamp(seconds, timezone.utc)  # noqa: UP017
        info["peer_certificate"].update(
            subject=_rdn_text(cert.get("subject", ())),
            issuer=_rdn_text(cert.get("issuer", ())),
            not_after=not_after.isoformat(),
        )
    return info


def ehlo_keywords(reply_lines):
    """EHLO reply lines after the greeting, e.g. ['SIZE 1000', 'STARTTLS', 'AUTH PLAIN LOGIN']."""
    return [line.strip() for line in reply_lines[1:] if line.strip()]


def auth_mechanisms(keywords):
    mechanisms = []
    for keyword in keywords:
        head, _, rest = keyword.replace("=", " ", 1).partition(" ")
        if head.upper() == "AUTH":
            mechanisms += [m.upper() for m in rest.split()]
    return mechanisms


def _test_message(sender, recipient, token, helo_name):
    subject = f"{SUBJECT_PREFIX} {token}"
    lines = [
        f"From: <{sender}>",
        f"To: <{recipient}>",
        f"Subject: {subject}",
        f"Date: {formatdate(localtime=False, usegmt=True)}",
        f"Message-ID: {make_msgid('preventcare', domain=helo_name)}",
        f"X-PreventCare-Token: {token}",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "PreventCare prerequisite PRE-01: this test message proves that the client's SMTP relay",
        "delivers mail from the monitored servers to the surveillance mailbox.",
        f"Token: {token}",
    ]
    # Dot-stuffing (RFC 5321 section 4.5.2).
    return "\r\n".join("." + ln if ln.startswith(".") else ln for ln in lines) + "\r\n.", subject


def run_dialogue(
    host,
    *,
    port=None,
    tls="starttls",
    validate_certs=True,
    ca_path=None,
    ca_data=None,
    username=None,
    password=None,
    sender=None,
    recipient=None,
    send_test_message=False,
    helo_name=None,
    timeout=10.0,
    check_mode=False,
):
    """Speak SMTP with the relay; return transcript, capabilities, tls, token, message_sent."""
    if tls not in TLS_MODES:
        raise SmtpCheckError(f"tls must be one of {', '.join(TLS_MODES)}, got {tls!r}")
    port = port or DEFAULT_PORTS[tls]
    context = tls_context(validate_certs, ca_path, ca_data)
    helo_name = helo_name or socket.getfqdn()
    # Every form the password can take on the wire, masked in the transcript (SEC-01).
    secret_values = secret_forms([password], username, min_length=1) if password else []
    token = secrets.token_hex(8) if send_test_message and not check_mode else None
    session = _Dialogue(timeout, secret_values)
    result = {"capabilities": [], "message_sent": False, "token": None, "subject": None}
    try:
        session.connect(host, port)
        if tls == "tls":
            session.handshake(host, context)
        session.exchange("banner", expected=EXPECTED["banner"])
        keywords = _hello(session, helo_name)
        if any(k.upper() == "STARTTLS" for k in keywords):
            session.exchange("starttls", "STARTTLS", expected=EXPECTED["starttls"])
            session.handshake(host, context)
            keywords = _hello(session, helo_name, ehlo_only=True)
        elif tls == "starttls":
            session.quit()  # classify() reports tls_not_offered from the EHLO reply
            raise _Stop
        result["capabilities"] = keywords
        if username:
            _authenticate(session, keywords, username, password)
        session.exchange("mail", f"MAIL FROM:<{sender}>", expected=EXPECTED["mail"])
        session.exchange("rcpt", f"RCPT TO:<{recipient}>", expected=EXPECTED["rcpt"])
        if token:
            body, subject = _test_message(sender, recipient, token, helo_name)
            session.exchange("data", "DATA", expected=EXPECTED["data"])
            result["token"], result["subject"] = token, subject
            session.exchange(
                "message", body, shown=f"(test message) Subject: {subject}", expected=(250,)
            )
            result["message_sent"] = True
        else:
            session.exchange("rset", "RSET")
        session.quit()
    except _Stop:
        pass
    finally:
        session.close()
    if not result["capabilities"]:
        result["capabilities"] = capabilities(session.transcript)
    result.update(transcript=session.transcript, tls=session.tls)
    return result


def _hello(session, helo_name, ehlo_only=False):
    code = session.exchange("ehlo", f"EHLO {helo_name}")
    if code == 250:
        return ehlo_keywords(session.transcript[-1]["reply"])
    if 500 <= code < 600 and not ehlo_only:  # old server without ESMTP
        session.exchange("helo", f"HELO {helo_name}", expected=EXPECTED["helo"])
        return []
    session.quit()
    raise _Stop


def _authenticate(session, keywords, username, password):
    mechanisms = auth_mechanisms(keywords)
    if "PLAIN" in mechanisms:
        blob = base64.b64encode(f"\0{username}\0{password}".encode()).decode()
        session.exchange("auth", f"AUTH PLAIN {blob}", f"AUTH PLAIN {MASK}", expected=(235,))
    elif "LOGIN" in mechanisms:
        session.exchange("auth", "AUTH LOGIN", expected=(334,))
        user = base64.b64encode(username.encode()).decode()
        session.exchange("auth_username", user, MASK, expected=(334,))
        secret = base64.b64encode(password.encode()).decode()
        session.exchange("auth_password", secret, MASK, expected=(235,))
    else:
        session.quit()  # classify() reports auth_failed from the EHLO reply
        raise _Stop


def capabilities(transcript):
    """EHLO keywords of the last successful EHLO of a transcript."""
    for entry in reversed(transcript):
        if entry.get("step") == "ehlo" and entry.get("code") == 250:
            return ehlo_keywords(_lines(entry.get("reply")))
    return []


def timings(transcript):
    """{step: elapsed_ms} (a repeated step gets _2, _3...) and total."""
    out, total = {}, 0
    for entry in transcript:
        key, n = entry.get("step", "?"), 2
        while key in out:
            key, n = f"{entry.get('step', '?')}_{n}", n + 1
        ms = int(entry.get("elapsed_ms") or 0)
        out[key] = ms
        total += ms
    out["total"] = total
    return out


def _lines(reply):
    if reply is None:
        return []
    if isinstance(reply, str):  # PowerShell may unroll a one-element array
        return [reply]
    return [str(line) for line in reply]


def _reply_text(entry):
    """The server's reply as one line ("550 5.7.1 Relaying denied"), or the error's own text."""
    if entry.get("error"):
        return str(entry["error"].get("message") or "")
    lines = _lines(entry.get("reply"))
    code = entry.get("code")
    if code is None:
        return " / ".join(lines)
    return f"{code} {' / '.join(lines)}".rstrip()


def _error_class(entry):
    err = entry.get("error") or {}
    kind = err.get("type") or ""
    code = err.get("code")
    if kind == "SocketException" and code in WSA_CLASSES:
        return WSA_CLASSES[code]
    if err.get("name") in ERRNO_CLASSES:
        return ERRNO_CLASSES[err["name"]]
    if kind in TYPE_CLASSES:
        return TYPE_CLASSES[kind]
    if entry.get("step") == "tls_handshake":
        return "tls_failed"
    return "protocol"


def _error_reason(err):
    if err.get("reason"):
        return str(err["reason"])
    # native: Schannel's code of a Windows TLS failure (Win32Exception.NativeErrorCode).
    parts = [str(err.get(k)) for k in ("type", "name", "code", "native") if err.get(k) is not None]
    return " ".join(parts)


def _code_class(entry):
    step, code = str(entry.get("step")), entry["code"]
    # Postfix's default relay restriction (defer_unauth_destination) answers an address it
    # does not relay for with 454 4.7.1: a refusal by policy, not a passing greylist.
    if step == "rcpt" and code == 454 and _enhanced_status(entry) == "4.7.1":
        return "relay_denied"
    # STARTTLS was offered, then refused (454 4.7.0 TLS not available, 5xx): whatever the
    # code, TLS does not work, and retrying will not change it.
    if step == "starttls":
        return "tls_failed"
    if 400 <= code < 500:
        return "temporary"
    if 500 <= code < 600:
        if code == 530 and not step.startswith("auth"):
            return "auth_required"
        return FINAL_STEPS.get(step, "protocol")
    return "protocol"


def classify(transcript, tls="starttls", auth=False, language="en"):
    """Judge a transcript: status PASS/FAIL, failure_class, step, reply, reason, hint."""
    steps = [e for e in (transcript or []) if isinstance(e, dict)]
    context = {"host": "?", "port": "?", "step": "-", "reason": "", "subject": ""}
    for entry in steps:
        if entry.get("step") == "connect":
            context.update(host=entry.get("host", "?"), port=entry.get("port", "?"))
    verdict = _first_failure(steps, tls, auth)
    hints = HINTS.get(language, HINTS["en"])
    if verdict is None:
        sent = next((e for e in steps if e.get("step") == "message" and e.get("code") == 250), None)
        if sent:
            context["subject"] = str(sent.get("command", "")).partition("Subject: ")[2]
        return {
            "status": "PASS",
            "failure_class": None,
            "step": None,
            "reply": _reply_text(sent or _last(steps, "rcpt") or {}),
            "reason": None,
            "enhanced_status": None,
            "hint": hints["pass_sent" if sent else "pass"].format(**context),
        }
    failure_class, entry, reason = verdict
    reply = _reply_text(entry)
    enhanced = _enhanced_status(entry)
    context.update(step=entry.get("step", "-"), reason=reason or reply)
    # The most specific hint: for this step, then for this enhanced status class, then the
    # class's own (each hint speaks of what can happen at the step its reply came from).
    keys = [f"{failure_class}:{entry.get('step')}"]
    if enhanced:
        keys.append(f"{failure_class}:{enhanced[:3]}")
    template = next((hints[k] for k in keys if k in hints), hints[failure_class])
    return {
        "status": "FAIL",
        "failure_class": failure_class,
        "step": entry.get("step"),
        "reply": reply,
        "reason": reason or reply,
        "enhanced_status": enhanced,
        "hint": template.format(**context),
    }


def _enhanced_status(entry):
    """RFC 3463 enhanced status code at the start of a reply ("5.7.1"), or None."""
    lines = _lines(entry.get("reply"))
    match = _ENHANCED.match(lines[0] if lines else "")
    return match.group(1) if match and entry.get("code") is not None else None


def _last(steps, name):
    return next((e for e in reversed(steps) if e.get("step") == name), None)


def _first_failure(steps, tls, auth):
    """(failure_class, step entry, reason) of the first failing step, or None on success."""
    if not steps:
        return "protocol", {"step": "connect"}, "empty transcript"
    return _failed_step(steps) or _missing_step(steps, tls, auth)


def _failed_step(steps):
    for index, entry in enumerate(steps):
        step = entry.get("step")
        if step == "quit":  # the verdict is made before QUIT; its failures do not matter
            continue
        if entry.get("error"):
            return _error_class(entry), entry, _error_reason(entry["error"])
        code = entry.get("code")
        if code is None:
            if step in NO_REPLY_STEPS:
                continue
            return "protocol", entry, "no reply"
        if code in EXPECTED.get(step, ()):
            continue
        following = steps[index + 1] if index + 1 < len(steps) else {}
        if step == "ehlo" and 500 <= code < 600 and following.get("step") == "helo":
            continue
        return _code_class(entry), entry, None
    return None


def _missing_step(steps, tls, auth):
    """A dialogue that stopped cleanly before RCPT: which requirement stopped it."""
    hellos = [e for e in steps if e.get("step") in ("ehlo", "helo")]
    hello = hellos[-1] if hellos else steps[-1]
    if tls == "starttls" and not any(e.get("step") == "starttls" for e in steps):
        return "tls_not_offered", hello, "STARTTLS not advertised"
    if auth and not any(str(e.get("step", "")).startswith("auth") for e in steps):
        offered = auth_mechanisms(capabilities(steps))
        if offered:
            reason = "no supported AUTH mechanism (PLAIN, LOGIN) among " + " ".join(offered)
        else:
            reason = "AUTH not advertised by the server"
        return "auth_failed", hello, reason
    if not any(e.get("step") == "rcpt" for e in steps):
        return "protocol", steps[-1], "dialogue ended before RCPT TO"
    return None


def check_relay(language="en", **params):
    """run_dialogue() then classify(): the module's whole result, without `changed`."""
    raw = run_dialogue(**params)
    return summarize(
        raw, tls=params.get("tls", "starttls"), auth=bool(params.get("username")), language=language
    )


def summarize(raw, tls="starttls", auth=False, language="en"):
    """Verdict and evidence from a dialogue result (Python's or the Windows script's)."""
    transcript = raw.get("transcript") or []
    verdict = classify(transcript, tls=tls, auth=auth, language=language)
    tls_info = raw.get("tls") or {}
    verdict.update(
        transcript=transcript,
        capabilities=raw.get("capabilities") or capabilities(transcript),
        tls_version=tls_info.get("version"),
        tls_cipher=tls_info.get("cipher"),
        peer_certificate=tls_info.get("peer_certificate"),
        timings=timings(transcript),
        token=raw.get("token"),
        message_sent=bool(raw.get("message_sent")),
    )
    return verdict


# ---------------------------------------------------------------- the modules' interface
# The options of the SMTP dialogue, the same for library/preventcare_smtp_dialogue.py and
# for the `smtp` option of library/preventcare_evidence.py (one execution per server).
SMTP_OPTIONS = {
    "host": {"type": "str", "required": True},
    "port": {"type": "int"},
    "tls": {"type": "str", "choices": list(TLS_MODES), "default": "starttls"},
    "validate_certs": {"type": "bool", "default": True},
    "ca_path": {"type": "path", "aliases": ["cafile"]},
    "ca_data": {"type": "str"},
    "username": {"type": "str"},
    "password": {"type": "str", "no_log": True},
    "sender": {"type": "str", "required": True},
    "recipient": {"type": "str", "required": True},
    "send_test_message": {"type": "bool", "default": False},
    "helo_name": {"type": "str"},
    "timeout": {"type": "float", "default": 10},
    "language": {"type": "str", "choices": ["en", "fr"], "default": "en"},
}
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")


def argument_problems(params):
    """What is wrong with the dialogue's parameters, phrased for the person who set them."""
    problems = []
    port = params["port"]
    if port is not None and not 1 <= port <= 65535:
        problems.append(
            f"port {port} is out of range: give the relay's TCP port, 1-65535 "
            "(usually 25, 587 for STARTTLS or 465 for implicit TLS)"
        )
    if not params["host"].strip() or re.search(r"\s", params["host"].strip()):
        problems.append(f"host {params['host']!r} is not a host name or IP address")
    for name in ("sender", "recipient"):
        if not _ADDRESS.match(params[name]):
            problems.append(f"{name} {params[name]!r} is not an e-mail address (user@domain)")
    if params["helo_name"] is not None and not re.fullmatch(r"[\w.\-\[\]:]+", params["helo_name"]):
        problems.append(f"helo_name {params['helo_name']!r} is not a host name")
    if params["timeout"] <= 0:
        problems.append(f"timeout {params['timeout']} must be a positive number of seconds")
    if params.get("ca_path") and params.get("ca_data"):
        problems.append("give the CA as ca_path or as ca_data, not both")
    if params.get("username") and not params.get("password"):
        problems.append("username given without a password")
    return problems


def relay_check(params, check_mode):
    """The dialogue for a module's parameters: its verdict, or {failed, msg} on bad input."""
    problems = argument_problems(params)
    if problems:
        return {
            "failed": True,
            "msg": "preventcare_smtp_dialogue: invalid arguments: " + "; ".join(problems),
        }
    dialogue = {key: params[key] for key in SMTP_OPTIONS if key != "language"}
    dialogue["host"] = params["host"].strip()
    try:
        return check_relay(language=params["language"], check_mode=check_mode, **dialogue)
    except SmtpCheckError as exc:
        return {"failed": True, "msg": f"preventcare_smtp_dialogue: {exc}"}
