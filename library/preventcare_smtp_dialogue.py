#!/usr/bin/python
"""Ansible module: PRE-01 SMTP relay check (a real SMTP dialogue, judged)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: preventcare_smtp_dialogue
short_description: Check the client's SMTP relay relays mail to the surveillance mailbox (PRE-01)
description:
  - Speaks SMTP with the relay from the host the task runs on, step by step - connect, banner,
    EHLO (HELO fallback), STARTTLS when offered or required, optional AUTH (PLAIN or LOGIN),
    MAIL FROM the sender, RCPT TO the surveillance mailbox, optionally a test message - then QUIT.
  - Judges the exchange and returns C(status=PASS) or C(status=FAIL) with exactly one
    I(failure_class), the server's own reply and a hint the technician can act on.
  - A relay problem never fails the task; the playbook decides. The task fails only for bad
    arguments.
  - The password never appears in the transcript or the result.
version_added: "0.1.0"
author: PreventCare project
options:
  host:
    description: Host name or IP address of the relay (the contract's C(smtp_relay.host)).
    type: str
    required: true
  port:
    description:
      - TCP port of the relay, 1-65535.
      - Defaults to 25 for O(tls=none), 587 for O(tls=starttls) and 465 for O(tls=tls).
    type: int
  tls:
    description:
      - C(none) - plain SMTP, but STARTTLS is still used when the relay offers it.
      - C(starttls) - STARTTLS is required; a relay that does not offer it fails with
        C(tls_not_offered).
      - C(tls) - implicit TLS from the first byte (usually port 465).
    type: str
    choices: [none, starttls, tls]
    default: starttls
  validate_certs:
    description: Validate the relay's certificate chain and name.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the CA(s) to trust instead of the system store, for a relay whose
        certificate comes from a private CA. Read on the host the task runs on.
    type: path
    aliases: [cafile]
  ca_data:
    description:
      - The same CA as PEM text, handed over by the controller (the contract's
        C(smtp_relay.ca_path) is a file on the controller), so that nothing is written on
        the server. Mutually exclusive with I(ca_path).
    type: str
  username:
    description: SMTP user name; AUTH is attempted only when given.
    type: str
  password:
    description: SMTP password (from the vault). Never returned nor logged.
    type: str
  sender:
    description: Envelope sender (MAIL FROM), the contract's C(smtp_relay.sender).
    type: str
    required: true
  recipient:
    description: The surveillance mailbox (RCPT TO).
    type: str
    required: true
  send_test_message:
    description:
      - Send a test message whose subject is C(PreventCare PRE-01 test <token>).
      - Never sent in check mode, where the dialogue ends with RSET after RCPT TO.
    type: bool
    default: false
  helo_name:
    description: Name given in EHLO/HELO. Defaults to the host's fully qualified name.
    type: str
  timeout:
    description: Seconds to wait for the connection and for each reply.
    type: float
    default: 10
  language:
    description: Language of the hint.
    type: str
    choices: [en, fr]
    default: en
attributes:
  check_mode:
    support: full
    description: The same dialogue runs, but DATA is never sent (RSET after RCPT TO).
  diff_mode:
    support: none
notes:
  - Runs on the host the task targets (a Linux monitored server, or the controller with
    C(delegate_to=localhost)); Windows servers use C(scripts/windows/smtp_dialogue.ps1), whose
    transcript the same Python code judges.
  - Failure classes - dns, refused, unreachable, timeout, tls_not_offered, tls_failed,
    auth_required (530, no credentials given), auth_failed, sender_rejected, relay_denied,
    temporary (any 4xx; I(step) says where), message_rejected, protocol.
"""

EXAMPLES = r"""
- name: Check that the relay accepts mail for the surveillance mailbox
  preventcare_smtp_dialogue:
    host: "{{ preventcare.smtp_relay.host }}"
    port: "{{ preventcare.smtp_relay.port }}"
    tls: "{{ preventcare.smtp_relay.tls }}"
    validate_certs: "{{ preventcare.smtp_relay.validate_certs | default(true) }}"
    username: "{{ preventcare.smtp_relay.auth.username | default(omit) }}"
    password: "{{ preventcare.smtp_relay.auth.password | default(omit) }}"
    sender: "{{ preventcare.smtp_relay.sender }}"
    recipient: "{{ preventcare.surveillance_mailbox }}"
    language: "{{ preventcare.language }}"
  register: __prerequisites_smtp

- name: Send a real test message through a relay signed by the client's own CA
  preventcare_smtp_dialogue:
    host: relay.martin.example
    port: 587
    tls: starttls
    ca_path: /usr/local/share/ca-certificates/martin-ca.crt
    sender: preventcare@martin.example
    recipient: surveillance@preventcare.example
    send_test_message: true
    language: fr
"""

RETURN = r"""
status:
  description: PASS when the relay accepted the recipient (and the message, when sent), else FAIL.
  returned: always
  type: str
  sample: FAIL
failure_class:
  description: The one failure class, or null on PASS.
  returned: always
  type: str
  sample: relay_denied
step:
  description: The dialogue step that failed (connect, tls_handshake, banner, ehlo, starttls,
    auth, mail, rcpt, data, message), or null on PASS.
  returned: always
  type: str
  sample: rcpt
reply:
  description: The server's own reply at that step, or the system's error text.
  returned: always
  type: str
  sample: 550 5.7.1 Relaying denied
reason:
  description: What went wrong, e.g. the TLS verification reason.
  returned: always
  type: str
  sample: "CERTIFICATE_VERIFY_FAILED: unable to get local issuer certificate"
enhanced_status:
  description: The RFC 3463 enhanced status code of the failing reply, when the server sent one.
  returned: always
  type: str
  sample: 5.7.1
hint:
  description: What the technician should do, in the requested language.
  returned: always
  type: str
transcript:
  description: Every step, password redacted.
  returned: always
  type: list
  elements: dict
  contains:
    step:
      description: Step name.
      type: str
    command:
      description: What was sent (credentials shown as asterisks).
      type: str
    code:
      description: SMTP reply code, null when the step failed before a reply.
      type: int
    reply:
      description: Reply lines without the code.
      type: list
      elements: str
    elapsed_ms:
      description: Duration of the step.
      type: int
    error:
      description: Present when the step raised - type, code, name, reason, message.
      type: dict
capabilities:
  description: EHLO keywords of the last successful EHLO (after STARTTLS when used).
  returned: always
  type: list
  elements: str
  sample: [SIZE 35882577, AUTH PLAIN LOGIN, 8BITMIME]
tls_version:
  description: Negotiated TLS version, null without TLS.
  returned: always
  type: str
  sample: TLSv1.3
tls_cipher:
  description: Negotiated cipher, null without TLS.
  returned: always
  type: str
peer_certificate:
  description: sha256 fingerprint of the relay's certificate; subject, issuer and not_after when
    it was validated.
  returned: always
  type: dict
timings:
  description: Milliseconds per step (a repeated step gets a _2 suffix) and total.
  returned: always
  type: dict
  sample: {connect: 3, banner: 12, ehlo: 2, rcpt: 4, total: 25}
token:
  description: The unique token in the test message's subject, null when none was sent.
  returned: always
  type: str
  sample: 3f9c2a71b04de815
message_sent:
  description: Whether a test message was accepted by the relay.
  returned: always
  type: bool
"""

# Ansible's layout: the documentation blocks come before the imports.
from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible.module_utils.preventcare_smtp import SMTP_OPTIONS, relay_check  # noqa: E402


def main():
    module = AnsibleModule(
        argument_spec=SMTP_OPTIONS,
        required_together=[("username", "password")],
        mutually_exclusive=[("ca_path", "ca_data")],
        supports_check_mode=True,
    )
    result = relay_check(module.params, module.check_mode)
    if "status" not in result:
        module.fail_json(**result)
    module.exit_json(changed=result["message_sent"], **result)


if __name__ == "__main__":
    main()
