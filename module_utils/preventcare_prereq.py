"""PRE-01 … PRE-09: judge the evidence gathered on each server against the contract.

Controller side, pure functions: evidence (from library/preventcare_evidence.py on Linux,
scripts/windows/prereq_evidence.ps1 on Windows), the validated contract, the data tables and
`today` in, result dicts out. A result is
    {host, requirement, check, status, blocking, title, evidence, hint}
with status one of STATUSES; title and hint are in the contract's language (fr or en).

Windows data is judged by locale-independent values only: SIDs, enum numbers or enum
names, build numbers - never by display names, which change with the server's language.
"""

from __future__ import annotations

import csv
import datetime
import io
import ipaddress
import os
import re

from ansible.module_utils.preventcare_contract import validate_contract
from ansible.module_utils.preventcare_data import load_table
from ansible.module_utils.preventcare_smtp import summarize

STATUSES = ("PASS", "WARN", "FAIL", "UNREACHABLE", "NOT_APPLICABLE", "DECLARED")
DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))), "data")
OS_TABLE = os.path.join(DATA_DIR, "os_support.yml")
HARDWARE_TABLE = os.path.join(DATA_DIR, "hardware_prerequisites.yml")

# The checks that need the host, one per requirement: what an unreachable host gets.
HOST_CHECKS = (
    ("PRE-01", "smtp_relay"),
    ("PRE-02", "static_addressing"),
    ("PRE-03", "hardware"),
    ("PRE-05", "os_support"),
    ("PRE-06", "remote_assistance"),
    ("PRE-08", "admin_access"),
)
FOREVER = 0xFFFFFFFF  # ip(8): valid_lft "forever"
GIB = 1024**3
MIB = 1024**2
STALE_LISTS_DAYS = 7

# Well-known SIDs (MS-DTYP 2.4.2.4): locale-independent, unlike the group names.
SID_ADMINISTRATORS = "S-1-5-32-544"
SID_HIGH_INTEGRITY = "S-1-16-12288"
SID_SYSTEM_INTEGRITY = "S-1-16-16384"
SID_MEDIUM_INTEGRITY = "S-1-16-8192"
_SID = re.compile(r"^S-1-\d+(?:-\d+)+$")

# NetTCPIP enums (MSFT_NetIPAddress / MSFT_NetIPInterface): number -> name.
PREFIX_ORIGIN = {0: "Other", 1: "Manual", 2: "WellKnown", 3: "Dhcp", 4: "RouterAdvertisement"}
SUFFIX_ORIGIN = {0: "Other", 1: "Manual", 2: "WellKnown", 3: "Dhcp", 4: "Link", 5: "Random"}
DHCP_STATE = {0: "Disabled", 1: "Enabled"}
ADDRESS_FAMILY = {2: "IPv4", 23: "IPv6"}
SERVICE_STATUS = {1: "Stopped", 2: "StartPending", 3: "StopPending", 4: "Running"}

# Remote-assistance tools: Linux systemd units / processes, Windows service names.
TOOLS = {
    "openssh": {
        "label": "OpenSSH",
        "linux_units": ["ssh.service", "sshd.service"],
        "windows_services": ["sshd"],
    },
    "rdp": {"label": "RDP", "linux_units": ["xrdp.service"], "windows_services": ["TermService"]},
    "teamviewer": {
        "label": "TeamViewer",
        "linux_units": ["teamviewerd.service"],
        "windows_services": ["TeamViewer"],
    },
    "anydesk": {
        "label": "AnyDesk",
        "linux_units": ["anydesk.service"],
        "windows_services": ["AnyDesk"],
    },
    "rustdesk": {
        "label": "RustDesk",
        "linux_units": ["rustdesk.service"],
        "windows_services": ["RustDesk"],
    },
}

# Special-purpose IPv4 blocks (RFC 6890 registry), in the order they are reported.
_SPECIAL_V4 = (
    ("0.0.0.0/8", "this_network"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "cgnat"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link_local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "ietf"),
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "reserved"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
)
_SPECIAL_V4_NETS = tuple((ipaddress.IPv4Network(n), why) for n, why in _SPECIAL_V4)

# ---------------------------------------------------------------- texts

T = {
    "unreachable": {
        "en": "{host} is unreachable: the check could not run",
        "fr": "{host} est injoignable : la vérification n'a pas pu être faite",
    },
    "unreachable.hint": {
        "en": "Check the host's address, the SSH/WinRM port, the credentials and the firewall "
        "between this machine and the server ({msg}), then run the playbook again.",
        "fr": "Vérifiez l'adresse du serveur, le port SSH/WinRM, les identifiants et le pare-feu "
        "entre ce poste et le serveur ({msg}), puis relancez le playbook.",
    },
    "no_evidence": {
        "en": "{host}: the evidence could not be gathered",
        "fr": "{host} : les éléments de preuve n'ont pas pu être collectés",
    },
    "no_evidence.hint": {
        "en": "The gathering task failed ({msg}). ansible-core 2.19 needs Python 3.8 or later on "
        "Linux and Windows PowerShell 5.1 on Windows; fix the cause and run again.",
        "fr": "La tâche de collecte a échoué ({msg}). ansible-core 2.19 exige Python 3.8 ou plus "
        "sous Linux et Windows PowerShell 5.1 sous Windows ; corrigez la cause et relancez.",
    },
    # PRE-01
    "smtp.pass": {
        "en": "SMTP relay {relay} relays mail from {host} to the surveillance mailbox",
        "fr": "Le relais SMTP {relay} relaie le courrier de {host} vers la boîte de surveillance",
    },
    "smtp.fail": {
        "en": "SMTP relay {relay} does not relay mail from {host}: {failure_class} at step {step}",
        "fr": "Le relais SMTP {relay} ne relaie pas le courrier de {host} : {failure_class} "
        "à l'étape {step}",
    },
    "smtp.error": {
        "en": "The SMTP relay check could not run on {host}",
        "fr": "La vérification du relais SMTP n'a pas pu s'exécuter sur {host}",
    },
    "smtp.error.hint": {
        "en": "{msg}. Correct smtp_relay in the contract and run again.",
        "fr": "{msg}. Corrigez smtp_relay dans le contrat et relancez.",
    },
    # PRE-02, contract
    "public_ip.pass": {
        "en": "Declared public IP {ip} is a public unicast IPv4 address",
        "fr": "L'IP publique déclarée {ip} est une adresse IPv4 publique unicast",
    },
    "public_ip.fail": {
        "en": "Declared public IP {ip} is not a public address: {reason}",
        "fr": "L'IP publique déclarée {ip} n'est pas une adresse publique : {reason}",
    },
    "public_ip.fail.hint": {
        "en": "Set public_ip in the contract to the fixed public IPv4 address of the client's "
        "professional internet access (ask the ISP or read it on the router's WAN interface).",
        "fr": "Indiquez dans public_ip du contrat l'adresse IPv4 publique fixe de l'accès "
        "internet professionnel du client (demandez-la au FAI ou lisez-la sur l'interface WAN "
        "du routeur).",
    },
    "public_ip.missing": {
        "en": "No fixed public IP is declared in the contract",
        "fr": "Aucune IP publique fixe n'est déclarée dans le contrat",
    },
    "public_ip.missing.hint": {
        "en": "Add public_ip to the contract: the fixed public IPv4 address of the professional "
        "internet access (booklet 3.1).",
        "fr": "Ajoutez public_ip au contrat : l'adresse IPv4 publique fixe de l'accès internet "
        "professionnel (livret 3.1).",
    },
    "egress.na": {
        "en": "Egress IP not compared: no check URL was given",
        "fr": "IP de sortie non comparée : aucune URL de vérification n'est fournie",
    },
    "egress.pass": {
        "en": "The internet sees this site as {observed}, the declared public IP",
        "fr": "Internet voit ce site comme {observed}, l'IP publique déclarée",
    },
    "egress.fail": {
        "en": "The internet sees this site as {observed}, not the declared {declared}",
        "fr": "Internet voit ce site comme {observed} et non comme l'IP déclarée {declared}",
    },
    "egress.fail.hint": {
        "en": "Run the check from the client's network: if it still differs, the site does not "
        "go out through the fixed IP (backup link, second ISP) or public_ip is wrong.",
        "fr": "Lancez la vérification depuis le réseau du client : si l'écart persiste, le site "
        "ne sort pas par l'IP fixe (lien de secours, second FAI) ou public_ip est erronée.",
    },
    "egress.error": {
        "en": "The egress IP could not be read from {url}",
        "fr": "L'IP de sortie n'a pas pu être lue sur {url}",
    },
    "egress.error.hint": {
        "en": "{error}. Check the URL (it must answer the caller's IP address as plain text) "
        "and this machine's internet access.",
        "fr": "{error}. Vérifiez l'URL (elle doit renvoyer l'adresse IP de l'appelant en texte "
        "brut) et l'accès internet de ce poste.",
    },
    # PRE-02, host
    "static.pass": {
        "en": "{host} is statically addressed ({addresses})",
        "fr": "{host} a un adressage statique ({addresses})",
    },
    "static.fail": {
        "en": "{host} has a dynamic address: {details}",
        "fr": "{host} a une adresse dynamique : {details}",
    },
    "static.none": {
        "en": "{host} has no routable IPv4 address",
        "fr": "{host} n'a aucune adresse IPv4 routable",
    },
    "static.none.hint": {
        "en": "Configure a static IPv4 address on the server's network interface.",
        "fr": "Configurez une adresse IPv4 statique sur l'interface réseau du serveur.",
    },
    "static.hint.intro": {
        "en": "The booklet requires statically addressed servers (a DHCP reservation is still "
        "DHCP).",
        "fr": "Le livret exige des serveurs en adressage statique (une réservation DHCP reste "
        "du DHCP).",
    },
    "fix.networkmanager": {
        "en": "{iface}: nmcli connection modify '{connection}' ipv4.method manual "
        "ipv4.addresses {cidr} ipv4.gateway <gateway> ipv4.dns <dns>, then nmcli connection "
        "up '{connection}'.",
        "fr": "{iface} : nmcli connection modify '{connection}' ipv4.method manual "
        "ipv4.addresses {cidr} ipv4.gateway <passerelle> ipv4.dns <dns>, puis nmcli "
        "connection up '{connection}'.",
    },
    "fix.systemd-networkd": {
        "en": "{iface}: in {file} remove DHCP= and set Address={cidr}, Gateway= and DNS= under "
        "[Network], then networkctl reload.",
        "fr": "{iface} : dans {file}, supprimez DHCP= et indiquez Address={cidr}, Gateway= et "
        "DNS= dans [Network], puis networkctl reload.",
    },
    "fix.ifupdown": {
        "en": "{iface}: in {file} change 'iface {iface} inet dhcp' to 'inet static' with "
        "address {cidr} and gateway lines, then ifdown {iface}; ifup {iface}.",
        "fr": "{iface} : dans {file}, remplacez 'iface {iface} inet dhcp' par 'inet static' "
        "avec les lignes address {cidr} et gateway, puis ifdown {iface} ; ifup {iface}.",
    },
    "fix.netplan": {
        "en": "{iface}: in {file} set dhcp4: false with addresses: [{cidr}], routes and "
        "nameservers, then netplan apply.",
        "fr": "{iface} : dans {file}, mettez dhcp4: false avec addresses: [{cidr}], routes et "
        "nameservers, puis netplan apply.",
    },
    "fix.dhclient": {
        "en": "{iface}: a DHCP client holds a lease for {cidr}; stop what starts it and "
        "configure the address statically in the network configuration.",
        "fr": "{iface} : un client DHCP détient un bail pour {cidr} ; arrêtez ce qui le lance "
        "et configurez l'adresse en statique dans la configuration réseau.",
    },
    "fix.kernel": {
        "en": "{iface}: the kernel holds {cidr} with a finite lifetime (a lease) and no known "
        "configuration explains it; find the DHCP client (cloud-init, dhcpcd…) and configure "
        "the address statically.",
        "fr": "{iface} : le noyau détient {cidr} avec une durée de vie finie (un bail) et "
        "aucune configuration connue ne l'explique ; trouvez le client DHCP (cloud-init, "
        "dhcpcd…) et configurez l'adresse en statique.",
    },
    "fix.windows": {
        "en": "'{iface}': set {cidr} statically (Set-NetIPInterface -InterfaceIndex {index} "
        "-Dhcp Disabled; New-NetIPAddress -InterfaceIndex {index} -IPAddress {address} "
        "-PrefixLength {prefix} -DefaultGateway <gateway>; Set-DnsClientServerAddress).",
        "fr": "« {iface} » : fixez {cidr} en statique (Set-NetIPInterface -InterfaceIndex "
        "{index} -Dhcp Disabled ; New-NetIPAddress -InterfaceIndex {index} -IPAddress "
        "{address} -PrefixLength {prefix} -DefaultGateway <passerelle> ; "
        "Set-DnsClientServerAddress).",
    },
    "dyn.kernel": {"en": "finite lease lifetime", "fr": "durée de bail finie"},
    "dyn.dhcp": {"en": "DHCP in {manager}", "fr": "DHCP dans {manager}"},
    "dyn.windows": {"en": "Windows: {why}", "fr": "Windows : {why}"},
    # PRE-03
    "hw.pass": {
        "en": "{host}: {cores} CPU, {memory} GiB RAM, {free} GiB free on {mount} ({kind})",
        "fr": "{host} : {cores} CPU, {memory} Gio de RAM, {free} Gio libres sur {mount} ({kind})",
    },
    "hw.fail": {
        "en": "{host} is below the hardware prerequisites: {shortfalls}",
        "fr": "{host} est en dessous des prérequis matériels : {shortfalls}",
    },
    "hw.fail.hint": {
        "en": "Bring the server up to the prerequisites ({wanted}), or record lower minimums "
        "agreed with the client in the contract (hardware_prerequisites).",
        "fr": "Mettez le serveur au niveau des prérequis ({wanted}), ou inscrivez dans le "
        "contrat des minimums plus bas convenus avec le client (hardware_prerequisites).",
    },
    "hw.vendor": {
        "en": "{host}: physical server from {vendor}, a vendor without a hardware notifier",
        "fr": "{host} : serveur physique {vendor}, constructeur sans outil d'alerte matériel",
    },
    "hw.vendor.hint": {
        "en": "Hardware alerts (MON-HW-01) rely on the vendor's notifier (HPE, Dell, Lenovo, "
        "IBM): plan another way to receive this server's hardware alerts.",
        "fr": "Les alertes matérielles (MON-HW-01) passent par l'outil du constructeur (HPE, "
        "Dell, Lenovo, IBM) : prévoyez un autre moyen de recevoir les alertes matérielles de ce "
        "serveur.",
    },
    "hw.cores": {"en": "{have} CPU < {want}", "fr": "{have} CPU < {want}"},
    "hw.memory": {"en": "{have} GiB RAM < {want} GiB", "fr": "{have} Gio de RAM < {want} Gio"},
    "hw.free": {
        "en": "{have} GiB free on {mount} < {want} GiB",
        "fr": "{have} Gio libres sur {mount} < {want} Gio",
    },
    "hw.free_pct": {
        "en": "{have} % free on {mount} < {want} %",
        "fr": "{have} % libres sur {mount} < {want} %",
    },
    "hw.unknown": {"en": "{what} unknown", "fr": "{what} inconnu"},
    "kind.vm": {"en": "virtual machine, {platform}", "fr": "machine virtuelle, {platform}"},
    "kind.container": {"en": "container, {platform}", "fr": "conteneur, {platform}"},
    "kind.physical": {"en": "physical, {model}", "fr": "physique, {model}"},
    # PRE-05
    "os.pass": {
        "en": "{os} is maintained by its vendor until {date}",
        "fr": "{os} est maintenu par son éditeur jusqu'au {date}",
    },
    "os.soon": {
        "en": "{os}: vendor support ends on {date}, in {days} days",
        "fr": "{os} : le support de l'éditeur s'arrête le {date}, dans {days} jours",
    },
    "os.soon.hint": {
        "en": "Plan the upgrade to a maintained release before {date} with the client.",
        "fr": "Planifiez avec le client la migration vers une version maintenue avant le {date}.",
    },
    "os.paid": {
        "en": "{os}: free vendor support ended on {date}; only {paid} covers it, until {until}",
        "fr": "{os} : le support gratuit de l'éditeur a pris fin le {date} ; seul {paid} le "
        "couvre, jusqu'au {until}",
    },
    "os.paid.hint": {
        "en": "Confirm that the client subscribes to {paid}; otherwise upgrade to a maintained "
        "release.",
        "fr": "Vérifiez que le client a souscrit {paid} ; sinon migrez vers une version maintenue.",
    },
    "os.eol": {
        "en": "{os} is no longer maintained by its vendor (since {date})",
        "fr": "{os} n'est plus maintenu par son éditeur (depuis le {date})",
    },
    "os.eol.hint": {
        "en": "Upgrade to a release maintained by its vendor: the booklet requires it (3.1).",
        "fr": "Migrez vers une version maintenue par son éditeur : le livret l'exige (3.1).",
    },
    "os.unmanageable": {
        "en": "{os} is below what ansible-core {core} can manage: {why}",
        "fr": "{os} est en dessous de ce qu'ansible-core {core} sait gérer : {why}",
    },
    "os.unmanageable.hint": {
        "en": "Upgrade the server (Windows Server 2016 or later with PowerShell 5.1; Linux "
        "with Python 3.8 or later) before it can be monitored.",
        "fr": "Mettez le serveur à niveau (Windows Server 2016 ou plus avec PowerShell 5.1 ; "
        "Linux avec Python 3.8 ou plus) avant de pouvoir le surveiller.",
    },
    "os.unknown": {
        "en": "{os} is not in the end-of-support table",
        "fr": "{os} ne figure pas dans la table de fin de support",
    },
    "os.unknown.hint": {
        "en": "Check the vendor's lifecycle page and add the release to data/os_support.yml "
        "with its date and source.",
        "fr": "Consultez la page de cycle de vie de l'éditeur et ajoutez la version à "
        "data/os_support.yml avec sa date et sa source.",
    },
    "os.workstation": {
        "en": "{os} is a workstation edition, not a Windows Server",
        "fr": "{os} est une édition poste de travail, pas un Windows Server",
    },
    "updates.pass": {
        "en": "No pending security update on {host}",
        "fr": "Aucune mise à jour de sécurité en attente sur {host}",
    },
    "updates.warn": {
        "en": "{count} pending security update(s) on {host}",
        "fr": "{count} mise(s) à jour de sécurité en attente sur {host}",
    },
    "updates.warn.hint": {
        "en": "Apply them with the client's agreement (set-up day, SET-02): {sample}.",
        "fr": "Appliquez-les avec l'accord du client (jour de mise en place, SET-02) : {sample}.",
    },
    "updates.unknown": {
        "en": "Pending security updates could not be counted on {host}",
        "fr": "Les mises à jour de sécurité en attente n'ont pas pu être comptées sur {host}",
    },
    "updates.unknown.hint": {
        "en": "{why}. Check the server's package manager or Windows Update by hand.",
        "fr": "{why}. Vérifiez à la main le gestionnaire de paquets ou Windows Update du serveur.",
    },
    "updates.stale": {
        "en": "{host}: package lists are {days} days old, pending updates may be missing",
        "fr": "{host} : les listes de paquets datent de {days} jours, des mises à jour en "
        "attente peuvent manquer",
    },
    "updates.nolists": {
        "en": "{host}: no package lists, pending updates are unknown",
        "fr": "{host} : aucune liste de paquets, les mises à jour en attente sont inconnues",
    },
    "updates.stale.hint": {
        "en": "Run again with -e preventcare_prerequisites_refresh_package_lists=true (apt-get "
        "update / dnf makecache), or refresh the lists on the server.",
        "fr": "Relancez avec -e preventcare_prerequisites_refresh_package_lists=true (apt-get "
        "update / dnf makecache), ou rafraîchissez les listes sur le serveur.",
    },
    # PRE-06
    "ra.pass": {
        "en": "{tool} is installed and running on {host}",
        "fr": "{tool} est installé et actif sur {host}",
    },
    "ra.stopped": {
        "en": "Installed but not running on {host}: {tools}",
        "fr": "Installé mais inactif sur {host} : {tools}",
    },
    "ra.stopped.hint": {
        "en": "Start one and enable it at boot. {how}.",
        "fr": "Démarrez-en un et activez-le au démarrage. {how}.",
    },
    "ra.missing": {
        "en": "No validated remote-assistance tool ({tools}) on {host}",
        "fr": "Aucun outil de téléassistance validé ({tools}) sur {host}",
    },
    "ra.missing.hint": {
        "en": "Install and start one of the contract's tools ({tools}) so that the provider can "
        "reach the server over the internet.",
        "fr": "Installez et démarrez un des outils du contrat ({tools}) pour que le prestataire "
        "puisse joindre le serveur via internet.",
    },
    "ra.declared": {
        "en": "The contract's remote-assistance tool 'other' cannot be checked on {host}",
        "fr": "L'outil de téléassistance « other » du contrat ne peut pas être vérifié sur {host}",
    },
    "ra.none": {
        "en": "The contract names no remote-assistance tool",
        "fr": "Le contrat ne désigne aucun outil de téléassistance",
    },
    "ra.none.hint": {
        "en": "Add remote_assistance.tools to the contract (openssh, rdp, teamviewer, anydesk, "
        "rustdesk).",
        "fr": "Ajoutez remote_assistance.tools au contrat (openssh, rdp, teamviewer, anydesk, "
        "rustdesk).",
    },
    "how.openssh.linux": {
        "en": "systemctl enable --now ssh (sshd on RHEL)",
        "fr": "systemctl enable --now ssh (sshd sous RHEL)",
    },
    "how.linux": {"en": "systemctl enable --now {unit}", "fr": "systemctl enable --now {unit}"},
    "how.rdp.windows": {
        "en": "allow Remote Desktop (Set-ItemProperty 'HKLM:\\System\\CurrentControlSet\\"
        "Control\\Terminal Server' fDenyTSConnections 0; Enable-NetFirewallRule -DisplayGroup "
        "'Remote Desktop') and start TermService",
        "fr": "autorisez le Bureau à distance (Set-ItemProperty 'HKLM:\\System\\"
        "CurrentControlSet\\Control\\Terminal Server' fDenyTSConnections 0 ; "
        "Enable-NetFirewallRule sur le groupe du Bureau à distance) et démarrez TermService",
    },
    "how.windows": {
        "en": "Set-Service {service} -StartupType Automatic; Start-Service {service}",
        "fr": "Set-Service {service} -StartupType Automatic ; Start-Service {service}",
    },
    # PRE-08
    "admin.pass.linux": {
        "en": "Privilege escalation works on {host} (uid 0, connected as {user})",
        "fr": "L'élévation de privilèges fonctionne sur {host} (uid 0, connecté en {user})",
    },
    "admin.fail.linux": {
        "en": "Privilege escalation does not work on {host}: {why}",
        "fr": "L'élévation de privilèges ne fonctionne pas sur {host} : {why}",
    },
    "admin.fail.linux.hint": {
        "en": "Give {user} administrator rights: a sudoers rule (e.g. /etc/sudoers.d/preventcare "
        "with '{user} ALL=(ALL) NOPASSWD: ALL'), or its sudo password in the vault as "
        "ansible_become_password.",
        "fr": "Donnez les droits administrateur à {user} : une règle sudoers (par ex. "
        "/etc/sudoers.d/preventcare avec « {user} ALL=(ALL) NOPASSWD: ALL »), ou son mot de "
        "passe sudo dans le coffre en ansible_become_password.",
    },
    "admin.pass.windows": {
        "en": "{user} is a member of BUILTIN\\Administrators with a high-integrity token on {host}",
        "fr": "{user} est membre de BUILTIN\\Administrateurs avec un jeton d'intégrité élevée "
        "sur {host}",
    },
    "admin.notmember": {
        "en": "{user} is not a member of BUILTIN\\Administrators on {host}",
        "fr": "{user} n'est pas membre de BUILTIN\\Administrateurs sur {host}",
    },
    "admin.notmember.hint": {
        "en": "Add the account to the local Administrators group (or a domain group that is in "
        "it, e.g. Domain Admins), then reconnect.",
        "fr": "Ajoutez le compte au groupe local Administrateurs (ou à un groupe de domaine qui "
        "en fait partie, par ex. Admins du domaine), puis reconnectez-vous.",
    },
    "admin.filtered": {
        "en": "{user} is an administrator but its token on {host} is not elevated ({label})",
        "fr": "{user} est administrateur mais son jeton sur {host} n'est pas élevé ({label})",
    },
    "admin.filtered.hint": {
        "en": "UAC filters remote logons of local accounts: use a domain account of the "
        "Administrators group, or set LocalAccountTokenFilterPolicy=1 only if the client "
        "accepts it.",
        "fr": "L'UAC filtre les connexions distantes des comptes locaux : utilisez un compte de "
        "domaine membre des Administrateurs, ou LocalAccountTokenFilterPolicy=1 seulement si "
        "le client l'accepte.",
    },
    "admin.unknown": {
        "en": "The group membership of {user} on {host} could not be read",
        "fr": "Les groupes de {user} sur {host} n'ont pas pu être lus",
    },
    "admin.unknown.hint": {
        "en": "Run 'whoami /groups /fo csv' on the server as that account and check for "
        "S-1-5-32-544 and S-1-16-12288.",
        "fr": "Lancez « whoami /groups /fo csv » sur le serveur avec ce compte et cherchez "
        "S-1-5-32-544 et S-1-16-12288.",
    },
    # PRE-04, PRE-07, PRE-09
    "homologation.pass": {
        "en": "Software {status_text}",
        "fr": "Logiciels {status_text}",
    },
    "homologation.configured_by_provider": {
        "en": "configured by the provider",
        "fr": "paramétrés par le prestataire",
    },
    "homologation.homologated": {
        "en": "homologated on {date}",
        "fr": "homologués le {date}",
    },
    "homologation.pending": {
        "en": "Homologation of the software is pending",
        "fr": "L'homologation des logiciels est en attente",
    },
    "homologation.pending.hint": {
        "en": "Check the client's configuration against the technical prerequisites and bring "
        "it into conformity on set-up day (SET-02), then set homologation.status: homologated "
        "with its date.",
        "fr": "Vérifiez la configuration du client par rapport aux prérequis techniques et "
        "mettez-la en conformité le jour de la mise en place (SET-02), puis passez "
        "homologation.status à homologated avec sa date.",
    },
    "homologation.missing": {
        "en": "The contract does not record the homologation status",
        "fr": "Le contrat n'indique pas le statut d'homologation",
    },
    "homologation.missing.hint": {
        "en": "Add homologation.status (configured_by_provider, homologated or pending) to the "
        "contract.",
        "fr": "Ajoutez homologation.status (configured_by_provider, homologated ou pending) au "
        "contrat.",
    },
    "phone.declared": {
        "en": "Telephone in the server room: declared on {date}, not verified",
        "fr": "Téléphone dans le local serveur : déclaré le {date}, non vérifié",
    },
    "phone.missing": {
        "en": "No attestation of a telephone in the server room",
        "fr": "Aucune attestation de téléphone dans le local serveur",
    },
    "phone.missing.hint": {
        "en": "Ask the client to confirm that a telephone line reaches the server room, and "
        "record it in attestations.server_room_phone (declared_by, date).",
        "fr": "Demandez au client de confirmer qu'une ligne téléphonique dessert le local "
        "serveur, et consignez-le dans attestations.server_room_phone (declared_by, date).",
    },
    "services.pass": {
        "en": "Subscribed services are consistent: {services}",
        "fr": "Les services souscrits sont cohérents : {services}",
    },
    "services.fail": {
        "en": "Subscribed services are inconsistent: {problems}",
        "fr": "Les services souscrits sont incohérents : {problems}",
    },
}


def text(key, lang, **values):
    """A text in the contract's language with its values filled in."""
    entry = T[key]
    return entry.get(lang, entry["en"]).format(**values)


def _lang(contract):
    lang = (contract or {}).get("language") if isinstance(contract, dict) else None
    return lang if lang in ("fr", "en") else "fr"


def result(host, requirement, check, status, blocking, title, evidence, hint=""):  # noqa: PLR0917 - the eight fields, in report order
    """A result dict; a PASS never carries a hint."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    return {
        "host": host,
        "requirement": requirement,
        "check": check,
        "status": status,
        "blocking": bool(blocking),
        "title": title,
        "evidence": evidence if evidence is not None else {},
        "hint": "" if status == "PASS" else hint,
    }


# ---------------------------------------------------------------- small helpers


def _dict(value):
    return value if isinstance(value, dict) else {}


def _list(value):
    if value is None:
        return []
    if isinstance(value, dict):  # ConvertTo-Json writes a one-item array as an object
        return [value]
    return list(value) if isinstance(value, (list, tuple)) else []


def _date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value))


def _enum(value, names):
    """Windows enum as ConvertTo-Json (number), win_powershell ({Value, String}) or a name."""
    if isinstance(value, dict):
        value = value.get("Value", value.get("String"))
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return names.get(value, str(value))
    if isinstance(value, str) and value.strip().isdigit():
        return names.get(int(value), value)
    return str(value) if value is not None else None


def _gib(value):
    return round(value / GIB, 1)


def _version_tuple(text_value):
    parts = re.findall(r"\d+", str(text_value or ""))
    return tuple(int(p) for p in parts)


def _failure_message(outcome):
    """The message of a failed/unreachable task result, trimmed to one line."""
    outcome = _dict(outcome)
    msg = str(outcome.get("msg") or outcome.get("module_stderr") or "no detail").strip()
    first = msg.splitlines()[0] if msg else "no detail"
    return first[:300]


# ---------------------------------------------------------------- PRE-02 contract level


def classify_public_ipv4(value):
    """(True, None) for a public unicast IPv4 address, else (False, reason key)."""
    try:
        address = ipaddress.IPv4Address(str(value).strip())
    except ValueError:
        return False, "not_ipv4"
    if address == ipaddress.IPv4Address("255.255.255.255"):
        return False, "broadcast"
    for network, why in _SPECIAL_V4_NETS:
        if address in network:
            return False, why
    if not address.is_global:  # any block the registry adds later
        return False, "special"
    return True, None


_IP_REASONS = {
    "not_ipv4": {"en": "not an IPv4 address", "fr": "pas une adresse IPv4"},
    "broadcast": {"en": "limited broadcast address", "fr": "adresse de diffusion limitée"},
    "this_network": {"en": "'this network' (0.0.0.0/8)", "fr": "« ce réseau » (0.0.0.0/8)"},
    "private": {"en": "private (RFC 1918)", "fr": "privée (RFC 1918)"},
    "cgnat": {
        "en": "carrier-grade NAT shared space (RFC 6598): the ISP does not give a fixed public IP",
        "fr": "espace partagé de NAT opérateur (RFC 6598) : le FAI ne fournit pas d'IP "
        "publique fixe",
    },
    "loopback": {"en": "loopback", "fr": "boucle locale"},
    "link_local": {"en": "link-local", "fr": "lien local"},
    "ietf": {"en": "IETF protocol assignments", "fr": "affectations de protocoles IETF"},
    "documentation": {
        "en": "documentation range (RFC 5737), an example value",
        "fr": "plage de documentation (RFC 5737), une valeur d'exemple",
    },
    "benchmarking": {"en": "benchmarking range (RFC 2544)", "fr": "plage de tests (RFC 2544)"},
    "multicast": {"en": "multicast", "fr": "multicast"},
    "reserved": {"en": "reserved", "fr": "réservée"},
    "special": {"en": "special-purpose, not routable", "fr": "usage spécial, non routable"},
}


def check_public_ip(contract):
    """PRE-02: the declared public IP is a public unicast IPv4 address."""
    lang = _lang(contract)
    declared = (contract or {}).get("public_ip")
    if declared in (None, ""):
        return result(
            "contract",
            "PRE-02",
            "public_ip",
            "FAIL",
            True,
            text("public_ip.missing", lang),
            {"public_ip": None},
            text("public_ip.missing.hint", lang),
        )
    public, why = classify_public_ipv4(declared)
    if public:
        return result(
            "contract",
            "PRE-02",
            "public_ip",
            "PASS",
            True,
            text("public_ip.pass", lang, ip=declared),
            {"public_ip": declared, "public": True},
        )
    reason = _IP_REASONS[why].get(lang, _IP_REASONS[why]["en"])
    return result(
        "contract",
        "PRE-02",
        "public_ip",
        "FAIL",
        True,
        text("public_ip.fail", lang, ip=declared, reason=reason),
        {"public_ip": declared, "public": False, "category": why},
        text("public_ip.fail.hint", lang),
    )


def check_egress_ip(contract, url=None, observed=None, error=None):
    """PRE-02: the address the internet sees (read from `url` on the controller) is the declared.

    NOT_APPLICABLE without a URL; WARN when the URL could not be read.
    """
    lang = _lang(contract)
    declared = (contract or {}).get("public_ip")
    if not url:
        return result(
            "contract",
            "PRE-02",
            "egress_ip",
            "NOT_APPLICABLE",
            False,
            text("egress.na", lang),
            {"url": None},
        )
    seen = str(observed or "").strip()
    evidence = {"url": url, "declared": declared, "observed": seen or None}
    try:
        seen_ip = str(ipaddress.ip_address(seen)) if seen else None
    except ValueError:
        seen_ip = None
        error = error or f"the answer is not an IP address: {seen[:60]!r}"
    if error or seen_ip is None:
        evidence["error"] = str(error or "empty answer")
        return result(
            "contract",
            "PRE-02",
            "egress_ip",
            "WARN",
            False,
            text("egress.error", lang, url=url),
            evidence,
            text("egress.error.hint", lang, error=evidence["error"]),
        )
    if declared and seen_ip == str(declared).strip():
        return result(
            "contract",
            "PRE-02",
            "egress_ip",
            "PASS",
            False,
            text("egress.pass", lang, observed=seen_ip),
            evidence,
        )
    return result(
        "contract",
        "PRE-02",
        "egress_ip",
        "FAIL",
        False,
        text("egress.fail", lang, observed=seen_ip, declared=declared or "-"),
        evidence,
        text("egress.fail.hint", lang),
    )


# ---------------------------------------------------------------- PRE-02 host level


def _base_iface(name):
    return str(name or "").split(":")[0]


def _routable_v4(address):
    try:
        ip = ipaddress.IPv4Address(str(address))
    except ValueError:
        return False
    return not (ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast)


def linux_addressing(network):
    """Per IPv4 address: is it dynamic, and which configuration source says so."""
    network = _dict(network)
    sources = _list(network.get("sources"))
    rows = []
    for item in _list(network.get("addresses")):
        entry = _dict(item)
        if entry.get("family") != "inet" or not _routable_v4(entry.get("address")):
            continue
        iface = _base_iface(entry.get("interface"))
        lifetime = entry.get("valid_lifetime")
        finite = isinstance(lifetime, int) and not isinstance(lifetime, bool) and lifetime < FOREVER
        kernel_dynamic = bool(entry.get("dynamic")) or finite
        dhcp_sources = []
        static_sources = []
        for raw in sources:
            source = _dict(raw)
            if _base_iface(source.get("interface")) != iface:
                continue
            if source.get("manager") == "dhclient" and source.get("address") not in (
                None,
                entry.get("address"),
            ):
                continue  # an old lease for another address
            if source.get("method") == "dhcp":
                dhcp_sources.append(source)
            elif source.get("method") in ("static", "manual"):
                static_sources.append(source)
        rows.append(
            {
                "interface": iface,
                "address": entry.get("address"),
                "prefixlen": entry.get("prefixlen"),
                "dynamic": kernel_dynamic or bool(dhcp_sources),
                "kernel_dynamic": kernel_dynamic,
                "valid_lifetime": None if not finite else lifetime,
                "dhcp_sources": dhcp_sources,
                "static_sources": static_sources,
            }
        )
    return rows


def windows_addressing(network):
    """Per IPv4 address: PrefixOrigin/SuffixOrigin and the interface's Dhcp state."""
    network = _dict(network)
    dhcp_by_index = {}
    for item in _list(network.get("ip_interfaces")):
        iface = _dict(item)
        if _enum(iface.get("AddressFamily"), ADDRESS_FAMILY) != "IPv4":
            continue
        dhcp_by_index[iface.get("InterfaceIndex")] = _enum(iface.get("Dhcp"), DHCP_STATE)
    rows = []
    for item in _list(network.get("ip_addresses")):
        entry = _dict(item)
        if _enum(entry.get("AddressFamily"), ADDRESS_FAMILY) != "IPv4":
            continue
        if not _routable_v4(entry.get("IPAddress")):
            continue
        prefix_origin = _enum(entry.get("PrefixOrigin"), PREFIX_ORIGIN)
        suffix_origin = _enum(entry.get("SuffixOrigin"), SUFFIX_ORIGIN)
        dhcp = dhcp_by_index.get(entry.get("InterfaceIndex"))
        why = []
        if prefix_origin == "Dhcp":
            why.append("PrefixOrigin=Dhcp")
        if suffix_origin == "Dhcp":
            why.append("SuffixOrigin=Dhcp")
        if dhcp == "Enabled":
            why.append("Dhcp=Enabled")
        rows.append(
            {
                "interface": entry.get("InterfaceAlias"),
                "index": entry.get("InterfaceIndex"),
                "address": entry.get("IPAddress"),
                "prefixlen": entry.get("PrefixLength"),
                "prefix_origin": prefix_origin,
                "suffix_origin": suffix_origin,
                "dhcp": dhcp,
                "dynamic": bool(why),
                "why": why,
            }
        )
    return rows


def _linux_fix(row, lang):
    cidr = f"{row['address']}/{row['prefixlen']}"
    source = row["dhcp_sources"][0] if row["dhcp_sources"] else {}
    manager = source.get("manager") or "kernel"
    key = f"fix.{manager}" if f"fix.{manager}" in T else "fix.kernel"
    return text(
        key,
        lang,
        iface=row["interface"],
        cidr=cidr,
        connection=source.get("connection") or row["interface"],
        file=source.get("file") or "?",
    )


def check_static_addressing(host, evidence, platform, lang):
    """PRE-02: every routable IPv4 address of the host is static."""
    network = _dict(_dict(evidence).get("network"))
    rows = windows_addressing(network) if platform == "windows" else linux_addressing(network)
    shown = {"addresses": rows}
    if network.get("errors"):
        shown["collection_errors"] = network["errors"]
    if not rows:
        return result(
            host,
            "PRE-02",
            "static_addressing",
            "FAIL",
            True,
            text("static.none", lang, host=host),
            shown,
            text("static.none.hint", lang),
        )
    dynamic = [r for r in rows if r["dynamic"]]
    if not dynamic:
        listing = ", ".join(f"{r['interface']} {r['address']}/{r['prefixlen']}" for r in rows)
        return result(
            host,
            "PRE-02",
            "static_addressing",
            "PASS",
            True,
            text("static.pass", lang, host=host, addresses=listing),
            shown,
        )
    details, fixes = [], []
    for row in dynamic:
        if platform == "windows":
            why = text("dyn.windows", lang, why=", ".join(row["why"]))
            fixes.append(
                text(
                    "fix.windows",
                    lang,
                    iface=row["interface"],
                    index=row["index"],
                    address=row["address"],
                    prefix=row["prefixlen"],
                    cidr=f"{row['address']}/{row['prefixlen']}",
                )
            )
        else:
            reasons = []
            if row["kernel_dynamic"]:
                reasons.append(text("dyn.kernel", lang))
            for source in row["dhcp_sources"]:
                where = source.get("file") or source.get("connection") or ""
                manager = source.get("manager", "?") + (f" {where}" if where else "")
                reasons.append(text("dyn.dhcp", lang, manager=manager))
            why = ", ".join(reasons)
            fixes.append(_linux_fix(row, lang))
        details.append(f"{row['interface']} {row['address']}/{row['prefixlen']} ({why})")
    hint = " ".join([text("static.hint.intro", lang), *fixes])
    return result(
        host,
        "PRE-02",
        "static_addressing",
        "FAIL",
        True,
        text("static.fail", lang, host=host, details="; ".join(details)),
        shown,
        hint,
    )


# ---------------------------------------------------------------- PRE-03


def hardware_minimums(table, platform, roles=(), overrides=None):
    """Minimums for one host: platform defaults, raised by its roles, then contract overrides."""
    table = _dict(table)
    overrides = _dict(overrides)
    wanted = dict(_dict(_dict(table.get("defaults")).get(platform)))
    role_table = _dict(table.get("roles"))
    role_overrides = _dict(overrides.get("roles"))
    for role in roles or ():
        for key, value in _dict(role_table.get(role)).items():
            wanted[key] = max(wanted.get(key, value), value)
    for key, value in overrides.items():
        if key != "roles" and isinstance(value, (int, float)) and not isinstance(value, bool):
            wanted[key] = value
    for role in roles or ():
        for key, value in _dict(role_overrides.get(role)).items():
            wanted[key] = value
    return wanted


def _first_match(name, groups):
    subject = " ".join(str(name or "").lower().split())
    for group in _list(groups):
        for pattern in _list(_dict(group).get("patterns")):
            if re.search(pattern, subject):
                return _dict(group).get("name")
    return None


def hardware_facts(evidence, platform, table):
    """cores, memory, system volume, vendor/model and virtualisation, platform-independent."""
    hardware = _dict(_dict(evidence).get("hardware"))
    if platform == "windows":
        system = _dict(hardware.get("computer_system"))
        drive = str(hardware.get("system_drive") or "C:").upper()
        disks = _list(hardware.get("logical_disks"))
        disk = next((d for d in disks if str(_dict(d).get("DeviceID", "")).upper() == drive), {})
        vendor, model = system.get("Manufacturer"), system.get("Model")
        virtual = _first_match(f"{vendor} {model}", table.get("virtual_platforms"))
        facts = {
            "cpu_cores": system.get("NumberOfLogicalProcessors"),
            "memory_bytes": system.get("TotalPhysicalMemory"),
            "system_mount": drive,
            "system_size_bytes": _dict(disk).get("Size"),
            "system_free_bytes": _dict(disk).get("FreeSpace"),
            "vendor": vendor,
            "model": model,
            "hypervisor_present": system.get("HypervisorPresent"),
            "virtual": virtual,
            "container": None,
        }
    else:
        mount_point = hardware.get("system_mount") or "/"
        mounts = _list(hardware.get("mounts"))
        mount = next((m for m in mounts if _dict(m).get("mount") == mount_point), {})
        dmi = _dict(hardware.get("dmi"))
        virt = _dict(hardware.get("virtualization"))
        vendor, model = dmi.get("sys_vendor"), dmi.get("product_name")
        virtual = virt.get("vm")
        if not virtual:
            virtual = _first_match(f"{vendor} {model}", table.get("virtual_platforms"))
        facts = {
            "cpu_cores": hardware.get("cpu_cores"),
            "memory_bytes": hardware.get("memory_bytes"),
            "system_mount": mount_point,
            "system_size_bytes": _dict(mount).get("size_bytes"),
            "system_free_bytes": _dict(mount).get("free_bytes"),
            "vendor": vendor,
            "model": model,
            "virtual": virtual,
            "container": virt.get("container"),
        }
    facts["supported_vendor"] = (
        _first_match(facts["vendor"], table.get("vendors")) if facts["vendor"] else None
    )
    return facts


def _kind(facts, lang):
    if facts.get("container"):
        return text("kind.container", lang, platform=facts["container"])
    if facts.get("virtual"):
        return text("kind.vm", lang, platform=facts["virtual"])
    model = " ".join(str(x) for x in (facts.get("vendor"), facts.get("model")) if x) or "?"
    return text("kind.physical", lang, model=model)


def _shortfalls(facts, wanted, tolerance, lang):
    short = []
    cores = facts.get("cpu_cores")
    if wanted.get("min_cpu_cores"):
        if not isinstance(cores, int):
            short.append(text("hw.unknown", lang, what="CPU"))
        elif cores < wanted["min_cpu_cores"]:
            short.append(text("hw.cores", lang, have=cores, want=wanted["min_cpu_cores"]))
    memory = facts.get("memory_bytes")
    if wanted.get("min_memory_mib"):
        floor = wanted["min_memory_mib"] * MIB * (1 - tolerance / 100)
        if not isinstance(memory, (int, float)):
            short.append(text("hw.unknown", lang, what="RAM"))
        elif memory < floor:
            short.append(
                text(
                    "hw.memory",
                    lang,
                    have=_gib(memory),
                    want=round(wanted["min_memory_mib"] / 1024, 1),
                )
            )
    free, size = facts.get("system_free_bytes"), facts.get("system_size_bytes")
    mount = facts.get("system_mount")
    if not isinstance(free, (int, float)):
        short.append(text("hw.unknown", lang, what=str(mount)))
        return short
    if wanted.get("min_system_free_gib") and free < wanted["min_system_free_gib"] * GIB:
        short.append(
            text("hw.free", lang, have=_gib(free), mount=mount, want=wanted["min_system_free_gib"])
        )
    percent = wanted.get("min_system_free_percent")
    if percent and isinstance(size, (int, float)) and size > 0 and free * 100 / size < percent:
        short.append(
            text("hw.free_pct", lang, have=round(free * 100 / size, 1), mount=mount, want=percent)
        )
    return short


def check_hardware(host, evidence, platform, lang, table, *, roles=(), overrides=None):
    """PRE-03: cores, RAM and free system space against the table; VMs recognised."""
    table = _dict(table)
    facts = hardware_facts(evidence, platform, table)
    wanted = hardware_minimums(table, platform, roles, overrides)
    tolerance = table.get("memory_tolerance_percent", 0) or 0
    shown = {**facts, "kind": _kind(facts, lang), "minimums": wanted, "roles": list(roles or ())}
    short = _shortfalls(facts, wanted, tolerance, lang)
    if short:
        wanted_text = ", ".join(f"{k}={v}" for k, v in wanted.items())
        return result(
            host,
            "PRE-03",
            "hardware",
            "FAIL",
            True,
            text("hw.fail", lang, host=host, shortfalls="; ".join(short)),
            shown,
            text("hw.fail.hint", lang, wanted=wanted_text),
        )
    physical = not (facts.get("virtual") or facts.get("container"))
    if physical and facts.get("vendor") and not facts.get("supported_vendor"):
        return result(
            host,
            "PRE-03",
            "hardware",
            "WARN",
            False,
            text("hw.vendor", lang, host=host, vendor=facts["vendor"]),
            shown,
            text("hw.vendor.hint", lang),
        )
    return result(
        host,
        "PRE-03",
        "hardware",
        "PASS",
        True,
        text(
            "hw.pass",
            lang,
            host=host,
            cores=facts.get("cpu_cores"),
            memory=_gib(facts.get("memory_bytes") or 0),
            free=_gib(facts.get("system_free_bytes") or 0),
            mount=facts.get("system_mount"),
            kind=shown["kind"],
        ),
        shown,
    )


# ---------------------------------------------------------------- PRE-05


def os_identity(evidence, platform):
    """What the OS table is matched against, and the name shown to the user."""
    os_info = _dict(_dict(evidence).get("os"))
    if platform == "windows":
        version = ".".join(str(os_info.get("Version") or "").split(".")[:2])
        build = os_info.get("BuildNumber")
        try:
            build = int(str(build))
        except ValueError:
            build = None
        product_type = os_info.get("ProductType")
        return {
            "family": "windows",
            "version": version,
            "build": build,
            "product_type": product_type,
            "name": os_info.get("Caption") or f"Windows {os_info.get('Version')}",
            "powershell": _dict(_dict(evidence).get("powershell")).get("PSVersion"),
        }
    return {
        "family": "linux",
        "id": str(os_info.get("id") or "").lower(),
        "id_like": [str(x).lower() for x in _list(os_info.get("id_like"))],
        "version": str(os_info.get("version_id") or ""),
        "name": os_info.get("pretty_name") or os_info.get("id") or "Linux",
        "python": os_info.get("python"),
        "kernel": os_info.get("kernel"),
    }


def find_os_entry(table, identity):
    """The table entry for this OS, or None."""
    for item in _list(_dict(table).get("entries")):
        entry = _dict(item)
        match = _dict(entry.get("match"))
        if entry.get("family") != identity["family"]:
            continue
        if identity["family"] == "windows":
            if identity.get("product_type") == 1:
                return None  # a workstation shares its version numbers with a server
            if match.get("version") != identity["version"]:
                continue
            if "build" in match and match["build"] != identity.get("build"):
                continue
            return entry
        if match.get("id") != identity["id"]:
            continue
        version = identity["version"]
        if version == str(match.get("version")) or version.split(".")[0] == str(
            match.get("version")
        ):
            return entry
    return None


def _manageable(identity, table):
    """Why ansible-core cannot manage this OS, or None."""
    core = _dict(_dict(table).get("ansible_core"))
    if identity["family"] == "windows":
        build = identity.get("build")
        minimum = core.get("windows_min_build", 14393)
        if identity["version"] and _version_tuple(identity["version"]) < (10, 0):
            return f"Windows {identity['version']} < Windows Server 2016 (10.0.{minimum})"
        if isinstance(build, int) and build < minimum:
            return f"build {build} < {minimum} (Windows Server 2016)"
        ps = identity.get("powershell")
        ps_min = core.get("powershell_min", "5.1")
        if ps and _version_tuple(ps)[:2] < _version_tuple(ps_min)[:2]:
            return f"PowerShell {ps} < {ps_min}"
        return None
    python = identity.get("python")
    py_min = core.get("python_min", "3.8")
    if python and _version_tuple(python)[:2] < _version_tuple(py_min)[:2]:
        return f"Python {python} < {py_min}"
    return None


def check_os_support(host, evidence, platform, lang, table, *, today):
    """PRE-05: maintained by its vendor (dated table), and manageable by ansible-core."""
    table = _dict(table)
    identity = os_identity(evidence, platform)
    entry = find_os_entry(table, identity)
    core = _dict(table.get("ansible_core"))
    shown = {"os": identity, "table_entry": entry, "today": today.isoformat()}
    name = entry.get("name") if entry else identity["name"]
    unmanageable = _manageable(identity, table)
    if unmanageable:
        shown["unmanageable"] = unmanageable
        return result(
            host,
            "PRE-05",
            "os_support",
            "FAIL",
            True,
            text(
                "os.unmanageable", lang, os=name, core=core.get("version", "2.19"), why=unmanageable
            ),
            shown,
            text("os.unmanageable.hint", lang),
        )
    if entry is None:
        key = (
            "os.workstation"
            if identity["family"] == "windows" and identity.get("product_type") == 1
            else "os.unknown"
        )
        return result(
            host,
            "PRE-05",
            "os_support",
            "WARN",
            False,
            text(key, lang, os=name),
            shown,
            text("os.unknown.hint", lang),
        )
    end = _date(entry["end_of_support"])
    days = (end - today).days
    shown.update(end_of_support=end.isoformat(), days_left=days, source=entry.get("source"))
    warn_days = table.get("warn_days", 180)
    if days < 0:
        paid_until = entry.get("paid_until")
        if paid_until and _date(paid_until) >= today:
            paid = entry.get("paid_name", "a paid extension")
            return result(
                host,
                "PRE-05",
                "os_support",
                "WARN",
                False,
                text(
                    "os.paid",
                    lang,
                    os=name,
                    date=end.isoformat(),
                    paid=paid,
                    until=_date(paid_until).isoformat(),
                ),
                shown,
                text("os.paid.hint", lang, paid=paid),
            )
        return result(
            host,
            "PRE-05",
            "os_support",
            "FAIL",
            True,
            text("os.eol", lang, os=name, date=end.isoformat()),
            shown,
            text("os.eol.hint", lang),
        )
    if days <= warn_days:
        return result(
            host,
            "PRE-05",
            "os_support",
            "WARN",
            False,
            text("os.soon", lang, os=name, date=end.isoformat(), days=days),
            shown,
            text("os.soon.hint", lang, date=end.isoformat()),
        )
    return result(
        host,
        "PRE-05",
        "os_support",
        "PASS",
        True,
        text("os.pass", lang, os=name, date=end.isoformat()),
        shown,
    )


def check_security_updates(host, evidence, platform, lang, win_updates=None):
    """PRE-05: pending security updates, reported as WARN with their count."""
    if platform == "windows":
        outcome = _dict(win_updates)
        if not outcome or outcome.get("skipped") or outcome.get("failed"):
            why = _failure_message(outcome) if outcome else "win_updates did not run"
            return result(
                host,
                "PRE-05",
                "security_updates",
                "WARN",
                False,
                text("updates.unknown", lang, host=host),
                {"manager": "windows_update", "error": why},
                text("updates.unknown.hint", lang, why=why),
            )
        updates = _dict(outcome.get("updates"))
        names = [
            " ".join(
                x
                for x in (
                    "KB" + str(u.get("kb")[0]) if _list(u.get("kb")) else "",
                    str(u.get("title") or ""),
                )
                if x
            )
            for u in (_dict(v) for v in updates.values())
        ]
        count = outcome.get("found_update_count", len(names))
        shown = {"manager": "windows_update", "security": count, "packages": names[:50]}
    else:
        info = _dict(_dict(evidence).get("updates"))
        shown = dict(info)
        count = info.get("security")
        names = _list(info.get("security_packages"))
        if not isinstance(count, int):
            why = info.get("error") or "no supported package manager (apt, dnf, yum)"
            return result(
                host,
                "PRE-05",
                "security_updates",
                "WARN",
                False,
                text("updates.unknown", lang, host=host),
                shown,
                text("updates.unknown.hint", lang, why=why),
            )
    if count:
        sample = ", ".join(str(n) for n in names[:10]) + (" …" if len(names) > 10 else "")
        return result(
            host,
            "PRE-05",
            "security_updates",
            "WARN",
            False,
            text("updates.warn", lang, count=count, host=host),
            shown,
            text("updates.warn.hint", lang, sample=sample or "-"),
        )
    age = shown.get("lists_age_days")
    if platform != "windows" and shown.get("manager") == "apt" and age is None:
        # No apt lists at all: "0 pending" only means nothing is known yet.
        return result(
            host,
            "PRE-05",
            "security_updates",
            "WARN",
            False,
            text("updates.nolists", lang, host=host),
            shown,
            text("updates.stale.hint", lang),
        )
    if (
        platform != "windows"
        and isinstance(age, (int, float))
        and age > STALE_LISTS_DAYS
        and not shown.get("refreshed")
    ):
        return result(
            host,
            "PRE-05",
            "security_updates",
            "WARN",
            False,
            text("updates.stale", lang, host=host, days=int(age)),
            shown,
            text("updates.stale.hint", lang),
        )
    return result(
        host,
        "PRE-05",
        "security_updates",
        "PASS",
        False,
        text("updates.pass", lang, host=host),
        shown,
    )


# ---------------------------------------------------------------- PRE-06


def remote_tools_state(evidence, platform):
    """{tool: {installed, running, ...}} for every known tool."""
    assistance = _dict(_dict(evidence).get("remote_assistance"))
    if platform != "windows":
        return {name: _dict(state) for name, state in _dict(assistance.get("tools")).items()}
    services = {
        str(_dict(s).get("Name", "")).lower(): _dict(s) for s in _list(assistance.get("services"))
    }
    deny = _dict(assistance.get("rdp")).get("fDenyTSConnections")
    states = {}
    for tool, spec in TOOLS.items():
        # TeamViewer, AnyDesk and RustDesk services may carry a version or client suffix.
        found = [
            state
            for key, state in services.items()
            for name in spec["windows_services"]
            if key == name.lower()
            or (tool not in ("rdp", "openssh") and key.startswith(name.lower()))
        ]
        running = any(_enum(s.get("Status"), SERVICE_STATUS) == "Running" for s in found)
        state = {
            "installed": bool(found),
            "running": running,
            "services": [
                {
                    "name": s.get("Name"),
                    "status": _enum(s.get("Status"), SERVICE_STATUS),
                    "start_type": _enum(s.get("StartType"), {}),
                }
                for s in found
            ],
        }
        if tool == "rdp":
            state["fDenyTSConnections"] = deny
            state["running"] = running and deny in (0, "0")
        states[tool] = state
    return states


def _how_to_start(tool, platform, lang):
    spec = TOOLS[tool]
    if platform == "windows":
        if tool == "rdp":
            return text("how.rdp.windows", lang)
        return text("how.windows", lang, service=spec["windows_services"][0])
    if tool == "openssh":
        return text("how.openssh.linux", lang)
    return text("how.linux", lang, unit=spec["linux_units"][0])


def check_remote_assistance(host, evidence, platform, lang, contract):
    """PRE-06: a validated tool from the contract is installed and running."""
    wanted = _list(_dict(_dict(contract).get("remote_assistance")).get("tools"))
    states = remote_tools_state(evidence, platform)
    shown = {"validated_tools": wanted, "tools": {t: states.get(t, {}) for t in wanted}}
    if not wanted:
        return result(
            host,
            "PRE-06",
            "remote_assistance",
            "FAIL",
            True,
            text("ra.none", lang),
            shown,
            text("ra.none.hint", lang),
        )
    known = [t for t in wanted if t in TOOLS]
    running = [t for t in known if states.get(t, {}).get("running")]
    if running:
        labels = ", ".join(TOOLS[t]["label"] for t in running)
        return result(
            host,
            "PRE-06",
            "remote_assistance",
            "PASS",
            True,
            text("ra.pass", lang, tool=labels, host=host),
            shown,
        )
    if "other" in wanted:
        return result(
            host,
            "PRE-06",
            "remote_assistance",
            "DECLARED",
            False,
            text("ra.declared", lang, host=host),
            shown,
            text("ra.missing.hint", lang, tools=", ".join(wanted)),
        )
    installed = [t for t in known if states.get(t, {}).get("installed")]
    if installed:
        labels = ", ".join(TOOLS[t]["label"] for t in installed)
        how = ". ".join(
            f"{TOOLS[t]['label']}: {_how_to_start(t, platform, lang)}" for t in installed
        )
        return result(
            host,
            "PRE-06",
            "remote_assistance",
            "FAIL",
            True,
            text("ra.stopped", lang, tools=labels, host=host),
            shown,
            text("ra.stopped.hint", lang, how=how),
        )
    labels = ", ".join(TOOLS[t]["label"] if t in TOOLS else t for t in wanted)
    return result(
        host,
        "PRE-06",
        "remote_assistance",
        "FAIL",
        True,
        text("ra.missing", lang, tools=labels, host=host),
        shown,
        text("ra.missing.hint", lang, tools=labels),
    )


# ---------------------------------------------------------------- PRE-08


def parse_whoami_groups(csv_text):
    """Rows of `whoami /groups /fo csv` as [{sid, name, type, attributes}].

    The header and every name are localised; the SID column is found by its content, so the
    same code reads English, French or any other locale.
    """
    rows = [r for r in csv.reader(io.StringIO(str(csv_text or "").lstrip("\ufeff"))) if r]
    if not rows:
        return []
    width = max(len(r) for r in rows)
    sid_column = None
    for column in range(width):
        values = [r[column].strip() for r in rows[1:] if len(r) > column]
        if values and all(_SID.match(v) for v in values):
            sid_column = column
            break
    if sid_column is None:
        return []
    out = []
    for row in rows[1:]:
        if len(row) <= sid_column:
            continue
        out.append(
            {
                "sid": row[sid_column].strip(),
                "name": row[0].strip(),
                "type": row[1].strip() if len(row) > 1 and sid_column != 1 else "",
                "attributes": row[sid_column + 1].strip() if len(row) > sid_column + 1 else "",
            }
        )
    return out


def windows_privilege(privilege):
    """(member, elevated, integrity SID, source) judged from SIDs only."""
    privilege = _dict(privilege)
    groups = parse_whoami_groups(privilege.get("whoami_groups_csv"))
    if groups:
        sids = {g["sid"] for g in groups}
        source = "whoami /groups /fo csv"
    else:
        sids = {str(s) for s in _list(privilege.get("token_group_sids"))}
        source = "WindowsIdentity.Groups" if sids else None
    labels = [s for s in sids if s.startswith("S-1-16-")]
    label = max(labels, key=lambda s: int(s.rsplit("-", 1)[1])) if labels else None
    member = SID_ADMINISTRATORS in sids
    elevated = label in (SID_HIGH_INTEGRITY, SID_SYSTEM_INTEGRITY)
    if source == "WindowsIdentity.Groups" and label is None:
        # Those groups leave out deny-only entries: Administrators there is enabled.
        elevated = member
    return member, elevated, label, source


def check_admin_access(host, evidence, platform, lang, become_error=None):
    """PRE-08: Linux euid 0 after become; Windows: Administrators with a high-integrity token."""
    privilege = _dict(_dict(evidence).get("privilege"))
    if platform == "windows":
        member, elevated, label, source = windows_privilege(privilege)
        user = privilege.get("user") or "?"
        shown = {
            "user": user,
            "user_sid": privilege.get("user_sid"),
            "administrators_sid_present": member,
            "integrity_label_sid": label,
            "source": source,
        }
        if source is None:
            return result(
                host,
                "PRE-08",
                "admin_access",
                "FAIL",
                True,
                text("admin.unknown", lang, user=user, host=host),
                shown,
                text("admin.unknown.hint", lang),
            )
        if member and elevated:
            return result(
                host,
                "PRE-08",
                "admin_access",
                "PASS",
                True,
                text("admin.pass.windows", lang, user=user, host=host),
                shown,
            )
        if member:
            return result(
                host,
                "PRE-08",
                "admin_access",
                "FAIL",
                True,
                text("admin.filtered", lang, user=user, host=host, label=label or "-"),
                shown,
                text("admin.filtered.hint", lang),
            )
        return result(
            host,
            "PRE-08",
            "admin_access",
            "FAIL",
            True,
            text("admin.notmember", lang, user=user, host=host),
            shown,
            text("admin.notmember.hint", lang),
        )
    euid = privilege.get("euid")
    user = privilege.get("sudo_user") or privilege.get("user") or "?"
    shown = {
        "uid": privilege.get("uid"),
        "euid": euid,
        "user": privilege.get("user"),
        "connecting_user": user,
        "sudo": privilege.get("sudo"),
    }
    if become_error:
        shown["become_error"] = become_error
    if euid == 0:
        return result(
            host,
            "PRE-08",
            "admin_access",
            "PASS",
            True,
            text("admin.pass.linux", lang, host=host, user=user),
            shown,
        )
    why = become_error or f"euid {euid}"
    sudo = _dict(privilege.get("sudo"))
    if sudo.get("message") and not become_error:
        why += f"; sudo -n: {sudo['message']}"
    return result(
        host,
        "PRE-08",
        "admin_access",
        "FAIL",
        True,
        text("admin.fail.linux", lang, host=host, why=why),
        shown,
        text("admin.fail.linux.hint", lang, user=user),
    )


# ---------------------------------------------------------------- PRE-01


def check_smtp(host, lang, outcome, platform="linux", contract=None):
    """PRE-01 from the preventcare_smtp result (Linux) or the Windows dialogue transcript."""
    outcome = _dict(outcome)
    relay = _dict(_dict(contract).get("smtp_relay"))
    target = f"{relay.get('host', '?')}:{relay.get('port', '?')}"
    if outcome.get("unreachable"):
        return unreachable_result(host, "PRE-01", "smtp_relay", lang, outcome)
    if platform == "windows" and not outcome.get("failed") and "result" in outcome:
        verdict = summarize(
            _dict(outcome.get("result")),
            tls=relay.get("tls", "starttls"),
            auth=bool(relay.get("auth")),
            language=lang,
        )
    elif "status" in outcome:
        verdict = outcome
    else:
        msg = _failure_message(outcome) if outcome else "the SMTP task did not run"
        return result(
            host,
            "PRE-01",
            "smtp_relay",
            "FAIL",
            True,
            text("smtp.error", lang, host=host),
            {"relay": target, "error": msg},
            text("smtp.error.hint", lang, msg=msg),
        )
    keys = (
        "failure_class",
        "step",
        "reply",
        "reason",
        "enhanced_status",
        "capabilities",
        "tls_version",
        "tls_cipher",
        "peer_certificate",
        "timings",
        "token",
        "message_sent",
        "transcript",
    )
    shown = {"relay": target, **{k: verdict.get(k) for k in keys if k in verdict}}
    if verdict.get("status") == "PASS":
        return result(
            host,
            "PRE-01",
            "smtp_relay",
            "PASS",
            True,
            text("smtp.pass", lang, relay=target, host=host),
            shown,
        )
    return result(
        host,
        "PRE-01",
        "smtp_relay",
        "FAIL",
        True,
        text(
            "smtp.fail",
            lang,
            relay=target,
            host=host,
            failure_class=verdict.get("failure_class") or "?",
            step=verdict.get("step") or "?",
        ),
        shown,
        str(verdict.get("hint") or ""),
    )


# ---------------------------------------------------------------- PRE-04, PRE-07, PRE-09


def check_homologation(contract):
    """PRE-04: homologation status recorded in the contract."""
    lang = _lang(contract)
    homologation = _dict(_dict(contract).get("homologation"))
    status = homologation.get("status")
    shown = {"status": status, "date": homologation.get("date")}
    if status in ("configured_by_provider", "homologated"):
        status_text = text(f"homologation.{status}", lang, date=homologation.get("date") or "?")
        return result(
            "contract",
            "PRE-04",
            "homologation",
            "PASS",
            False,
            text("homologation.pass", lang, status_text=status_text),
            shown,
        )
    key = "homologation.pending" if status == "pending" else "homologation.missing"
    return result(
        "contract",
        "PRE-04",
        "homologation",
        "WARN",
        False,
        text(key, lang),
        shown,
        text(f"{key}.hint", lang),
    )


def check_phone_attestation(contract):
    """PRE-07: a declared attestation is DECLARED, never PASS; none is a WARN.

    No attestation is not evidence that there is no telephone, and the fix is paperwork the
    engineer collects on site: a warning, not a blocking failure. The declarant's name is
    personal data (SEC-02) and stays out of the evidence.
    """
    lang = _lang(contract)
    phone = _dict(_dict(_dict(contract).get("attestations")).get("server_room_phone"))
    if phone:
        return result(
            "contract",
            "PRE-07",
            "server_room_phone",
            "DECLARED",
            False,
            text("phone.declared", lang, date=phone.get("date") or "?"),
            {"declared": True, "date": phone.get("date"), "verified": False},
        )
    return result(
        "contract",
        "PRE-07",
        "server_room_phone",
        "WARN",
        False,
        text("phone.missing", lang),
        {"declared": False, "verified": False},
        text("phone.missing.hint", lang),
    )


def check_services(contract):
    """PRE-09: the subscribed services match the options (the contract validator's own rules)."""
    lang = _lang(contract)
    contract = _dict(contract)
    services = _list(contract.get("services"))
    options = _dict(contract.get("options"))
    problems = [
        p.message
        for p in validate_contract(contract)
        if p.path == "preventcare.services" and p.message.startswith("PRE-09")
    ]
    shown = {"services": services, "options": options}
    if problems:
        shown["problems"] = problems
        return result(
            "contract",
            "PRE-09",
            "services",
            "FAIL",
            True,
            text("services.fail", lang, problems="; ".join(problems)),
            shown,
            "; ".join(problems),
        )
    return result(
        "contract",
        "PRE-09",
        "services",
        "PASS",
        True,
        text("services.pass", lang, services=", ".join(str(s) for s in services)),
        shown,
    )


# ---------------------------------------------------------------- per host and whole run


def unreachable_result(host, requirement, check, lang, outcome):
    msg = _failure_message(outcome)
    return result(
        host,
        requirement,
        check,
        "UNREACHABLE",
        True,
        text("unreachable", lang, host=host),
        {"error": msg},
        text("unreachable.hint", lang, msg=msg),
    )


def evaluate_host(bundle, contract, tables, today):
    """Every host-level result for one server.

    bundle: {host, platform (linux|windows), roles, evidence (the gathering task's result),
    become_error, smtp (preventcare_smtp or win_powershell result), win_updates}.
    """
    bundle = _dict(bundle)
    host = bundle.get("host") or "?"
    platform = "windows" if bundle.get("platform") == "windows" else "linux"
    lang = _lang(contract)
    outcome = _dict(bundle.get("evidence"))
    if outcome.get("unreachable"):
        return [unreachable_result(host, req, check, lang, outcome) for req, check in HOST_CHECKS]
    results = [check_smtp(host, lang, bundle.get("smtp"), platform, contract)]
    evidence = outcome.get("evidence") if platform == "linux" else outcome.get("result")
    if outcome.get("failed") or not isinstance(evidence, dict):
        msg = _failure_message(outcome) if outcome else "the gathering task did not run"
        for requirement, check in HOST_CHECKS[1:]:
            results.append(
                result(
                    host,
                    requirement,
                    check,
                    "FAIL",
                    True,
                    text("no_evidence", lang, host=host),
                    {"error": msg},
                    text("no_evidence.hint", lang, msg=msg),
                )
            )
        return results
    tables = _dict(tables)
    results += [
        check_static_addressing(host, evidence, platform, lang),
        check_hardware(
            host,
            evidence,
            platform,
            lang,
            tables.get("hardware"),
            roles=_list(bundle.get("roles")),
            overrides=tables.get("hardware_overrides"),
        ),
        check_os_support(host, evidence, platform, lang, tables.get("os"), today=today),
        check_security_updates(host, evidence, platform, lang, bundle.get("win_updates")),
        check_remote_assistance(host, evidence, platform, lang, contract),
        check_admin_access(host, evidence, platform, lang, bundle.get("become_error")),
    ]
    return results


def evaluate_contract(contract, egress=None):
    """The contract-level results (PRE-02 public IP and egress, PRE-04, PRE-07, PRE-09)."""
    egress = _dict(egress)
    return [
        check_public_ip(contract),
        check_egress_ip(contract, egress.get("url"), egress.get("observed"), egress.get("error")),
        check_homologation(contract),
        check_phone_attestation(contract),
        check_services(contract),
    ]


def evaluate(bundles, contract, tables, today, egress=None):
    """Every result of the run: the contract's first, then each host in inventory order."""
    results = evaluate_contract(contract, egress)
    for bundle in bundles:
        results += evaluate_host(bundle, contract, tables, today)
    return results


# ---------------------------------------------------------------- data tables


def load_tables(os_path=None, hardware_path=None):
    """{os, hardware} read from data/ (or the given paths), each entry's date checked."""
    tables = {
        "os": load_table(os_path or OS_TABLE),
        "hardware": load_table(hardware_path or HARDWARE_TABLE),
    }
    for index, item in enumerate(_list(tables["os"].get("entries"))):
        entry = _dict(item)
        for key in ("end_of_support", "paid_until"):
            if key in entry:
                try:
                    _date(entry[key])
                except ValueError:
                    raise ValueError(
                        f"os_support.yml entries[{index}] ({entry.get('name')}): {key} "
                        f"{entry[key]!r} is not a date (YYYY-MM-DD)"
                    ) from None
        if not entry.get("source"):
            raise ValueError(f"os_support.yml entries[{index}] ({entry.get('name')}) has no source")
    return tables
