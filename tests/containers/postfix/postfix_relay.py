"""A real Postfix relay in podman, with one test host inside its mynetworks and one outside.

`PostfixLab.start()` builds localhost/preventcare-postfix:test when missing (build-image.sh),
creates a podman network with a fixed subnet and three containers on it:

- the relay (systemd + Postfix), which relays only for 127.0.0.0/8 and the inside host's /32
  (`reject_unauth_destination`), and routes the surveillance domain - not one of its own
  destinations, so relaying to it is a real relay decision - to a local mailbox readable
  with `podman exec`; every other destination goes to the `error` transport, so nothing
  ever leaves the machine;
- "inside" and "outside": plain test hosts (the Debian 12 test image) that run the
  preventcare_smtp module through Ansible's podman connection.

`stop()` removes the containers and the network; leftovers of an interrupted run are removed
before a start.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import ansible_cli
from podman_lab import LabError, build_image, podman, podman_env

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
IMAGE = "localhost/preventcare-postfix:test"
HOST_IMAGE = "localhost/preventcare-debian12:test"
PREFIX = "preventcare-pf"
NETWORK = PREFIX
SUBNET = "10.89.201.0/24"
RELAY_IP, INSIDE_IP, OUTSIDE_IP = "10.89.201.10", "10.89.201.20", "10.89.201.30"
RELAY_NAME = "relay.preventcare.test"
MAILBOX_USER = "surveillance"
SURVEILLANCE_DOMAIN = "preventcare.test"
MAILBOX = f"{MAILBOX_USER}@{SURVEILLANCE_DOMAIN}"
MAIL_SPOOL = f"/var/mail/{MAILBOX_USER}"

# The relay policy under test: relay for mynetworks only, refuse everyone else for good (5xx).
POSTFIX_SETTINGS = {
    "myhostname": RELAY_NAME,
    "inet_interfaces": "all",
    "inet_protocols": "ipv4",
    "mynetworks": f"127.0.0.0/8 {INSIDE_IP}/32",
    "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination",
    "transport_maps": "hash:/etc/postfix/transport",
    "maillog_file": "/var/log/postfix.log",
}


@dataclass
class PostfixLab:
    relay: str = f"{PREFIX}-relay"
    inside: str = f"{PREFIX}-inside"
    outside: str = f"{PREFIX}-outside"

    def start(self) -> PostfixLab:
        self.build_image()
        self.stop()
        podman("network", "create", "--subnet", SUBNET, NETWORK)
        common = ["run", "-d", "--network", NETWORK]
        podman(*common, "--name", self.relay, "--hostname", RELAY_NAME, "--ip", RELAY_IP,
               "--systemd=always", IMAGE, "/sbin/init")  # fmt: skip
        for name, address in ((self.inside, INSIDE_IP), (self.outside, OUTSIDE_IP)):
            podman(*common, "--name", name, "--hostname", name, "--ip", address,
                   HOST_IMAGE, "sleep", "infinity")  # fmt: skip
        self.exec(self.relay, "systemctl", "is-system-running", "--wait", timeout=90, check=False)
        self.configure(POSTFIX_SETTINGS)
        return self

    @staticmethod
    def build_image():
        build_image(HERE / "build-image.sh")

    def exec(self, container, *command, check=True, timeout=60):
        return podman("exec", container, *command, check=check, timeout=timeout)

    def configure(self, settings: dict):
        """Apply main.cf settings, create the mailbox, restart Postfix and wait for port 25."""
        script = (
            f"id -u {MAILBOX_USER} >/dev/null 2>&1 || useradd -m {MAILBOX_USER}; "
            f"printf '{SURVEILLANCE_DOMAIN} local:\\n' >/etc/postfix/transport; "
            "postmap /etc/postfix/transport; "
            'postconf -e "$@" && systemctl restart postfix'
        )
        pairs = [f"{key} = {value}" for key, value in settings.items()]
        self.exec(self.relay, "sh", "-c", script, "configure", *pairs)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            probe = self.exec(self.relay, "sh", "-c", "ss -Hltn 'sport = :25'", check=False)
            if probe.stdout.strip():
                return
            time.sleep(0.2)
        raise LabError("Postfix did not listen on port 25 within 30 s: " + self.postfix_log())

    def postfix_log(self) -> str:
        return self.exec(self.relay, "tail", "-n", "30", "/var/log/postfix.log", check=False).stdout

    def mailbox(self) -> str:
        """The surveillance mailbox (mbox) as delivered by Postfix's local agent."""
        return self.exec(self.relay, "sh", "-c", f"cat {MAIL_SPOOL} 2>/dev/null || true").stdout

    def message_count(self) -> int:
        return sum(1 for line in self.mailbox().splitlines() if line.startswith("From "))

    def wait_for_mail(self, needle: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            box = self.mailbox()
            if needle in box:
                return box
            time.sleep(0.2)
        raise AssertionError(
            f"{needle!r} did not arrive in {MAIL_SPOOL} within {timeout} s; Postfix log:\n"
            + self.postfix_log()
        )

    def stop(self):
        names = [self.relay, self.inside, self.outside]
        podman("rm", "-f", "-t", "0", "--ignore", *names, check=False)
        if podman("network", "exists", NETWORK, check=False).returncode == 0:
            podman("network", "rm", "-f", NETWORK, check=False)


def run_module(container: str, args: dict, workdir: Path, *extra) -> tuple[int, dict, str]:
    """Run preventcare_smtp on a test host through Ansible's podman connection."""
    return ansible_cli.run_module(
        "preventcare_smtp_dialogue",
        args,
        workdir,
        *extra,
        target=("all", "-i", f"{container},", "-c", "containers.podman.podman"),
        env={**podman_env(), "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3"},
    )
