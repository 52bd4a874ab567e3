#!/usr/bin/env python3
"""Benchmark: a PreventCare playbook against `ansible -m ansible.builtin.setup`.

Boots N real systemd containers of the project's test image on a network of their own,
writes an inventory of them (the demo contract, its relay an SMTP server on this machine),
then runs, alternately, the playbook (prerequisites.yml or compliance.yml) and Ansible's own
fact gathering over the same hosts, ROUNDS times each. It prints both medians, their ratio,
and the remote executions per host, counted from the task results (a result carrying a
module invocation), not assumed.

    .venv/bin/python tests/bench/bench_playbooks.py [--playbook prerequisites|compliance]
        [--hosts 10] [--rounds 3] [--warmup 1]

It is a benchmark, not a test: run it by hand, and write its figures in docs/benchmarks.md
with the command. Around 20 systemd containers need more inotify instances than Debian's
default 128: with --hosts above 16 the script raises fs.inotify.max_user_instances (as
root) for its run, and says so.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))

import yaml  # noqa: E402
from podman_lab import LabError, build_image, podman, podman_env  # noqa: E402
from site_lab import HOST_FROM_CONTAINERS, MailSink  # noqa: E402

IMAGE = "localhost/preventcare-debian12:test"
PREFIX = "pc-bench"
SUBNET = "10.89.241"
BIN = Path(sys.executable).parent
# Actions that run on the controller only: their results are not remote executions.
CONTROLLER_ONLY = {"set_fact", "debug", "assert", "add_host", "group_by", "meta"}


def start_hosts(count: int) -> list[str]:
    names = [f"{PREFIX}-{n:02d}" for n in range(1, count + 1)]
    stop_hosts(names)
    podman("network", "create", "--subnet", f"{SUBNET}.0/24", PREFIX)
    for name in names:
        podman("run", "-d", "--name", name, "--hostname", name, "--network", PREFIX,
               "--systemd=always", IMAGE, "/sbin/init")  # fmt: skip
    for name in names:
        podman("exec", name, "systemctl", "is-system-running", "--wait", check=False, timeout=120)
    return names


def stop_hosts(names):
    podman("rm", "-f", "-t", "0", "--ignore", *names, check=False)
    if podman("network", "exists", PREFIX, check=False).returncode == 0:
        podman("network", "rm", "-f", PREFIX, check=False)


def write_inventory(folder: Path, names: list[str], relay_port: int) -> Path:
    inventory = folder / "inventory"
    shutil.copytree(ROOT / "inventories" / "demo", inventory)
    hosts = yaml.safe_load((inventory / "hosts.yml").read_text(encoding="utf-8"))
    # Only the containers are servers: the demo's localhost (this machine) would add a host the
    # fact gathering does not read the same way (this machine's apt keeps no package cache, as
    # in a container image, so each apt-get rebuilds it: 1.8 s of the compliance run alone).
    # The controller's plays run on the implicit localhost.
    hosts["all"]["hosts"] = {}
    hosts["all"]["children"] = {
        "windows": None,
        "linux": {
            "hosts": {
                name: {"ansible_host": name, "preventcare_site": "local", "preventcare_roles": []}
                for name in names
            },
            "vars": {"ansible_connection": "containers.podman.podman"},
        },
    }
    (inventory / "hosts.yml").write_text(yaml.safe_dump(hosts, sort_keys=False))
    contract_file = inventory / "group_vars" / "all" / "preventcare.yml"
    document = yaml.safe_load(contract_file.read_text(encoding="utf-8"))
    document["preventcare"]["smtp_relay"].update(host=HOST_FROM_CONTAINERS, port=relay_port)
    document["preventcare"]["monitor_host"] = names[0]
    document["preventcare"]["sites"][0]["subnets"] = ["127.0.0.0/8", f"{SUBNET}.0/24"]
    contract_file.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    return inventory


def timed(command: list[str], env: dict) -> tuple[float, str]:
    start = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - start
    if "Traceback" in done.stderr or not done.stdout.strip():
        raise LabError(f"{command[0]} failed ({done.returncode}): {done.stderr[-1500:]}")
    return elapsed, done.stdout


def remote_executions(json_output: str, hosts: list[str]) -> Counter:
    """Per host, the task results that ran a module on it (json callback output)."""
    document = json.loads(json_output)
    counts = Counter({host: 0 for host in hosts})
    for play in document["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                if host not in counts or result.get("skipped"):
                    continue
                action = result.get("action") or task["task"].get("action") or ""
                if action.split(".")[-1] in CONTROLLER_ONLY:
                    continue
                if "invocation" in result or result.get("unreachable"):
                    counts[host] += 1
    return counts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--playbook", choices=("prerequisites", "compliance"), default="prerequisites"
    )
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    # Untimed first rounds: the first run on fresh containers builds what a server in use
    # already has (apt's package cache, Ansible's module cache on the controller).
    parser.add_argument("--warmup", type=int, default=1)
    args = parser.parse_args(argv)
    if args.rounds < 3:
        parser.error("--rounds: at least 3, so that a median means something")
    if args.hosts > 16:
        print("raising fs.inotify.max_user_instances to 1024 for many systemd containers")
        subprocess.run(["sysctl", "-qw", "fs.inotify.max_user_instances=1024"], check=True)
    build_image(ROOT / "tests" / "containers" / "build-image.sh")
    work = Path(tempfile.mkdtemp(prefix="pc-bench-"))
    sink = MailSink().start()
    names = []
    try:
        print(f"booting {args.hosts} systemd containers ...", flush=True)
        names = start_hosts(args.hosts)
        inventory = write_inventory(work, names, sink.port)
        env = {
            **podman_env(),
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
            "ANSIBLE_STDOUT_CALLBACK": "json",
            "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(work / "facts"),
            "ANSIBLE_LOCAL_TEMP": str(work / "tmp"),
        }
        playbook = [
            str(BIN / "ansible-playbook"), "-i", str(inventory),
            str(ROOT / "playbooks" / f"{args.playbook}.yml"),
            "-e", f"preventcare_reports_root={work / 'reports'}",
        ]  # fmt: skip
        # `all`, as the issue asks: the same hosts as the playbook's, the containers.
        setup = [str(BIN / "ansible"), "-i", str(inventory), "all", "-m", "ansible.builtin.setup"]
        times = {args.playbook: [], "setup": []}
        executions = {}
        for number in range(args.warmup):
            for name, command in ((args.playbook, playbook), ("setup", setup)):
                elapsed, _ = timed(command, env)
                print(f"warm-up {number + 1}: {name} {elapsed:.1f} s (not counted)", flush=True)
        for number in range(1, args.rounds + 1):
            for name, command in ((args.playbook, playbook), ("setup", setup)):
                elapsed, output = timed(command, env)
                times[name].append(elapsed)
                if name == args.playbook:
                    executions = remote_executions(output, names)
                print(f"round {number}: {name} {elapsed:.1f} s", flush=True)
        medians = {name: statistics.median(values) for name, values in times.items()}
        per_host = sorted(set(executions.values()))
        print()
        print(f"hosts: {args.hosts} Linux (systemd containers, podman connection)")
        print(f"rounds: {args.rounds} each, alternated, after {args.warmup} warm-up round(s)")
        print(f"{args.playbook}.yml median: {medians[args.playbook]:.1f} s")
        print(f"ansible -m setup median:  {medians['setup']:.1f} s")
        print(f"ratio: {medians[args.playbook] / medians['setup']:.2f}")
        print(f"remote executions per host ({args.playbook}): {per_host}")
    finally:
        stop_hosts(names or [f"{PREFIX}-{n:02d}" for n in range(1, args.hosts + 1)])
        sink.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("CONTAINERS_CONF", str(ROOT / "tests" / "containers" / "containers.conf"))
    sys.exit(main())
