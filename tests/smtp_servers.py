"""Real SMTP servers on 127.0.0.1 ephemeral ports for tests (aiosmtpd), and odd ones (raw sockets).

Loaded as a pytest plugin (`-p smtp_servers` in pyproject.toml) for the fixtures `smtp_server`,
`raw_server`, `closed_port` and `tls_material`, or call the helpers directly.
"""

from __future__ import annotations

import contextlib
import datetime
import email
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOOPBACK = "127.0.0.1"


@dataclass
class TlsMaterial:
    """A test CA and a server certificate it signed for localhost and 127.0.0.1."""

    ca_path: Path
    cert_path: Path
    key_path: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert_path, self.key_path)
        return ctx


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "PreventCare tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def make_tls_material(folder: Path, names=("localhost",)) -> TlsMaterial:
    """Write ca.pem, relay.pem and relay.key (EC P-256, valid for one day) under folder.

    The relay's certificate names `names` and the loopback address.
    """
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("PreventCare test CA"))
        .issuer_name(_name("PreventCare test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("relay.test"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    *(x509.DNSName(name) for name in names),
                    x509.IPAddress(ipaddress.ip_address(LOOPBACK)),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    material = TlsMaterial(folder / "ca.pem", folder / "relay.pem", folder / "relay.key")
    material.ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    material.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    material.key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return material


@dataclass
class RecordingHandler:
    """aiosmtpd handler: keeps accepted messages; a *_reply set to an SMTP reply refuses."""

    mail_reply: str | None = None
    rcpt_reply: str | None = None
    data_reply: str | None = None
    messages: list = field(default_factory=list)
    envelopes: list = field(default_factory=list)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.mail_reply:
            return self.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.original_content))
        return "250 2.0.0 Ok: queued as PC0001"


class _RelaySMTP(SMTP):
    # AUTH LOGIN prompts as Postfix (Cyrus/Dovecot SASL) and Exchange send them. aiosmtpd's own
    # ("User Name\0") are refused by Alertmanager's LOGIN client ("unexpected server challenge"),
    # which no relay of a client would do.
    AuthLoginUsernameChallenge = "Username:"
    AuthLoginPasswordChallenge = "Password:"


class EphemeralController(Controller):
    """aiosmtpd Controller on port 0: learns the real port before its readiness probe."""

    def factory(self):
        return _RelaySMTP(self.handler, **self.SMTP_kwargs)

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: RecordingHandler
    controller: EphemeralController

    @property
    def messages(self):
        return self.handler.messages


def start_smtp_server(
    *,
    starttls: TlsMaterial | None = None,
    implicit_tls: TlsMaterial | None = None,
    require_starttls: bool = False,
    credentials: tuple[str, str] | None = None,
    **replies,
) -> SmtpServer:
    """Start an aiosmtpd relay. credentials=(user, password) makes AUTH required."""
    handler = RecordingHandler(**replies)
    options = {"server_hostname": "relay.test", "ready_timeout": 5.0}
    if starttls:
        options.update(tls_context=starttls.server_context(), require_starttls=require_starttls)
    if implicit_tls:
        options["ssl_context"] = implicit_tls.server_context()
    if credentials:

        def authenticator(server, session, envelope, mechanism, auth_data):
            given = (auth_data.login.decode(), auth_data.password.decode())
            # handled=False: aiosmtpd itself answers 535 to a wrong password.
            return AuthResult(success=given == credentials, handled=False)

        options.update(auth_required=True, auth_require_tls=False, authenticator=authenticator)
    controller = EphemeralController(handler, hostname=LOOPBACK, port=0, **options)
    controller.start()
    return SmtpServer(LOOPBACK, controller.port, handler, controller)


class RawServer:
    """A hand-made TCP server: greets with `banner`, then answers each line with respond(line).

    Without a banner it stays silent: the kernel completes the handshake, nobody answers.
    Without `respond` it closes after the banner (once the client's first line, QUIT, arrives).
    """

    def __init__(self, banner: bytes | None = None, respond=None):
        self.banner, self.respond = banner, respond
        self.sock = socket.create_server((LOOPBACK, 0), backlog=8)
        self.host, self.port = LOOPBACK, self.sock.getsockname()[1]
        self._thread = None
        if banner is not None:
            self._thread = threading.Thread(target=self._serve, daemon=True)
            self._thread.start()

    def _serve(self):
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.sock.accept()
                with conn, conn.makefile("rb") as lines:
                    conn.settimeout(2)
                    conn.sendall(self.banner)
                    for line in lines:
                        if self.respond is None:
                            break
                        conn.sendall(self.respond(line.rstrip(b"\r\n")))

    def close(self):
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        if self._thread:
            self._thread.join(timeout=2)


@contextlib.contextmanager
def closed_port_socket():
    """A port bound but not listening: connecting to it is refused, with no race."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((LOOPBACK, 0))
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


@pytest.fixture(scope="session")
def tls_material(tmp_path_factory) -> TlsMaterial:
    return make_tls_material(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture
def smtp_server():
    """Factory: smtp_server(**start_smtp_server options) -> SmtpServer, stopped at teardown."""
    started = []

    def start(**options):
        server = start_smtp_server(**options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.controller.stop()


@pytest.fixture
def raw_server():
    """Factory: raw_server(b"421 ...\\r\\n", respond=None), or raw_server() for a silent one."""
    started = []

    def start(banner=None, respond=None):
        server = RawServer(banner, respond)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture
def closed_port():
    with closed_port_socket() as port:
        yield port
