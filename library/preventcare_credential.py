#!/usr/bin/python
"""Keep a secret as an encrypted systemd credential (SEC-01), idempotently."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: preventcare_credential
short_description: Keep a secret as an encrypted systemd credential (SEC-01)
description:
  - Makes the file at I(path) an encrypted systemd credential (C(systemd-creds encrypt)) named
    I(name) that holds I(value), so that the secret never lies on disk in clear; a unit reads it
    with C(LoadCredentialEncrypted=name:path), decrypted by systemd into memory at each start.
  - The current file is decrypted and compared first, so a second run changes nothing
    (encryption is salted: two encryptions of one value differ). A missing folder is created
    for root only (mode 0700). With I(state=absent) the file is removed.
  - Supports check mode (it then says whether the file would change); the value never appears
    in the module's output.
options:
  name:
    description: The credential's name, as the unit's C(LoadCredentialEncrypted=) gives it.
    type: str
    required: true
  path:
    description: The encrypted file, e.g. C(/etc/credstore.encrypted/preventcare-smtp-password).
    type: path
    required: true
  value:
    description: The secret (from the vault). Required with I(state=present).
    type: str
  state:
    description: C(present) to hold I(value), C(absent) to remove the file.
    type: str
    choices: [present, absent]
    default: present
requirements: [systemd-creds (systemd 250 or later)]
author: PreventCare
"""

EXAMPLES = r"""
- name: Store the relay password for Alertmanager
  preventcare_credential:
    name: smtp_password
    path: /etc/credstore.encrypted/preventcare-smtp-password
    value: "{{ monitor_site_smtp_password }}"
  notify: Restart alertmanager
"""

RETURN = r"""
path:
  description: The encrypted file.
  returned: always
  type: str
"""

import os  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402


def _holds(module, name, path, value):
    """True when the file decrypts (as credential `name`) to exactly `value`."""
    if not os.path.exists(path):
        return False
    rc, out, _ = module.run_command(
        ["systemd-creds", "decrypt", f"--name={name}", path, "-"], binary_data=True
    )
    return rc == 0 and out == value


def main():
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "path": {"type": "path", "required": True},
            "value": {"type": "str", "no_log": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        },
        required_if=[("state", "present", ["value"])],
        supports_check_mode=True,
    )
    name, path, state = module.params["name"], module.params["path"], module.params["state"]
    if state == "absent":
        changed = os.path.exists(path)
        if changed and not module.check_mode:
            os.unlink(path)
        module.exit_json(changed=changed, path=path)
    value = module.params["value"]
    if not value:
        module.fail_json(msg=f"the credential {name} has an empty value: give the vault's secret")
    if module.get_bin_path("systemd-creds") is None:
        module.fail_json(
            msg="systemd-creds is missing (systemd 250 or later keeps encrypted credentials)"
        )
    if _holds(module, name, path, value):
        module.exit_json(changed=False, path=path)
    if not module.check_mode:
        # The credential store: root's only (systemd's own /etc/credstore.encrypted).
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        os.chmod(os.path.dirname(path), 0o700)
        rc, _, err = module.run_command(
            ["systemd-creds", "encrypt", f"--name={name}", "-", path], data=value, binary_data=True
        )
        if rc != 0:
            module.fail_json(msg=f"systemd-creds could not encrypt {path}: {err.strip()}")
        os.chmod(path, 0o600)
    module.exit_json(changed=True, path=path)


if __name__ == "__main__":
    main()
