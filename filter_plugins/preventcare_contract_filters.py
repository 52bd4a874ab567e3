"""Filters on the client contract: its secrets, kept apart from the validated contract."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.module_utils.preventcare_contract import contract_secrets
from ansible.module_utils.preventcare_data import plain


def preventcare_contract_secrets(contract):
    """{name: value} of the contract's secrets (smtp_relay_password, ...), for no_log facts."""
    if not isinstance(contract, Mapping):
        raise AnsibleFilterError(
            f"preventcare_contract_secrets expects the contract (preventcare), "
            f"got {type(contract).__name__}"
        )
    return contract_secrets(plain(contract))


class FilterModule:
    """PreventCare contract filters."""

    def filters(self):
        return {"preventcare_contract_secrets": preventcare_contract_secrets}
