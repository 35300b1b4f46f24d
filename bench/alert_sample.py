"""One alert as its channels receive it: an email at a real SMTP server, an apprise ``json://`` chat message and
newsmon's own JSON webhook (``webhook+http://``) at real receivers on loopback, printed as received (the README's
"What an alert says" is this output). Two copies of one story at two outlets are stored and matched in a
throwaway SQLite archive, then ``alerts.delivery.deliver_pending`` sends the alert. From the repository root::

    python -m bench.alert_sample
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import replace
from datetime import UTC, datetime

from alerts.delivery import deliver_pending
from db.session import open_database, session_factory
from tests.conftest import Mailbox
from tests.factories import alert_plan, store_matched
from tests.servers import Webhook

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
TEXT = ("Ukraine's delegation arrived in Geneva on Sunday for a second round of talks on the 20-point peace plan. "
        "In Moscow, Kremlin spokesman Dmitry Peskov said Путина had been briefed by the US envoy and that a meeting "
        'was possible "in the coming weeks". Officials in Kyiv said security guarantees remained the main question.')
RULE = {"name": "putin-on-talks", "query": "Putin AND (talks OR negotiations)",
        "notify": ["desk-email", "desk-chat", "desk-json"]}


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        engine = open_database(f"sqlite:///{folder}/sample.db")
        sessions = session_factory(engine)
        plan = replace(alert_plan(RULE), base_url="https://newsmon.example.org")
        for url, title, outlet, extra in (
            ("https://www.kyivpost.example/post/41234", "Second round of Geneva talks as Kremlin weighs meeting",
             "Kyiv Post", ""),
            ("https://wire.example/world/geneva-round-two", "Geneva talks: second round", "Wire Service",
             " Reporting by the wire's Geneva bureau."),
        ):
            store_matched(sessions, plan, NOW, url=url, urls=(url,), title=title, text=TEXT + extra,
                          site_name=outlet, language="en", published_at=NOW)
        mailbox = Mailbox()
        mailbox.controller.start()
        try:
            with Webhook(path="/chat") as chat, Webhook(path="/newsmon") as hook:
                host, port = hook.server.server_address[:2]
                channels = {"desk-email": mailbox.url(), "desk-chat": chat.url,
                            "desk-json": f"webhook+http://{host}:{port}/newsmon"}
                report = deliver_pending(sessions, channels, plan, now=NOW)
                print(f"sent {report.sent}, failed {report.failed}", file=sys.stderr)
                mail = mailbox.messages[0]
                print(f"=== email\nSubject: {mail['Subject']}\n")
                print(mail.get_body(preferencelist=("plain",)).get_content())
                print("=== email, HTML part")
                print(mail.get_body(preferencelist=("html",)).get_content())
                print("=== apprise json:// (chat)")
                print(json.dumps(chat.received[0], ensure_ascii=False))
                arrival = hook.arrivals[0]
                print(f"=== webhook+http:// (Idempotency-Key: {arrival.headers.get('Idempotency-Key')})")
                print(json.dumps(arrival.body, ensure_ascii=False))
        finally:
            mailbox.controller.stop()
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
