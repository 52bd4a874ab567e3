"""SEC-03: the exporters' web configurations as rendered, and the hash they carry.

windows_exporter cannot run here: its configuration files are checked as rendered, against
the exporter-toolkit web configuration format (prometheus/exporter-toolkit
docs/web-configuration.md: tls_server_config, basic_auth_users with bcrypt hashes) and
windows_exporter's configuration file, whose nested keys are its flag names
(README "Using a configuration file": web.config.file).
"""

from __future__ import annotations

import json
from pathlib import Path

import bcrypt
import jinja2
import pytest
import yaml
from ansible.module_utils.preventcare_contract import validate_contract
from ansible.module_utils.preventcare_secrets import bcrypt_hash, bcrypt_salt
from preventcare_secrets_filters import preventcare_bcrypt

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "roles" / "monitor_agent" / "templates"
PASSWORD = "Exp0rter-pass"
WEB_CONFIG = "C:\\ProgramData\\PreventCare\\windows_exporter\\web.yml"


def _render(name: str, **variables) -> dict:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=False)
    env.filters["to_json"] = json.dumps
    env.filters["bool"] = bool
    env.filters["comment"] = lambda text: f"# {text}"
    env.filters["preventcare_bcrypt"] = preventcare_bcrypt
    defaults = {
        "ansible_managed": "Ansible managed",
        "inventory_hostname": "srv-ad01",
        "monitor_agent_web_username": "prometheus",
        "monitor_agent_web_password": PASSWORD,
        "monitor_agent_windows_tls_dir": "C:\\ProgramData\\PreventCare\\windows_exporter\\tls",
        "monitor_agent_windows_web_config": WEB_CONFIG,
        "monitor_agent_windows_collectors": ["cpu", "service"],
        "monitor_agent_windows_textfile_dir": "C:\\ProgramData\\PreventCare\\textfile",
        "monitor_agent_windows_port": 9182,
        "_monitor_agent_tls": True,
    }
    return yaml.safe_load(env.get_template(name).render(**{**defaults, **variables}))


@pytest.mark.req("SEC-03")
def test_windows_exporter_reads_its_web_configuration():
    config = _render("windows/windows_exporter.yml.j2")
    assert config["web"] == {
        "listen-address": ":9182",
        "config": {"file": WEB_CONFIG},
    }
    plain = _render("windows/windows_exporter.yml.j2", _monitor_agent_tls=False)
    assert plain["web"] == {"listen-address": ":9182"}


@pytest.mark.req("SEC-03")
@pytest.mark.req("SEC-01")
def test_windows_web_configuration_has_tls_and_only_a_bcrypt_hash():
    config = _render("windows/web.yml.j2")
    tls = config["tls_server_config"]
    assert tls["cert_file"] == "C:\\ProgramData\\PreventCare\\windows_exporter\\tls\\exporter.pem"
    assert tls["key_file"] == "C:\\ProgramData\\PreventCare\\windows_exporter\\tls\\exporter.key"
    assert tls["min_version"] == "TLS12"
    ((user, hashed),) = config["basic_auth_users"].items()
    assert user == "prometheus"
    assert hashed.startswith("$2b$10$")
    assert PASSWORD not in json.dumps(config)
    assert bcrypt.checkpw(PASSWORD.encode(), hashed.encode())


@pytest.mark.req("SEC-03")
def test_linux_web_configuration_matches_the_windows_one():
    config = _render(
        "etc/prometheus/preventcare-exporter-web.yml.j2",
        inventory_hostname="srv-lin01",
        monitor_agent_tls_dir="/etc/prometheus/preventcare-tls",
    )
    assert config["tls_server_config"]["key_file"] == "/etc/prometheus/preventcare-tls/exporter.key"
    assert bcrypt.checkpw(PASSWORD.encode(), config["basic_auth_users"]["prometheus"].encode())


def test_the_hash_is_stable_per_host_and_differs_between_hosts():
    assert bcrypt_hash(PASSWORD, "srv-lin01") == bcrypt_hash(PASSWORD, "srv-lin01")
    assert bcrypt_hash(PASSWORD, "srv-lin01") != bcrypt_hash(PASSWORD, "srv-lin02")
    assert len(bcrypt_salt(PASSWORD, "x")) == 22
    with pytest.raises(ValueError, match="empty"):
        bcrypt_hash("", "x")


@pytest.mark.req("SEC-03")
@pytest.mark.parametrize(
    ("url", "ok"),
    [("https://mimir.example/api/v1/push", True), ("http://mimir.example/api/v1/push", False)],
)
def test_remote_write_is_https_only(url, ok):
    data = yaml.safe_load(
        (ROOT / "inventories/example/group_vars/all/preventcare.yml").read_text("utf-8")
    )["preventcare"]
    data["monitoring"]["remote_write"] = [{"url": url}]
    problems = [p for p in validate_contract(data) if "remote_write" in p.path]
    assert (problems == []) is ok, problems
