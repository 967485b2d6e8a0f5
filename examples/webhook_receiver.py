#!/usr/bin/env python3
"""A dvk webhook receiver that checks every delivery before trusting it (Python 3, stdlib only).

    DVK_WEBHOOK_SECRET=whsec_... python3 examples/webhook_receiver.py 9000

It refuses (401) a signature that does not verify (a tampered body or id), a timestamp more than
five minutes off (a replay of an old capture), and answers a message id it has already handled
with 204 without handling it twice (dvk retries until it gets a 2xx, so the same id may come
again).
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

SECRET = base64.b64decode(os.environ["DVK_WEBHOOK_SECRET"].removeprefix("whsec_"))
TOLERANCE_SECS = 300
seen = set()  # message ids handled; keep them in a database in production


def verified(msg_id: str, timestamp: str, body: bytes, signatures: str) -> bool:
    try:
        if abs(time.time() - int(timestamp)) > TOLERANCE_SECS:
            return False
    except ValueError:
        return False
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(SECRET, signed, hashlib.sha256).digest()).decode()
    # The header may carry several space-separated signatures (`v1,<base64>`) during a key change.
    return any(
        hmac.compare_digest(expected, sig.split(",", 1)[1])
        for sig in signatures.split()
        if sig.startswith("v1,")
    )


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        msg_id = self.headers.get("webhook-id", "")
        if not verified(msg_id, self.headers.get("webhook-timestamp", ""), body,
                        self.headers.get("webhook-signature", "")):
            self.send_response(401)
            self.end_headers()
            print("refused: signature or timestamp does not verify", flush=True)
            return
        if msg_id not in seen:
            seen.add(msg_id)
            event = json.loads(body)
            print(f"{event['type']} {event['data']['resource_type']} {event['data']['id']}", flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    HTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 9000), Receiver).serve_forever()
