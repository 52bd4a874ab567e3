"""Issue 11: the eleven kinds of contract that used to reach the hosts, each refused by the one
validation with its path, a hint, and every problem listed (nothing here touches a host)."""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.preventcare_contract import (
    MASK,
    VaultText,
    contract_contacts,
    contract_secrets,
    format_problems,
    legacy_timezone,
    normalise_contract,
    validate_contract,
)
from ansible.module_utils.preventcare_contract_file import (
    extract_contract,
    inventory_hosts,
    load_contract_file,
    read_inventory,
    vault_password_problems,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "inventories" / "example"
SECRET = "Canary-Cl3ar-Secret"


def _example() -> dict:
    data, problems = load_contract_file(EXAMPLE / "group_vars" / "all" / "preventcare.yml")
    assert problems == []
    return copy.deepcopy(data)


HOSTS = inventory_hosts(yaml.safe_load((EXAMPLE / "hosts.yml").read_text()))


def _problems(data, **kwargs):
    problems = validate_contract(data, kwargs.pop("hosts", HOSTS), **kwargs)
    return problems, format_problems(problems, "preventcare.yml")


def _inventory(tmp_path, hosts_yml, files=None) -> dict:
    folder = tmp_path / "inv"
    folder.mkdir()
    (folder / "hosts.yml").write_text(textwrap.dedent(hosts_yml))
    for name, text in (files or {}).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return read_inventory([folder])


def _only(problems, path):
    found = [p for p in problems if p.path == path]
    assert found, [str(p) for p in problems]
    assert found[0].hint
    return found[0]


# ------------------------------------------------------------------ 1. a host defined twice


def test_a_host_defined_twice_with_different_addresses_is_refused(tmp_path):
    view = _inventory(
        tmp_path,
        """
        all:
          children:
            linux:
              hosts:
                srv01: {ansible_host: 10.10.2.20, preventcare_site: villeurbanne}
                mon01: {ansible_host: 10.10.2.5, preventcare_site: villeurbanne}
            backup:
              hosts:
                srv01: {ansible_host: 10.10.2.21}
                mon01: {ansible_host: 10.10.2.5}
        """,
    )
    data = _example()
    data["monitor_host"] = "mon01"
    data["backup"] = []
    problems, text = _problems(data, hosts=None, inventory=view)
    problem = _only(problems, "inventory host 'srv01'")
    assert "10.10.2.20 (hosts.yml: linux.hosts.srv01)" in problem.message
    assert "10.10.2.21 (hosts.yml: backup.hosts.srv01)" in problem.message
    # The same address twice is one machine in two groups: fine.
    assert "mon01" not in text


# ------------------------------------------------------------------ 2. a site not in the contract


def test_a_host_whose_site_is_not_a_contract_site_is_refused(tmp_path):
    view = _inventory(
        tmp_path,
        """
        all:
          children:
            linux:
              hosts:
                srv-lin01: {ansible_host: 10.10.2.20}
                mon01: {ansible_host: 10.10.2.5, preventcare_site: villeurbane}
              vars:
                preventcare_site: lyon
        """,
        {"host_vars/srv-lin01.yml": "preventcare_site: paris\n"},
    )
    data = _example()
    data["backup"] = []
    problems, _ = _problems(data, hosts=None, inventory=view)
    typo = _only(problems, "inventory host 'mon01': preventcare_site")
    assert typo.message == "'villeurbane' is not a site of the contract"
    assert "did you mean 'villeurbanne'?" in typo.hint
    assert _only(problems, "inventory host 'srv-lin01': preventcare_site").message.startswith(
        "'paris'"
    )


# ------------------------------------------------------------------ 3. overlapping subnets


def test_two_sites_with_overlapping_subnets_are_refused():
    data = _example()
    data["sites"][1]["subnets"] = ["10.10.2.0/24", "10.10.0.0/16"]
    problems, _ = _problems(data)
    problem = _only(problems, "preventcare.sites[1].subnets[1]")
    assert problem.message == "10.10.0.0/16 overlaps 10.10.1.0/24 of sites[0].subnets[0]"


# ------------------------------------------------------------------ 4. a public IP that is not


@pytest.mark.req("PRE-02")
@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("192.168.1.1", "private"),
        ("10.0.0.1", "private"),
        ("100.64.12.1", "cgnat"),
        ("127.0.0.1", "loopback"),
        ("203.0.113.10", "documentation"),
        ("198.51.100.7", "documentation"),
        ("240.0.0.1", "reserved"),
        ("224.0.0.9", "multicast"),
        ("169.254.1.1", "link local"),
    ],
)
def test_a_declared_public_ip_that_is_not_public_is_refused(address, kind):
    data = _example()
    data["public_ip"] = address
    problems, _ = _problems(data)
    problem = _only(problems, "preventcare.public_ip")
    assert problem.message == f"'{address}' is not a public address ({kind} range)"
    assert "egress" in problem.hint


# ------------------------------------------------------------------ 5. secrets in clear text


@pytest.mark.req("SEC-01")
def test_secrets_written_in_clear_are_refused_and_never_shown(tmp_path):
    data = _example()
    data["smtp_relay"]["auth"]["password"] = SECRET
    data["monitoring"]["remote_write"] = [
        {
            "url": "https://mimir.example/api/v1/push",
            "basic_auth": {"username": "u", "password": SECRET + "2"},
        }
    ]
    view = _inventory(
        tmp_path,
        """
        all:
          children:
            windows:
              hosts:
                srv-ad01: {ansible_host: 10.10.1.10, preventcare_site: lyon}
              vars:
                ansible_connection: winrm
                ansible_password: Canary-Cl3ar-Secret3
        """,
    )
    problems, text = _problems(data, inventory=view)
    for path in (
        "preventcare.smtp_relay.auth.password",
        "preventcare.monitoring.remote_write[0].basic_auth.password",
    ):
        assert _only(problems, path).message == "a secret written in clear text in the contract"
    winrm = _only(problems, "hosts.yml: windows.vars: ansible_password")
    assert "clear text" in winrm.message
    assert "vault" in winrm.hint
    assert SECRET not in text


@pytest.mark.req("SEC-01")
def test_vault_values_and_templates_are_accepted_as_secrets():
    data = _example()
    data["smtp_relay"]["auth"]["password"] = VaultText("$ANSIBLE_VAULT;1.1;AES256\n6162")
    data["monitoring"]["remote_write"] = [
        {
            "url": "https://mimir.example/api/v1/push",
            "basic_auth": {"username": "u", "password": "{{ vault_remote_write }}"},
        }
    ]
    assert _problems(data)[0] == []


# ------------------------------------------------------------------ 6. legacy time zones


@pytest.mark.parametrize(
    ("zone", "instead"),
    [("CET", "Europe/Paris"), ("MET", "Europe/Paris"), ("EST5EDT", "America/New_York")],
)
def test_legacy_time_zone_aliases_are_refused_with_the_iana_zone(zone, instead):
    data = _example()
    data["timezone"] = zone
    problems, _ = _problems(data)
    problem = _only(problems, "preventcare.timezone")
    assert problem.message == f"'{zone}' is a legacy alias, not an IANA zone of a place"
    assert problem.hint.endswith(f"e.g. {instead}")


def test_iana_zones_and_utc_are_not_legacy():
    assert [legacy_timezone(z) for z in ("Europe/Paris", "UTC", "America/Montreal")] == [None] * 3
    assert legacy_timezone("US/Eastern") == "Europe/Paris"


# ------------------------------------------------------------------ 7. one address, two contacts


@pytest.mark.req("SEC-02")
def test_two_contacts_with_the_same_email_are_refused():
    data = _example()
    data["contacts"][1]["email"] = data["contacts"][0]["email"].upper()
    problems, _ = _problems(data)
    assert _only(problems, "preventcare.contacts[1].email").message == (
        "the same e-mail address as contacts[0]"
    )


# ------------------------------------------------------------------ 8. only comments


def test_a_contract_file_of_comments_only_is_refused(tmp_path):
    path = tmp_path / "preventcare.yml"
    path.write_text("---\n# preventcare:\n#   schema_version: 1\n")
    data, problems = load_contract_file(path)
    assert data is None
    assert problems[0].message.startswith("the file is empty")
    assert "preventcare:" in problems[0].hint
    assert format_problems(problems, str(path)) != f"contract OK ({path})"
    assert extract_contract(None, str(path))[1] == problems


# ------------------------------------------------------------------ 9. vault file, no password


@pytest.mark.req("SEC-01")
def test_an_encrypted_vars_file_without_a_vault_password_is_named(tmp_path):
    vault = tmp_path / "group_vars" / "all" / "vault.yml"
    vault.parent.mkdir(parents=True)
    vault.write_text("$ANSIBLE_VAULT;1.1;AES256\n6162636465\n")
    (tmp_path / "group_vars" / "all" / "preventcare.yml").write_text("preventcare: {}\n")
    problems = vault_password_problems(str(tmp_path), has_vault_secrets=False)
    assert [p.path for p in problems] == [str(vault)]
    assert "no vault password was given" in problems[0].message
    assert "--ask-vault-pass" in problems[0].hint
    assert "--vault-id" in problems[0].hint
    assert vault_password_problems(str(tmp_path), has_vault_secrets=True) == []


# ------------------------------------------------------------------ 10. control characters


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("smtp_relay", "sender"), "preventcare@martin.example\n", "contains a newline at the end"),
        (("client", "id"), "martin\n", "contains a newline at the end"),
        (("smtp_relay", "host"), "relay.martin.example\r", "contains a carriage return at the end"),
        (("contacts", 0, "email"), "claire\t@martin.example", "contains a tab"),
        (("monitor_host",), "mon01\n", "contains a newline at the end"),
        (("monitoring", "retention"), "30d\n", "contains a newline at the end"),
        (("client", "name"), "Martin\u200bSARL", "contains U+200B"),
    ],
)
def test_control_characters_and_trailing_newlines_are_refused(path, value, message):
    data = _example()
    holder = data
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value
    problems, text = _problems(data)
    shown = "preventcare." + ".".join(str(p) for p in path).replace(".0.", "[0].")
    problem = _only(problems, shown)
    assert problem.message.startswith(message)
    assert "one line" in problem.hint
    # Reported once, not also as a bad e-mail or slug.
    assert text.count(shown + ":") == 1


def test_a_host_name_with_a_control_character_is_refused():
    view = {"hosts": {"srv01\n": {"addresses": [], "site": None}}, "secrets": []}
    problems, _ = _problems(_example(), inventory=view)
    assert _only(problems, "inventory host 'srv01\\n'").message.endswith("control character")


# ------------------------------------------------------------------ 11. SET-05 from 50 users


@pytest.mark.req("SET-05")
def test_from_50_users_the_contract_must_give_the_setup_duration():
    data = _example()
    data["client"]["users"] = 50
    problems, _ = _problems(data)
    problem = _only(problems, "preventcare.client.setup_duration_days")
    assert "from 50 users (50 here)" in problem.message
    data["client"]["setup_duration_days"] = 3
    assert _problems(data)[0] == []
    data["client"]["setup_duration_days"] = 0
    assert "below the minimum 1" in _problems(data)[1]


@pytest.mark.req("SET-05")
def test_below_50_users_the_booklet_table_sizes_the_setup():
    data = _example()
    data["client"]["setup_duration_days"] = 2
    problems, _ = _problems(data)
    assert "booklet's table" in _only(problems, "preventcare.client.setup_duration_days").message


# ------------------------------------------------------------------ every problem at once


def test_every_class_is_listed_in_one_block():
    data = _example()
    data["public_ip"] = "10.1.1.1"
    data["timezone"] = "CET"
    data["contacts"][1]["email"] = data["contacts"][0]["email"]
    data["smtp_relay"]["sender"] = "a@b.example\n"
    data["client"]["users"] = 80
    problems, text = _problems(data)
    assert len(problems) == 5
    assert text.startswith("The PreventCare contract in preventcare.yml has 5 problems:")


# ------------------------------------------------------------------ masked, yet reachable


@pytest.mark.req("SEC-01")
@pytest.mark.req("SEC-02")
def test_the_validated_contract_masks_secrets_and_people_but_keeps_them_reachable():
    data = _example()
    data["monitoring"]["remote_write"] = [
        {"url": "https://a.example/push"},
        {"url": "https://b.example/push", "basic_auth": {"username": "u", "password": SECRET}},
    ]
    masked = normalise_contract(data)
    assert masked["monitoring"]["remote_write"][1]["basic_auth"]["password"] == MASK
    assert masked["smtp_relay"]["auth"]["password"] == MASK
    assert {c["name"] for c in masked["contacts"]} == {MASK}
    assert {c["email"] for c in masked["contacts"]} == {MASK}
    assert {c["phone"] for c in masked["contacts"]} == {MASK}
    assert masked["contacts"][0]["role"] == "Gérante"
    assert masked["attestations"]["server_room_phone"]["declared_by"] == MASK
    assert contract_contacts(data)[0]["email"] == "claire.martin@martin.example"
    assert contract_secrets(data)["remote_write_passwords"] == [None, SECRET]
