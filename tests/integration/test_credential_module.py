"""SEC-01: library/preventcare_credential.py on a real systemd container.

The module keeps a relay password as an encrypted systemd credential (Alertmanager's and the
satellite Postfix's). It runs here through Ansible's podman connection, as the roles run it:
the file must hold the secret encrypted (never in clear), a second run must change nothing,
check mode must say what it would do without doing it, and a unit must get the secret back
through LoadCredentialEncrypted=.
"""

from __future__ import annotations

import pytest
from ansible_cli import run_module
from podman_lab import podman
from required_tools import require

pytestmark = [pytest.mark.podman, pytest.mark.req("SEC-01")]

IMAGE = "localhost/preventcare-debian12:test"
HOST = "pcs-credential"
PATH = "/etc/credstore.encrypted/preventcare-test"
SECRET = "Cred-Canary-3e91b7"


@pytest.fixture(scope="module")
def host():
    require("podman", "the credential test runs a systemd container")
    podman("rm", "-f", "-t", "0", "--ignore", HOST, check=False)
    podman("run", "-d", "--name", HOST, "--systemd=always", IMAGE, "/sbin/init")
    podman("exec", HOST, "systemctl", "is-system-running", "--wait", check=False, timeout=90)
    yield HOST
    podman("rm", "-f", "-t", "0", "--ignore", HOST, check=False)


def _run(tmp_path, *extra, **args):
    arguments = {"name": "test_secret", "path": PATH, **args}
    return run_module(
        "preventcare_credential", arguments, tmp_path, "-i", f"{HOST},", "-c",
        "containers.podman.podman", *extra, target=(HOST,),
    )  # fmt: skip


def test_the_secret_is_stored_encrypted_once_and_given_back_to_a_unit(host, tmp_path):
    code, result, output = _run(tmp_path, "--check", value=SECRET)
    assert code == 0 and result["changed"] is True, output
    assert podman("exec", host, "test", "-e", PATH, check=False).returncode == 1

    code, result, output = _run(tmp_path, value=SECRET)
    assert code == 0 and result["changed"] is True, output
    assert SECRET not in output
    stored = podman("exec", host, "cat", PATH).stdout
    assert SECRET not in stored
    modes = podman("exec", host, "stat", "-c", "%a", PATH, "/etc/credstore.encrypted").stdout
    assert modes.split() == ["600", "700"]

    # A second run, and check mode, find it as it should be.
    assert _run(tmp_path, value=SECRET)[1]["changed"] is False
    assert _run(tmp_path, "--check", value=SECRET)[1]["changed"] is False

    # What a unit with LoadCredentialEncrypted= reads, decrypted by systemd in memory.
    done = podman(
        "exec", host, "systemd-run", "--wait", "--pipe", "--quiet",
        f"--property=LoadCredentialEncrypted=test_secret:{PATH}",
        "sh", "-c", 'cat "$CREDENTIALS_DIRECTORY/test_secret"',
    )  # fmt: skip
    assert done.stdout == SECRET


def test_a_new_password_replaces_the_old_and_absent_removes_it(host, tmp_path):
    assert _run(tmp_path, value=SECRET)[0] == 0
    code, result, output = _run(tmp_path, value=SECRET + "-new")
    assert code == 0 and result["changed"] is True, output
    assert _run(tmp_path, value=SECRET + "-new")[1]["changed"] is False
    code, result, _ = _run(tmp_path, state="absent")
    assert result["changed"] is True
    assert podman("exec", host, "test", "-e", PATH, check=False).returncode == 1
    assert _run(tmp_path, state="absent")[1]["changed"] is False


def test_an_empty_value_is_refused_with_a_clear_message(host, tmp_path):
    code, result, _ = _run(tmp_path, value="")
    assert code != 0
    assert "empty value" in result["msg"]
