#!/usr/bin/env python3
"""After scripts/fuzz: nothing was appended for a rejected request, and no answer was a 5xx.

Reads the answers that scripts/lib/fuzz_hooks.py recorded (one JSON line per request) and every
commit of the fuzzed prefix's streams, straight from JetStream over the NATS protocol (a few lines
of it, so that no client library is needed), then checks:

- no answer had a 5xx status;
- every commit of every stream is paid for by an accepted (2xx) command: per stream, the commits
  are at most the 2xx answers to command-svc's POST requests. Commits of only `HoldExpired` facts are free: a
  writer records due expiries in the commit of whatever it decides next (docs/DECISIONS.md).

With --delete it deletes the prefix's streams afterwards (pass or fail).

Usage: fuzz_audit.py --nats nats://127.0.0.1:14222 --prefix fuzzab12 --record answers.jsonl [--delete]
"""

import argparse
import collections
import json
import os
import socket
import sys
from urllib.parse import urlparse

CONTEXTS = ("CATALOG", "INVENTORY", "ORDERS", "PAYMENTS")
# Deleted afterwards, not audited: timers, and the waiting rooms' queue (its admitters append facts
# of their own, paid for by no request).
EXTRA_STREAMS = ("TIMERS", "QUEUE")


class Nats:
    """Just enough of the NATS client protocol for JetStream API requests."""

    INBOX = "_INBOX.tvfuzzaudit"

    def __init__(self, url):
        parsed = urlparse(url)
        self.sock = socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 4222), timeout=10)
        self.buffer = b""
        info = self._line()
        if not info.startswith(b"INFO"):
            raise RuntimeError(f"not a NATS server: {info[:80]!r}")
        connect = {"verbose": False, "pedantic": False, "headers": True, "no_responders": True, "protocol": 1}
        if parsed.username:
            connect.update(user=parsed.username, **{"pass": parsed.password or ""})
        elif os.environ.get("TV_NATS_USER") and os.environ.get("TV_NATS_PASSWORD_FILE"):
            # The user scripts/lib/infra.sh exports (admin), as tv_nats reads it.
            with open(os.environ["TV_NATS_PASSWORD_FILE"]) as secret:
                connect.update(user=os.environ["TV_NATS_USER"], **{"pass": secret.read().strip()})
        self.sock.sendall(f"CONNECT {json.dumps(connect)}\r\nSUB {self.INBOX} 1\r\n".encode())

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise RuntimeError("the NATS server closed the connection")
        self.buffer += chunk

    def _line(self):
        while b"\r\n" not in self.buffer:
            self._fill()
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def _bytes(self, n):
        while len(self.buffer) < n + 2:
            self._fill()
        data, self.buffer = self.buffer[:n], self.buffer[n + 2 :]
        return data

    def request(self, subject, payload=b""):
        """Returns (status line of the headers or None, body)."""
        self.sock.sendall(f"PUB {subject} {self.INBOX} {len(payload)}\r\n".encode() + payload + b"\r\n")
        while True:
            line = self._line()
            if line.startswith(b"PING"):
                self.sock.sendall(b"PONG\r\n")
            elif line.startswith(b"MSG "):
                return None, self._bytes(int(line.split()[-1]))
            elif line.startswith(b"HMSG "):
                parts = line.split()
                header_len, total = int(parts[-2]), int(parts[-1])
                data = self._bytes(total)
                headers = data[:header_len].decode(errors="replace")
                return headers.split("\r\n", 1)[0], data[header_len:]
            elif line.startswith(b"-ERR"):
                raise RuntimeError(line.decode(errors="replace"))
            # +OK, PONG and INFO updates need no answer.

    def api(self, subject, body=None):
        status, payload = self.request(subject, json.dumps(body).encode() if body is not None else b"")
        if status and (" 503" in status or " 404" in status):
            return None
        return json.loads(payload)


def stream_name(prefix, context):
    return f"{prefix.upper().replace('-', '_')}_{context}"


def commits(nats, name):
    """Yields (sequence, [fact types]) for every message of stream `name`."""
    info = nats.api(f"$JS.API.STREAM.INFO.{name}")
    if info is None or "error" in info:
        return
    state = info["state"]
    if state.get("messages", 0) == 0:
        return
    for sequence in range(state["first_seq"], state["last_seq"] + 1):
        status, payload = nats.request(f"$JS.API.DIRECT.GET.{name}", json.dumps({"seq": sequence}).encode())
        if status is None or status.strip() != "NATS/1.0":
            continue  # "NATS/1.0 404 Message Not Found": a deleted sequence
        try:
            events = json.loads(payload).get("events", [])
            kinds = [event.get("type", "?") for event in events]
        except (ValueError, AttributeError):
            kinds = ["<not a commit>"]
        yield sequence, kinds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nats", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--record", required=True)
    parser.add_argument("--delete", action="store_true")
    parser.add_argument(
        "--seeded",
        action="append",
        default=[],
        metavar="CONTEXT=N",
        help="commits appended by the script's own setup, not by a fuzzed request",
    )
    args = parser.parse_args()

    answers = collections.Counter()
    server_errors = []
    accepted_posts = 0
    try:
        with open(args.record, encoding="utf-8") as record:
            for line in record:
                answer = json.loads(line)
                answers[(answer["operation"], answer["status"])] += 1
                if answer["status"] >= 500:
                    server_errors.append(answer)
                # Only command-svc appends to the audited streams.
                from_commands = answer.get("service", "command-svc") == "command-svc"
                if from_commands and answer["operation"].startswith("POST ") and 200 <= answer["status"] < 300:
                    accepted_posts += 1
    except FileNotFoundError:
        print(f"fuzz audit: no answers were recorded in {args.record}", file=sys.stderr)
        return 1

    seeded = {}
    for item in args.seeded:
        context, _, count = item.partition("=")
        seeded[context.upper()] = int(count)

    failures = []
    if server_errors:
        failures.append(f"{len(server_errors)} answers were 5xx, e.g. {server_errors[0]}")

    nats = Nats(args.nats)
    try:
        summary = []
        for context in CONTEXTS:
            name = stream_name(args.prefix, context)
            paid = free = 0
            for sequence, kinds in commits(nats, name):
                if kinds and all(kind == "HoldExpired" for kind in kinds):
                    free += 1
                else:
                    paid += 1
            setup = seeded.get(context, 0)
            if paid < setup:
                failures.append(f"{name} holds {paid} commits, fewer than the {setup} of the setup")
            paid -= setup
            summary.append(
                f"{name}: {paid} commits"
                + (f" (+{setup} of the setup)" if setup else "")
                + (f" (+{free} expiry-only)" if free else "")
            )
            if paid > accepted_posts:
                failures.append(
                    f"{name} holds {paid} commits but only {accepted_posts} POST requests were "
                    f"accepted: a rejected request appended something"
                )
        total = sum(answers.values())
        by_status = collections.Counter()
        for (_, status), count in answers.items():
            by_status[status // 100 * 100] += count
        print(
            f"fuzz audit: {total} answers ("
            + ", ".join(f"{count} {status // 100}xx" for status, count in sorted(by_status.items()))
            + f"), {accepted_posts} accepted POSTs; " + "; ".join(summary)
        )
        for (operation, status), count in sorted(answers.items()):
            print(f"    {operation:45} {status}  x{count}")
    finally:
        if args.delete:
            for name in [stream_name(args.prefix, c) for c in CONTEXTS + EXTRA_STREAMS] + [
                f"OBJ_{stream_name(args.prefix, 'SNAPSHOTS')}",
                f"KV_{stream_name(args.prefix, 'LEASES')}",
            ]:
                try:
                    nats.api(f"$JS.API.STREAM.DELETE.{name}")
                except Exception as error:  # best effort: a leftover costs disk, not correctness
                    print(f"fuzz audit: could not delete {name}: {error}", file=sys.stderr)

    for failure in failures:
        print(f"fuzz audit: FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
