#!/usr/bin/python3
"""The lab's client relay (molecule/console): accepts the site's mail and relays it to the console.

In production the client's own relay sends the surveillance domain's mail to its MX, the
console host. Here a small store-and-forward hop on the site container stands for it: every
message is relayed at once to console01:25; when the console cannot take it (it does not exist
yet while the site is converged) the relay answers 451 and the sender (the site's mail signer,
then Alertmanager) retries, as a real relay's queue would. aiosmtpd comes with the site image.
"""

import smtplib
import sys
import time

from aiosmtpd.controller import Controller

CONSOLE = ("console01", 25)


class Relay:
    async def handle_DATA(self, server, session, envelope):
        try:
            with smtplib.SMTP(*CONSOLE, local_hostname="relay.lab.example", timeout=30) as smtp:
                smtp.sendmail(envelope.mail_from, envelope.rcpt_tos, envelope.original_content)
        except (OSError, smtplib.SMTPException) as exc:
            print(f"relay: deferred, {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            return "451 4.4.1 the console is not reachable, try again later"
        print(f"relay: relayed to {envelope.rcpt_tos}", file=sys.stderr, flush=True)
        return "250 2.0.0 relayed"


if __name__ == "__main__":
    controller = Controller(
        Relay(), hostname="0.0.0.0", port=2525, server_hostname="relay.lab.example"
    )
    controller.start()
    print("relay: listening on 0.0.0.0:2525", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()
