"""A PreventCare site on real test hosts: a monitor host and Linux servers in podman.

`SiteLab` boots systemd containers from localhost/preventcare-debian12:test on a podman network
of its own (fixed subnet, DNS on), writes a copy of the example inventory whose Linux hosts are
those containers (podman connection) and whose contract is edited by the caller, and converges
it with the real `playbooks/site_day.yml`. `MailSink` is the SMTP relay the alerts go to: an
aiosmtpd server on every address of this machine, which the containers reach as
host.containers.internal, recording when each message arrived.

Used by tests/integration/test_alert_mail_e2e.py and scripts/measure-footprint.py.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import yaml
from aiosmtpd.smtp import AuthResult, LoginPassword

ROOT = Path(__file__).resolve().parents[2]
# The podman wrapper (CONTAINERS_CONF, clear errors) and the aiosmtpd controller are shared
# with the Postfix relay test and the SMTP unit tests.
for _folder in (ROOT / "tests", ROOT / "tests" / "containers" / "postfix"):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

from podman_lab import LabError, build_image, podman, podman_env, wait_for  # noqa: E402
from smtp_servers import EphemeralController, RecordingHandler, TlsMaterial  # noqa: E402

IMAGE = "localhost/preventcare-debian12:test"
EXAMPLE = ROOT / "inventories" / "example"
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")
PROMETHEUS = "http://127.0.0.1:9090"
# How the containers reach this machine (podman writes it into their /etc/hosts).
HOST_FROM_CONTAINERS = "host.containers.internal"

# GET argv[1], as the stack's web user argv[2]:argv[3] when given (SEC-03).
_FETCH = (
    "import base64, sys, urllib.request; request = urllib.request.Request(sys.argv[1]); "
    "auth = sys.argv[2:4]; "
    "auth and request.add_header('Authorization', 'Basic ' + "
    "base64.b64encode(':'.join(auth).encode()).decode()); "
    "sys.stdout.write(urllib.request.urlopen(request, timeout=15).read().decode())"
)

__all__ = [
    "EXAMPLE",
    "HOST_FROM_CONTAINERS",
    "IMAGE",
    "PROMETHEUS",
    "ROOT",
    "Arrival",
    "LabError",
    "MailSink",
    "SiteLab",
    "podman",
    "podman_env",
]


# --------------------------------------------------------------------------- mail
@dataclass
class Arrival:
    """One message accepted by the sink, with the time (time.time()) it arrived."""

    at: float
    mail_from: str
    rcpt_tos: list
    message: email.message.EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()


@dataclass
class _TimedHandler(RecordingHandler):
    arrivals: list = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        if reply.startswith("250"):
            message = email.message_from_bytes(
                envelope.original_content, policy=email.policy.default
            )
            self.arrivals.append(
                Arrival(time.time(), envelope.mail_from, list(envelope.rcpt_tos), message)
            )
        return reply


class _Login:
    """aiosmtpd authenticator: one user and password (PLAIN or LOGIN); records who logged in."""

    def __init__(self, user: str, password: str):
        self.expected = (user.encode(), password.encode())
        self.logins: list[tuple[str, str]] = []  # (user, client address) of each good login

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (
            (auth_data.login, auth_data.password) == self.expected
        )
        if ok:
            self.logins.append((auth_data.login.decode(), session.peer[0]))
        # handled=False: aiosmtpd itself answers 535 to a wrong login.
        return AuthResult(success=ok, handled=False)


class MailSink:
    """An SMTP relay on 0.0.0.0 (ephemeral port) that keeps every message.

    With `tls` (a private CA's material) it offers STARTTLS and takes no mail without it;
    with `login` (user, password) as well, it takes no mail without that login (the relay of
    a contract with smtp_relay.auth), and answers a wrong one 535.
    """

    def __init__(self, tls: TlsMaterial | None = None, login: tuple[str, str] | None = None):
        self.handler = _TimedHandler()
        options = {"server_hostname": "relay.test", "ready_timeout": 5}
        if tls is not None:
            options.update(tls_context=tls.server_context(), require_starttls=True)
        self.login = _Login(*login) if login else None
        if self.login:
            options.update(authenticator=self.login, auth_required=True)
        self.controller = EphemeralController(self.handler, hostname="0.0.0.0", port=0, **options)

    def start(self) -> MailSink:
        self.controller.start()
        return self

    @property
    def port(self) -> int:
        return self.controller.port

    @property
    def arrivals(self) -> list[Arrival]:
        return list(self.handler.arrivals)

    def find(self, predicate) -> Arrival | None:
        return next((a for a in self.arrivals if predicate(a)), None)

    def wait_for(self, predicate, timeout: float, step: float = 0.2) -> Arrival | None:
        deadline = time.monotonic() + timeout
        while True:
            found = self.find(predicate)
            if found or time.monotonic() > deadline:
                return found
            time.sleep(step)

    def stop(self):
        self.controller.stop()


# --------------------------------------------------------------------------- hosts
@dataclass
class SiteLab:
    """Containers PREFIX-HOST on network PREFIX (SUBNET_PREFIX.0/24), and their inventory."""

    workdir: Path
    # Overridable so that two engineers' runs on one machine do not share names.
    prefix: str = os.environ.get("PREVENTCARE_E2E_PREFIX", "preventcare-e2e")
    subnet_prefix: str = os.environ.get("PREVENTCARE_E2E_SUBNET", "10.89.211")  # /24, one per lab
    monitor: str = "mon01"
    servers: tuple[str, ...] = ("srv-lin01",)
    inventory: Path | None = None
    # The hosts' image and the repo script that builds it (cached); the sensors image carries
    # the set-up day's packages (tests/containers/sensors/build-image.sh).
    image: str = IMAGE
    image_script: str = "tests/containers/build-image.sh"

    @property
    def network(self) -> str:
        return self.prefix

    @property
    def hosts(self) -> tuple[str, ...]:
        return (self.monitor, *self.servers)

    def container(self, host: str) -> str:
        return f"{self.prefix}-{host}"

    def address(self, host: str) -> str:
        return f"{self.subnet_prefix}.{10 + self.hosts.index(host)}"

    # ---- containers
    def start(self) -> SiteLab:
        build_image(ROOT / self.image_script)
        self.stop()  # leftovers of an interrupted run
        podman("network", "create", "--subnet", f"{self.subnet_prefix}.0/24", self.network)
        for host in self.hosts:
            podman("run", "-d", "--name", self.container(host), "--hostname", host,
                   "--network", self.network, "--network-alias", host, "--ip", self.address(host),
                   # NET_ADMIN: the servers' nftables firewall (SEC-03) in their own namespace.
                   "--cap-add", "NET_ADMIN",
                   "--systemd=always", self.image, "/sbin/init")  # fmt: skip
        for host in self.hosts:
            self.exec(host, "systemctl", "is-system-running", "--wait", timeout=90, check=False)
        return self

    def exec(self, host: str, *command: str, check: bool = True, timeout: float = 60):
        return podman("exec", self.container(host), *command, check=check, timeout=timeout)

    def shell(self, host: str, script: str, check: bool = True, timeout: float = 120):
        return self.exec(host, "sh", "-c", script, check=check, timeout=timeout)

    def stop(self):
        names = [self.container(host) for host in self.hosts]
        podman("rm", "-f", "-t", "0", "--ignore", *names, check=False)
        if podman("network", "exists", self.network, check=False).returncode == 0:
            podman("network", "rm", "-f", self.network, check=False)

    # ---- inventory and converge
    def write_inventory(self, contract_edit) -> Path:
        """Copy the example inventory with the lab's hosts; contract_edit(contract) edits it."""
        inv = self.workdir / "inventory"
        (inv / "group_vars" / "all").mkdir(parents=True, exist_ok=True)
        example = yaml.safe_load((EXAMPLE / "hosts.yml").read_text(encoding="utf-8"))
        groups = example["all"]["children"]
        linux = groups["linux"]["hosts"]
        template = linux.get("srv-lin01") or next(iter(linux.values()))
        lab_linux = {}
        for host in self.hosts:
            base = linux.get(host, template)
            lab_linux[host] = {
                "ansible_host": self.container(host),
                "preventcare_monitor_address": host,
                "preventcare_site": base["preventcare_site"],
                "preventcare_roles": base["preventcare_roles"],
            }
        groups["linux"] = {
            "hosts": lab_linux,
            "vars": {"ansible_connection": "containers.podman.podman"},
        }
        # No Windows host runs here: the monitor scrapes unassigned addresses of the lab's
        # network, so no packet leaves the machine.
        for number, variables in enumerate(groups["windows"]["hosts"].values()):
            variables["preventcare_monitor_address"] = f"{self.subnet_prefix}.{250 + number}"
        groups["monitor"] = {"hosts": {self.monitor: None}}
        (inv / "hosts.yml").write_text("---\n" + yaml.safe_dump(example, sort_keys=False))
        # The lab's site CA stays in its folder: the example's client is molecule/site's too,
        # and both may run at once (scripts/test.sh runs pytest beside the scenarios).
        lab_vars = {"preventcare_pki_root": str(self.workdir / "pki")}
        (inv / "group_vars" / "all" / "lab.yml").write_text("---\n" + yaml.safe_dump(lab_vars))

        source = EXAMPLE / "group_vars" / "all"
        data = yaml.safe_load((source / "preventcare.yml").read_text(encoding="utf-8"))
        contract = data["preventcare"]
        # The other site's VPN peer and the antivirus console are lab addresses as well.
        for site in contract["sites"]:
            if site["name"] != lab_linux[self.monitor]["preventcare_site"]:
                site["vpn_peer"] = self.address(self.servers[0])
        contract.setdefault("monitoring", {})["antivirus_console"] = f"{self.monitor}:9115"
        contract_edit(contract)
        # The example's clear-text vault (dummy values) comes along.
        shutil.copy2(source / "vault.yml", inv / "group_vars" / "all" / "vault.yml")
        (inv / "group_vars" / "all" / "preventcare.yml").write_text(
            "---\n" + yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
        self.inventory = inv
        return inv

    def converge(
        self, timeout: float = 900, skip_tags: tuple[str, ...] = ("prerequisites", "document")
    ) -> subprocess.CompletedProcess:
        """Run playbooks/site_day.yml on the lab's Linux hosts, limited as molecule does.

        The labs prove alerts: by default they skip the set-up day's prerequisites and
        technical document (stages of their own, which molecule/site proves on a site built
        to pass them); the heartbeat proof runs.
        """
        env = {
            **podman_env(),
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
            "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(self.workdir / "facts"),
            "ANSIBLE_LOCAL_TEMP": str(self.workdir / "ansible-tmp"),
            "ANSIBLE_NOCOLOR": "1",
        }
        command = [str(ANSIBLE_PLAYBOOK), "-i", str(self.inventory), "playbooks/site_day.yml"]
        command += ["--limit", "linux:localhost"]
        if skip_tags:
            command += ["--skip-tags", ",".join(skip_tags)]
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
        (self.workdir / "converge.log").write_text(done.stdout + done.stderr, encoding="utf-8")
        if done.returncode != 0:
            raise LabError(
                f"{shlex.join(command)} failed ({done.returncode}); end of its output:\n"
                + (done.stdout + done.stderr)[-4000:]
            )
        return done

    # ---- the monitor host's APIs (they answer on its loopback only, SEC-03)
    def web_credentials(self) -> list[str]:
        """The stack's web user and password (SEC-03), from the lab's inventory."""
        folder = (self.inventory or self.workdir / "inventory") / "group_vars" / "all"
        contract = yaml.safe_load((folder / "preventcare.yml").read_text(encoding="utf-8"))
        auth = (contract["preventcare"].get("monitoring") or {}).get("web_auth")
        if not auth:
            return []
        secrets = yaml.safe_load((folder / "vault.yml").read_text(encoding="utf-8"))
        return [auth["username"], secrets[auth["password"].strip("{} ")]]

    def api(self, url: str):
        arguments = [url, *self.web_credentials()]
        done = self.exec(self.monitor, "python3", "-c", _FETCH, *arguments, timeout=30)
        return json.loads(done.stdout)

    @staticmethod
    def wait_for(probe, timeout: float, step: float = 1.0):
        return wait_for(probe, timeout, step)

    def targets_up(self, job: str) -> bool:
        targets = self.api(f"{PROMETHEUS}/api/v1/targets?state=active")["data"]["activeTargets"]
        mine = [t for t in targets if t["labels"].get("job") == job]
        return bool(mine) and all(t["health"] == "up" for t in mine)

    def query(self, promql: str) -> list:
        return self.api(f"{PROMETHEUS}/api/v1/query?query={quote(promql)}")["data"]["result"]
