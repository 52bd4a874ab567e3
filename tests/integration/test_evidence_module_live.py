"""library/preventcare_evidence.py run by Ansible on this machine, as a playbook runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from ansible.module_utils.preventcare_prereq_remote import linux_probes, remote_tools_catalogue
from ansible_cli import run_module

# ---------------------------------------------------------------- the real module, here


def run_ansible(tmp_path, args=None, *extra):
    return run_module("preventcare_evidence", args or {}, tmp_path, *extra)


@pytest.mark.req("PRE-02")
@pytest.mark.req("PRE-03")
@pytest.mark.req("PRE-05")
@pytest.mark.req("PRE-06")
@pytest.mark.req("PRE-08")
def test_real_run_on_this_machine_in_check_mode(tmp_path):
    every_tool = linux_probes(list(remote_tools_catalogue()))
    code, result, _ = run_ansible(
        tmp_path, {"refresh_package_lists": True, "tools": every_tool}, "--check"
    )
    assert code == 0
    assert result["changed"] is False  # check mode never refreshes the lists
    evidence = result["evidence"]
    assert set(evidence) == {
        "platform",
        "collected_at",
        "os",
        "network",
        "hardware",
        "updates",
        "remote_assistance",
        "privilege",
        "errors",
    }
    assert evidence["errors"] == []
    release = dict(
        line.split("=", 1)
        for line in Path("/etc/os-release").read_text().splitlines()
        if "=" in line
    )
    assert evidence["os"]["id"] == release["ID"].strip('"')
    assert evidence["os"]["kernel"] == os.uname().release
    # getconf asks the C library, not the os.cpu_count() the module calls.
    configured = int(_run(["getconf", "_NPROCESSORS_CONF"]))
    assert evidence["hardware"]["cpu_cores"] == configured
    root = next(m for m in evidence["hardware"]["mounts"] if m["mount"] == "/")
    assert 0 < root["free_bytes"] <= root["size_bytes"]
    assert evidence["privilege"]["euid"] == os.geteuid()
    assert evidence["updates"]["refreshed"] is False
    # Containers come and go on this machine: compare the loopback and default-route links.
    ip = shutil.which("ip") or "/usr/sbin/ip"
    routes = json.loads(_run([ip, "-j", "route", "show", "default"]))
    stable = {"lo", *(r["dev"] for r in routes)}
    real = json.loads(_run([ip, "-j", "addr"]))
    expected = {
        (link["ifname"], a["local"])
        for link in real
        if link["ifname"] in stable
        for a in link.get("addr_info", [])
    }
    seen = {(a["interface"].split(":")[0], a["address"]) for a in evidence["network"]["addresses"]}
    assert expected <= seen
    assert set(evidence["remote_assistance"]["tools"]) == {
        "openssh",
        "rdp",
        "teamviewer",
        "anydesk",
        "rustdesk",
    }


def _run(command):
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def test_bad_argument_is_a_clear_message(tmp_path):
    code, result, output = run_ansible(tmp_path, {"tools": {"telnet": "port 23"}})
    assert code != 0
    assert "localhost | FAILED!" in output
    assert "tools" in result["msg"]
    assert "telnet" in result["msg"]
