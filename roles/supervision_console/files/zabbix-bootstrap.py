#!/usr/bin/python3
"""Console bootstrap steps the Zabbix API offers no module for (run by the role on the host).

  zabbix-bootstrap.py password URL         replace Zabbix's default Admin password with
                                           $ZBX_NEW_PASSWORD (a fresh console's first run)
  zabbix-bootstrap.py token URL FILE       create the automation API token of Admin, log in
                                           with $ZBX_PASSWORD, write the token to FILE (0600)

Secrets come through the environment, never the command line; nothing secret is printed.
URL is the console's own front end on its loopback: its certificate names the public name,
so the loopback call does not check it (nothing leaves the host).
"""

import json
import os
import ssl
import sys
import urllib.request

DEFAULT_PASSWORD = "zabbix"  # Zabbix's documented initial password of Admin
TOKEN_NAME = "preventcare-automation"


def call(url, method, params, auth=None):
    body = {"jsonrpc": "2.0", "method": method, "params": params, "id": 1}
    if auth:
        body["auth"] = auth
    request = urllib.request.Request(
        url + "/api_jsonrpc.php",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json-rpc"},
    )
    context = ssl._create_unverified_context()  # loopback only, see above
    with urllib.request.urlopen(request, timeout=30, context=context) as response:
        answer = json.load(response)
    if "error" in answer:
        raise RuntimeError(f"{method}: {answer['error'].get('data') or answer['error']}")
    return answer["result"]


def admin_id(url, auth):
    users = call(url, "user.get", {"filter": {"username": "Admin"}, "output": ["userid"]}, auth)
    return users[0]["userid"]


def set_password(url):
    new = os.environ["ZBX_NEW_PASSWORD"]
    try:
        auth = call(url, "user.login", {"username": "Admin", "password": DEFAULT_PASSWORD})
    except RuntimeError:
        sys.exit(
            "Admin accepts neither the vaulted password nor Zabbix's default: reset it in the "
            "database (see the Zabbix manual, 'Resetting the Admin password') and run again"
        )
    params = {"userid": admin_id(url, auth), "passwd": new}
    call(url, "user.update", params, auth)
    print("Admin password replaced")


def create_token(url, path):
    auth = call(url, "user.login", {"username": "Admin", "password": os.environ["ZBX_PASSWORD"]})
    old = call(url, "token.get", {"filter": {"name": TOKEN_NAME}, "output": ["tokenid"]}, auth)
    if old:  # the file was lost: its token cannot be read back, so it is replaced
        call(url, "token.delete", [t["tokenid"] for t in old], auth)
    created = call(url, "token.create", {"name": TOKEN_NAME, "userid": admin_id(url, auth)}, auth)
    generated = call(url, "token.generate", created["tokenids"], auth)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(generated[0]["token"])
    print(f"API token {TOKEN_NAME} written to {path}")


def main(argv):
    if len(argv) >= 3 and argv[1] == "password":
        set_password(argv[2])
    elif len(argv) >= 4 and argv[1] == "token":
        create_token(argv[2], argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
