#!/usr/bin/env python3
"""The scenarios of bench/cluster, and its webhook receiver (Python 3, standard library only).

    python3 bench/cluster.py receive --port 18190 --out received.jsonl [--secret-file F]
    python3 bench/cluster.py run --work DIR --bin DVK ... [--short]

`run` expects what bench/cluster sets up: the PostgreSQL clusters, HAProxy, the receiver and the
DVK_* environment. It starts the dvk instances itself (their pids go to DIR/pids, which
bench/cluster's exit trap kills), runs the scenarios, prints a table, and exits 1 if a target
is missed.

The load: client threads, each with one keep-alive connection through HAProxy, mixing list
pages, a report, registrations (POST /models with a fresh Idempotency-Key) and lifecycle actions
(submit, return, submit, accept, each with If-Match) on models the thread registered itself, so
no two threads race for one model. A write whose answer is a connection error, 502, 503 or 504
is sent again with the same Idempotency-Key (and If-Match): that is what the key is for. Every
attempt is recorded with its status and latency; every acknowledged write with the version and
status it acknowledged, which are then looked for in the database.
"""
import argparse
import base64
import collections
import faulthandler
import hashlib
import hmac
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EVENTS = ["campaign.launched", "model.registered", "model.recognized", "model.not_recognized",
          "commendation.issued", "commendation.revoked", "decision.issued", "decision.revoked",
          "unit.reorganized"]
# The lifecycle each load thread walks its models through (README, "Models"): every action
# bumps the version; each submit queues a model.registered event, so a model has two events
# whose order the receiver must see.
PLAN = ["submit", "return", "submit", "accept"]
TRANSIENT = {0, 502, 503, 504}


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --------------------------------------------------------------------------------------------
# The webhook receiver
# --------------------------------------------------------------------------------------------

def receive(args):
    """Answers every delivery 204 (after --delay-ms) and appends one JSON line per arrival:
    arrival number and time, webhook-id, type, resource id, and whether the signature verified
    (null until the run has written the subscription's secret). It does not dedupe: the bench
    counts repeats."""
    lock = threading.Lock()
    out = open(args.out, "a", buffering=1)
    state = {"n": 0, "key": None}

    def signing_key():
        if state["key"] is None and args.secret_file and os.path.exists(args.secret_file):
            secret = open(args.secret_file).read().strip()
            if secret:
                state["key"] = base64.b64decode(secret.removeprefix("whsec_"))
        return state["key"]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            msg_id = self.headers.get("webhook-id", "")
            key = signing_key()
            valid = None
            if key is not None:
                signed = f"{msg_id}.{self.headers.get('webhook-timestamp', '')}.".encode() + body
                expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
                valid = any(hmac.compare_digest(expected, s.split(",", 1)[1])
                            for s in self.headers.get("webhook-signature", "").split() if s.startswith("v1,"))
            try:
                event = json.loads(body)
            except ValueError:
                event = {}
            data = event.get("data") or {}
            # The arrival number is taken under the lock, so it orders arrivals exactly.
            with lock:
                state["n"] += 1
                out.write(json.dumps({"n": state["n"], "t": time.time(), "id": msg_id, "type": event.get("type"),
                                      "resource": data.get("id"), "valid": valid}) + "\n")
            # A receiver that takes a moment (a database write of its own) keeps each sender step
            # busy for a while, so an instance killed mid-run is likely to hold claimed deliveries:
            # that is the takeover scenario 3 is about.
            time.sleep(args.delay_ms / 1000)
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


def read_received(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


# --------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------

class Response:
    def __init__(self, status, headers, body, started, ended, error=None):
        self.status, self.headers, self.body = status, headers, body
        self.started, self.ended, self.error = started, ended, error
        self.ms = (ended - started) * 1000

    @property
    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return {}

    @property
    def code(self):
        return self.json.get("code") if self.status >= 400 else None

    def kind(self):
        """What an attempt's outcome was, as the tables count it."""
        if self.status == 0:
            return "connection error"
        if self.status == 503 and "retry-after" in self.headers:
            return f"503 {self.code or ''} with Retry-After".replace("  ", " ")
        return f"{self.status} {self.code or ''}".strip()


class Client:
    """One keep-alive connection to one port; a connection error is an answer with status 0."""

    def __init__(self, port, token, timeout=30):
        self.port, self.token, self.timeout = port, token, timeout
        self.conn = None

    def connect(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            self.conn.connect()

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def call(self, method, path, body=None, headers=None):
        h = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        started = time.monotonic()
        try:
            self.connect()
            self.conn.request(method, path, data, h)
            r = self.conn.getresponse()
            raw = r.read()
            status, hdrs, error = r.status, {k.lower(): v for k, v in r.getheaders()}, None
            if r.will_close:
                self.close()
        except (OSError, http.client.HTTPException) as e:
            self.close()
            status, hdrs, raw, error = 0, {}, b"", f"{type(e).__name__}: {e}"
        return Response(status, hdrs, raw, started, time.monotonic(), error)


def percentile(values, p):
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


# --------------------------------------------------------------------------------------------
# The cluster: instances, HAProxy's view of them, PostgreSQL
# --------------------------------------------------------------------------------------------

class Cluster:
    def __init__(self, args):
        self.bin, self.work = args.bin, args.work
        self.ports = [int(p) for p in args.ports.split(",")]
        self.lb_port = args.lb_port
        self.procs = [None] * len(self.ports)
        self.pg_version = args.pg_version
        self.primary_name, primary_port = args.primary.split(":")
        self.standby_name, standby_port = args.standby.split(":")
        self.primary_port, self.standby_port = int(primary_port), int(standby_port)
        self.db_port = self.primary_port  # where the checks read; the standby after a failover

    def pidfile(self, i):
        return os.path.join(self.work, "pids", f"dvk{i + 1}.pid")

    def start(self, i):
        env = dict(os.environ, DVK_BIND=f"127.0.0.1:{self.ports[i]}")
        logf = open(os.path.join(self.work, f"dvk{i + 1}.log"), "ab")
        logf.write(f"---- started {time.strftime('%H:%M:%S')}\n".encode())
        logf.flush()
        self.procs[i] = subprocess.Popen([self.bin, "serve"], env=env, stdout=logf, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        logf.close()
        with open(self.pidfile(i), "w") as f:
            f.write(str(self.procs[i].pid))

    def stop(self, i, sig=signal.SIGTERM, timeout=60):
        """Signals instance i and waits for it to exit; returns the seconds that took."""
        p = self.procs[i]
        t0 = time.monotonic()
        if sig:
            p.send_signal(sig)
        p.wait(timeout=timeout)
        os.remove(self.pidfile(i))
        self.procs[i] = None
        return time.monotonic() - t0, p.returncode

    def stop_all(self):
        """SIGTERM to every instance at once (each drains), then waits for them all."""
        running = [i for i, p in enumerate(self.procs) if p is not None]
        for i in running:
            self.procs[i].send_signal(signal.SIGTERM)
        for i in running:
            self.stop(i, sig=0)

    def wait_ready(self, i, timeout=60):
        """Polls the instance's own /readyz until it answers 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.procs[i] is not None and self.procs[i].poll() is not None:
                raise SystemExit(f"dvk{i + 1} exited with {self.procs[i].returncode}; see dvk{i + 1}.log")
            r = Client(self.ports[i], "", timeout=2).call("GET", "/readyz")
            if r.status == 200:
                return
            time.sleep(0.05)
        raise SystemExit(f"dvk{i + 1} was not ready in {timeout} s")

    def lb_states(self):
        """HAProxy's status of each server (`UP`, `DOWN`, `UP 1/2`…), from its stats socket."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(os.path.join(self.work, "haproxy.sock"))
        s.sendall(b"show stat\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        s.close()
        lines = data.decode().splitlines()
        header = lines[0].lstrip("# ").split(",")
        rows = [dict(zip(header, line.split(","))) for line in lines[1:] if line]
        return {r["svname"]: r["status"] for r in rows if r["pxname"] == "dvk" and r["svname"].startswith("dvk")}

    def wait_lb_up(self, i, timeout=60):
        name = f"dvk{i + 1}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.lb_states().get(name) == "UP":
                return
            time.sleep(0.05)
        raise SystemExit(f"HAProxy did not see {name} up in {timeout} s: {self.lb_states()}")

    def sql(self, query, port=None):
        """Rows of a query, as lists of strings, read as dvk on the current primary."""
        out = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(port or self.db_port), "-U", "dvk", "-d", "dvk",
             "-X", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", query],
            env=dict(os.environ, PGPASSWORD="dvk"), capture_output=True, text=True, check=True, timeout=120).stdout
        return [line.split("\t") for line in out.splitlines()]

    def sql_one(self, query, port=None):
        return self.sql(query, port)[0][0]

    def pg_ctl(self, *args):
        subprocess.run(["pg_ctlcluster", self.pg_version, *args], check=True, capture_output=True)


class LbWatch(threading.Thread):
    """Polls HAProxy's view of the instances every 50 ms and keeps each change, with its time."""

    def __init__(self, cluster):
        super().__init__(daemon=True)
        self.cluster, self.changes, self.done = cluster, [], threading.Event()

    def run(self):
        last = None
        while not self.done.is_set():
            states = tuple(sorted(self.cluster.lb_states().items()))
            if states != last:
                self.changes.append((time.monotonic(), states))
                last = states
            time.sleep(0.05)

    def up(self, states):
        return sum(1 for _, state in states if state.startswith("UP"))


# --------------------------------------------------------------------------------------------
# The load
# --------------------------------------------------------------------------------------------

class Context:
    """What every scenario shares: the token, the units, the campaign, the subscription."""
    token = viewer_token = campaign_id = webhook_id = root_id = None
    provinces = []
    run_tag = uuid.uuid4().hex[:8]


class Worker(threading.Thread):
    """A client thread: one connection through HAProxy, its own models, its own records."""

    def __init__(self, ctx, port, index, tag, weights, stop, retry_secs):
        super().__init__(daemon=True)
        self.ctx, self.index, self.tag, self.stop_event = ctx, index, tag, stop
        self.client = Client(port, ctx.token)
        self.weights = weights
        self.retry_secs = retry_secs
        self.unit_id = ctx.provinces[index % len(ctx.provinces)]
        self.rng = random.Random(f"{ctx.run_tag}-{tag}-{index}")
        self.attempts = []  # (op, started, ended, status, kind, ms)
        self.models = {}  # id -> {"version", "status", "step", "title", "uncertain"}
        self.active = []  # ids with actions left to do
        self.unanswered_creates = []  # titles of registrations given up on: they may exist
        self.created = 0
        self.failures = []  # (op, answer) of every attempt that was not the expected answer
        self.given_up = []  # (op, Idempotency-Key, last outcome) of requests given up on

    def run(self):
        ops = list(self.weights)
        while not self.stop_event.is_set():
            op = self.rng.choices(ops, [self.weights[o] for o in ops])[0]
            if op == "advance" and not self.active:
                op = "create"
            getattr(self, op)()
        self.client.close()

    def note(self, op, r, expected):
        kind = "ok" if r.status == expected else r.kind()
        self.attempts.append((op, r.started, r.ended, r.status, kind, r.ms))
        if kind != "ok":
            self.failures.append((op, r))

    def send(self, op, method, path, expected, body=None, headers=None):
        """One request, sent again while the answer is transient (a connection error, 502-504,
        or, for a keyed write, 409 idempotency_key_in_use: the first attempt still runs).
        Returns the answer when it is the expected status, else None."""
        give_up = time.monotonic() + self.retry_secs
        in_use_since = None
        while True:
            r = self.client.call(method, path, body, headers)
            self.note(op, r, expected)
            if r.status == expected:
                return r
            if r.status == 409 and r.code == "idempotency_key_in_use":
                # Normally gone in milliseconds; a key whose request died with its instance is
                # held until its lease ends (15 s; Retry-After says how long): give up after 30 s.
                in_use_since = in_use_since or time.monotonic()
                if time.monotonic() - in_use_since > 30:
                    return self.give_up(op, headers, r)
            elif r.status == 409 and r.code == "idempotency_key_answer_lost" and "location" in r.headers:
                # The write committed but its answer was lost with its instance: read the result
                # where the server says it is, as a client would.
                got = self.client.call("GET", r.headers["location"], None, None)
                self.note(op, got, 200)
                return got if got.status == 200 else self.give_up(op, headers, r)
            elif r.status not in TRANSIENT:
                return self.give_up(op, headers, r)
            if time.monotonic() > give_up:
                return self.give_up(op, headers, r)
            wait = 0.2
            if "retry-after" in r.headers:
                try:
                    wait = min(float(r.headers["retry-after"]), 2.0)
                except ValueError:
                    pass
            time.sleep(wait)

    def give_up(self, op, headers, r):
        """Notes a request left without its expected answer (and its key, to look up later)."""
        self.given_up.append((op, (headers or {}).get("Idempotency-Key"), r.kind()))
        return None

    def list(self):
        self.send("list", "GET", "/api/v1/models?limit=20", 200)

    def report(self):
        self.send("report", "GET", "/api/v1/reports/models?group_by=field,level", 200)

    def create(self):
        self.created += 1
        title = f"{self.tag} w{self.index} #{self.created}"
        body = {"campaign_id": self.ctx.campaign_id, "unit_id": self.unit_id, "title": title,
                "subject": "collective", "kind": "by_field", "field": "economy",
                "registered_level": "province", "year": 2026}
        r = self.send("create", "POST", "/api/v1/models", 201, body, {"Idempotency-Key": str(uuid.uuid4())})
        if r is None:
            self.unanswered_creates.append(title)
            return
        m = r.json
        self.models[m["id"]] = {"version": m["version"], "status": m["status"], "step": 0, "title": title,
                                "uncertain": False}
        self.active.append(m["id"])

    def advance(self):
        model_id = self.rng.choice(self.active)
        m = self.models[model_id]
        action = PLAN[m["step"]]
        body = {"comment": "Bổ sung số liệu hộ dân tham gia"} if action == "return" else {}
        headers = {"If-Match": f'"{m["version"]}"', "Idempotency-Key": str(uuid.uuid4())}
        r = self.send(action, "POST", f"/api/v1/models/{model_id}/{action}", 200, body, headers)
        if r is None:
            # The action may or may not have been applied: the model is checked with that in mind.
            m["uncertain"] = True
            self.active.remove(model_id)
            return
        m["version"], m["status"] = r.json["version"], r.json["status"]
        m["step"] += 1
        if m["step"] == len(PLAN):
            self.active.remove(model_id)


MIXED = {"list": 3, "report": 1, "create": 2, "advance": 4}
WRITES = {"create": 3, "advance": 7}


class Load:
    def __init__(self, ctx, port, tag, weights, threads=8, retry_secs=30):
        self.stop_event = threading.Event()
        self.workers = [Worker(ctx, port, i, tag, weights, self.stop_event, retry_secs) for i in range(threads)]

    def __enter__(self):
        self.t0 = time.monotonic()
        for w in self.workers:
            w.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        for w in self.workers:
            w.join()

    @property
    def attempts(self):
        return [a for w in self.workers for a in w.attempts]

    def first_ack_after(self, t):
        """The earliest acknowledgement of a write whose request started after t."""
        ends = [a[2] for w in self.workers for a in list(w.attempts)
                if a[0] not in ("list", "report") and a[4] == "ok" and a[1] > t]
        return min(ends) if ends else None


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------

def check_writes(cluster, ctx, tag, workers, seq0):
    """Every acknowledged write is in the database in the state it was acknowledged with; no
    registration is there twice; every model's audit trail, events and kept counts are whole."""
    started = time.monotonic()
    rows = cluster.sql(f"SELECT id, version, status, title FROM models WHERE title LIKE '{tag} %'")
    in_db = {r[0]: (int(r[1]), r[2], r[3]) for r in rows}
    titles = collections.Counter(r[3] for r in rows)
    lost, unexplained, uncertain, acked = [], [], 0, 0
    known_titles = set()
    for w in workers:
        for model_id, m in w.models.items():
            acked += 1
            known_titles.add(m["title"])
            uncertain += m["uncertain"]
            got = in_db.get(model_id)
            if got is None or got[0] < m["version"] or (got[0] == m["version"] and got[1] != m["status"]):
                lost.append((model_id, m["version"], m["status"], got))
            elif got[0] > m["version"] and not m["uncertain"]:
                # A change the client was never told of and did not leave unanswered.
                unexplained.append((model_id, m["version"], m["status"], got))
    unanswered = sum(len(w.unanswered_creates) for w in workers)
    # A registration given up on may have been made; any other unknown model was invented.
    strangers = [t for t in titles if t not in known_titles]
    unanswered_titles = {t for w in workers for t in w.unanswered_creates}
    invented = [t for t in strangers if t not in unanswered_titles]
    twice = {t: n for t, n in titles.items() if n > 1}

    # Per model: its audit rows (one per write: a model at version v has v of them, the create and
    # each action), its submits, and its model.registered events (one per submit). Aggregates
    # joined by hash, not a subquery per model: a promoted standby may plan with stale statistics.
    per_model = cluster.sql(
        f"SELECT m.version, coalesce(a.n, 0), coalesce(a.submits, 0), coalesce(e.n, 0) FROM models m "
        f"LEFT JOIN (SELECT resource_id, count(*) AS n, count(*) FILTER (WHERE action = 'model.submit') AS submits "
        f"FROM audit_events WHERE resource_type = 'model' GROUP BY resource_id) a ON a.resource_id = m.id "
        f"LEFT JOIN (SELECT resource_id, count(*) AS n FROM webhook_events WHERE event_type = 'model.registered' "
        f"GROUP BY resource_id) e ON e.resource_id = m.id WHERE m.title LIKE '{tag} %'")
    audit_gaps = sum(1 for version, audits, _, _ in per_model if int(version) != int(audits))
    event_gaps = sum(1 for _, _, submits, events in per_model if int(submits) != int(events))
    # Every event of the scenario has exactly one delivery to our subscription (it hears all of VN).
    delivery_gaps = int(cluster.sql_one(
        f"SELECT count(*) FROM webhook_events e LEFT JOIN (SELECT event_seq, count(*) AS n FROM webhook_deliveries "
        f"WHERE webhook_id = '{ctx.webhook_id}' GROUP BY event_seq) d ON d.event_seq = e.seq "
        f"WHERE e.seq > {seq0} AND coalesce(d.n, 0) <> 1"))
    # The report counts kept with each write agree with the models (the whole campaign, at the root),
    # read as reports read them: the counts and the changes not yet folded in.
    kept = ("(SELECT scope_id, campaign_id, status, n FROM model_counts "
            "UNION ALL SELECT scope_id, campaign_id, status, n FROM model_count_deltas) k")
    counts_differ = int(cluster.sql_one(
        f"SELECT count(*) FROM (SELECT status, count(*) AS n FROM models WHERE campaign_id = '{ctx.campaign_id}' "
        f"GROUP BY status) m FULL JOIN (SELECT status, sum(n) AS n FROM {kept} WHERE scope_id = '{ctx.root_id}' "
        f"AND campaign_id = '{ctx.campaign_id}' GROUP BY status) c USING (status) "
        f"WHERE m.n IS DISTINCT FROM c.n AND coalesce(m.n, 0) + coalesce(c.n, 0) > 0"))
    # What became of the keys of writes given up on: a key left 'pending' by a request that died
    # answers a retry 409 idempotency_key_in_use until its lease (15 s) ends.
    given_up = [g for w in workers for g in w.given_up]
    keys = [key for _, key, _ in given_up if key]
    if keys:
        states = dict((k, st) for k, st in cluster.sql(
            "SELECT idem_key, state || ' since ' || to_char(created_at, 'HH24:MI:SS') FROM idempotency_keys "
            "WHERE idem_key IN (" + ",".join(f"'{k}'" for k in keys) + ")"))
        for op, key, last in given_up:
            log(f"  given up: {op} with key {key} (last answer {last}); the key is "
                f"{states.get(key, 'not stored') if key else '-'}")
    log(f"  (write checks took {time.monotonic() - started:.1f} s)")
    return {"acked_models": acked, "lost": lost, "unexplained": unexplained, "uncertain": uncertain,
            "unanswered_creates": unanswered, "unanswered_found": len(strangers) - len(invented),
            "invented": invented, "twice": twice, "audit_gaps": audit_gaps, "event_gaps": event_gaps,
            "delivery_gaps": delivery_gaps, "counts_differ": counts_differ}


def max_seq(cluster):
    return int(cluster.sql_one("SELECT coalesce(max(seq), 0) FROM webhook_events"))


def check_webhooks(cluster, ctx, received_path, seq_from, wait_secs=90):
    """Waits until our subscription has nothing pending (a lease held by a dead instance runs
    out first), then holds the receiver's log against the outbox: every event received, how many
    more than once, and whether each resource's events first arrived in outbox order."""
    started = time.monotonic()
    deadline = started + wait_secs
    pending_q = f"SELECT count(*) FROM webhook_deliveries WHERE webhook_id = '{ctx.webhook_id}' AND status = 'pending'"
    while (pending := int(cluster.sql_one(pending_q))) and time.monotonic() < deadline:
        time.sleep(0.25)
    waited = time.monotonic() - started
    failed = int(cluster.sql_one(f"SELECT count(*) FROM webhook_deliveries d JOIN webhook_events e ON e.seq = d.event_seq "
                                 f"WHERE d.webhook_id = '{ctx.webhook_id}' AND d.status = 'failed' AND e.seq > {seq_from}"))
    events = cluster.sql(f"SELECT e.seq, e.id, e.resource_id FROM webhook_events e WHERE e.seq > {seq_from} ORDER BY e.seq")
    event_ids = {e[1] for e in events}
    arrivals = [a for a in read_received(received_path) if a["id"] in event_ids]
    times = collections.Counter(a["id"] for a in arrivals)
    first = {}
    for a in sorted(arrivals, key=lambda a: a["n"]):
        first.setdefault(a["id"], a["n"])
    lost = [e[1] for e in events if e[1] not in times]
    by_resource = collections.defaultdict(list)
    for seq, event_id, resource in events:
        if event_id in first:
            by_resource[resource].append((int(seq), first[event_id]))
    out_of_order = [r for r, evs in by_resource.items()
                    if [s for s, _ in sorted(evs)] != [s for s, _ in sorted(evs, key=lambda e: e[1])]]
    return {"events": len(events), "lost": len(lost), "duplicated_events": sum(1 for n in times.values() if n > 1),
            "extra_deliveries": sum(n - 1 for n in times.values()), "out_of_order": len(out_of_order),
            "bad_signatures": sum(1 for a in arrivals if a["valid"] is False),
            "pending_left": pending, "failed": failed, "waited": waited}


def summarise(attempts, allowed):
    """Counts attempts by outcome; errors are the outcomes `allowed(kind)` does not accept."""
    kinds = collections.Counter(a[4] for a in attempts)
    errors = sum(n for k, n in kinds.items() if not allowed(k))
    latencies = [a[5] for a in attempts]
    return kinds, errors, percentile(latencies, 50), percentile(latencies, 99)


def only_ok(kind):
    return kind == "ok"


def log_failures(workers, t0, per_kind=3):
    """A few examples of each outcome that was not the expected answer: evidence for the report."""
    shown = collections.Counter()
    for op, r in sorted((f for w in workers for f in w.failures), key=lambda f: f[1].started):
        kind = r.kind()
        if shown[kind] >= per_kind:
            continue
        shown[kind] += 1
        detail = r.error or r.body[:200].decode(errors="replace")
        log(f"    e.g. +{r.started - t0:.2f} s {op}: {kind} in {r.ms:.0f} ms; "
            f"request id {r.headers.get('x-request-id', '-')}; {detail}")


def lb_down_reasons(work, offset):
    """Why HAProxy took instances out of rotation, from its log past `offset`: a draining
    instance shows as `Layer7 wrong status 503`; one that stopped accepting without draining
    first as `Layer4 connection problem`."""
    with open(os.path.join(work, "haproxy.log"), errors="replace") as f:
        f.seek(offset)
        lines = [line for line in f if line.startswith("Server dvk/") and " is DOWN, reason: " in line]
    reasons = collections.Counter()
    for line in lines:
        reason = line.split(" is DOWN, reason: ", 1)[1].split(". ", 1)[0]
        reasons[reason.split(", check duration")[0]] += 1
    return reasons


def log_size(work, name):
    path = os.path.join(work, name)
    return os.path.getsize(path) if os.path.exists(path) else 0


def log_instance_lines(work, count):
    """What the instances logged (RUST_LOG=warn): each kind of line once, with its count."""
    for i in range(count):
        kinds, first = collections.Counter(), {}
        with open(os.path.join(work, f"dvk{i + 1}.log"), errors="replace") as f:
            for line in f:
                # `[2026-11-30T10:00:06Z WARN  dvk::http::idempotency] message`: continuation
                # lines (a multi-line database error) belong to the line before.
                if not line.startswith("[") or "] " not in line:
                    continue
                head, message = line[1:].split("] ", 1)
                key = (" ".join(head.split()[1:]), message[:50])
                kinds[key] += 1
                first.setdefault(key, line.rstrip())
        if kinds:
            log(f"dvk{i + 1} logged:")
            for key, n in kinds.most_common():
                log(f"  ×{n} {first[key][:260]}")


def describe_kinds(kinds):
    return ", ".join(f"{k} ×{n}" for k, n in sorted(kinds.items()) if k != "ok") or "none"


def log_writes(w):
    log(f"  writes: {w['acked_models']} models acknowledged, lost {len(w['lost'])}, changed unannounced "
        f"{len(w['unexplained'])}, left unanswered {w['uncertain']} actions and {w['unanswered_creates']} "
        f"registrations ({w['unanswered_found']} of those found), invented {len(w['invented'])}, "
        f"registered twice {len(w['twice'])}")
    log(f"  whole: audit gaps {w['audit_gaps']}, event gaps {w['event_gaps']}, delivery gaps "
        f"{w['delivery_gaps']}, kept counts differing {w['counts_differ']}")
    for item in w["lost"][:10]:
        log(f"  LOST {item}")
    for item in w["unexplained"][:10]:
        log(f"  UNANNOUNCED {item}")
    for t, n in list(w["twice"].items())[:10]:
        log(f"  TWICE {t!r} ×{n}")


def log_hooks(h):
    log(f"  webhooks: {h['events']} events, lost {h['lost']}, received twice or more {h['duplicated_events']} "
        f"({h['extra_deliveries']} extra), out of order {h['out_of_order']}, bad signatures {h['bad_signatures']}, "
        f"failed {h['failed']}, pending left {h['pending_left']} (outbox empty after {h['waited']:.1f} s)")


def whole(w):
    """Problems of the write checks that no scenario allows."""
    return (len(w["lost"]) + len(w["unexplained"]) + len(w["invented"]) + len(w["twice"]) + w["audit_gaps"]
            + w["event_gaps"] + w["delivery_gaps"] + w["counts_differ"])


def hooks_whole(h):
    return h["lost"] + h["out_of_order"] + h["bad_signatures"] + h["failed"] + h["pending_left"]


# --------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------

def checked(cluster, ctx, args, load, tag, seq0):
    """What a scenario's load left in the database: its writes and its webhook deliveries, logged."""
    log_failures(load.workers, load.t0)
    w = check_writes(cluster, ctx, tag, load.workers, seq0)
    h = check_webhooks(cluster, ctx, args.received, seq0)
    log_writes(w)
    log_hooks(h)
    return w, h


def scenario_rolling(cluster, ctx, args):
    """1. Rolling restart under mixed load: SIGTERM each instance in turn, wait for it to exit,
    start it again, wait until HAProxy has it back. Target: no error at all, no duplicate."""
    tag = f"{ctx.run_tag} s1"
    seq0 = max_seq(cluster)
    lb_log = log_size(args.work, "haproxy.log")
    lead = 3 if args.short else 10
    with Load(ctx, args.lb_port, tag, MIXED) as load:
        time.sleep(lead)
        for i in range(len(cluster.ports)):
            at = time.monotonic() - load.t0
            took, rc = cluster.stop(i, signal.SIGTERM)
            log(f"  +{at:.2f} s dvk{i + 1}: SIGTERM → exited {rc} after {took:.1f} s "
                f"(DVK_DRAIN_SECS={os.environ.get('DVK_DRAIN_SECS')})")
            t0 = time.monotonic()
            cluster.start(i)
            cluster.wait_ready(i)
            cluster.wait_lb_up(i)
            log(f"  +{time.monotonic() - load.t0:.2f} s dvk{i + 1}: started, ready and UP in HAProxy "
                f"after {time.monotonic() - t0:.1f} s")
            time.sleep(2)  # serving in rotation a while before the next one goes
        time.sleep(lead)
    kinds, errors, p50, p99 = summarise(load.attempts, only_ok)
    log(f"  requests {sum(kinds.values())}: not as expected: {describe_kinds(kinds)}")
    log_failures(load.workers, load.t0)
    reasons = lb_down_reasons(args.work, lb_log)
    log(f"  HAProxy took instances out: {describe_kinds(reasons)}")
    drained = sum(n for reason, n in reasons.items() if "code: 503" in reason)
    w = check_writes(cluster, ctx, tag, load.workers, seq0)
    h = check_webhooks(cluster, ctx, args.received, seq0)
    log_writes(w)
    log_hooks(h)
    lost = len(w["lost"])
    met = errors == 0 and whole(w) == 0 and w["uncertain"] + w["unanswered_creates"] == 0 \
        and hooks_whole(h) == 0 and h["extra_deliveries"] == 0
    return {"scenario": "1 rolling restart", "requests": sum(kinds.values()), "errors": errors, "p50": p50, "p99": p99,
            "lost": lost, "dups": h["extra_deliveries"],
            "other": f"{w['acked_models']} models, {h['events']} events, {whole(w)} half-written, "
                     f"{drained} of {sum(reasons.values())} taken out by /readyz 503",
            "target": "0 errors, 0 lost, 0 dup", "met": met}


def race(port_a, port_b, token, method, path, body, headers):
    """Sends the same request to two instances at the same moment: both connect first, then
    meet at a barrier and send."""
    barrier = threading.Barrier(2)
    answers = [None, None]

    def one(i, port):
        c = Client(port, token)
        c.connect()
        barrier.wait()
        answers[i] = c.call(method, path, body, headers)
        c.close()

    threads = [threading.Thread(target=one, args=(i, p)) for i, p in enumerate((port_a, port_b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def settle(port, token, method, path, body, headers, answer, expected, attempts):
    """An answer 409 idempotency_key_in_use is retried (as a client would) until it is the
    replay of the first; returns the final answer."""
    c = Client(port, token)
    for _ in range(50):
        if not (answer.status == 409 and answer.code == "idempotency_key_in_use"):
            break
        time.sleep(0.05)
        answer = c.call(method, path, body, headers)
        attempts.append(("retry", answer.started, answer.ended, answer.status,
                         "ok" if answer.status == expected else answer.kind(), answer.ms))
    c.close()
    return answer


def scenario_idempotency(cluster, ctx, args):
    """2. The same POST (same Idempotency-Key, same body) to two instances at once, 50 times for
    a registration and 50 times for its submit. Target: one record (one transition) per key,
    and the two answers agree: the same status and resource, one of them a replay; a 409
    idempotency_key_in_use (README: "a retry while the first is still running") is retried
    and must then replay the same answer."""
    tag = f"{ctx.run_tag} s2"
    seq0 = max_seq(cluster)
    a, b = cluster.ports[0], cluster.ports[1]
    attempts = []
    outcomes = collections.Counter()
    disagreements = []

    def one_key(what, path, body, headers, expected):
        answers = race(a, b, ctx.token, "POST", path, body, headers)
        for r in answers:
            attempts.append((what, r.started, r.ended, r.status, "ok" if r.status == expected else r.kind(), r.ms))
        shape = "+".join(sorted(
            ("replay" if r.headers.get("idempotent-replayed") == "true" else "ran") if r.status == expected
            else r.kind() for r in answers))
        outcomes[f"{what}: {shape}"] += 1
        final = [settle(p, ctx.token, "POST", path, body, headers, r, expected, attempts)
                 for p, r in zip((a, b), answers)]
        ids = {(r.status, r.json.get("id"), r.json.get("version")) for r in final}
        ran = sum(1 for r in final if r.status == expected and r.headers.get("idempotent-replayed") != "true")
        if len(ids) != 1 or ran != 1 or final[0].status != expected:
            disagreements.append((what, [(r.status, r.code, r.json.get("id"), r.headers.get("idempotent-replayed"))
                                         for r in final]))
        return final[0]

    for k in range(args.keys):
        body = {"campaign_id": ctx.campaign_id, "unit_id": ctx.provinces[k % len(ctx.provinces)],
                "title": f"{tag} #{k}", "subject": "collective", "kind": "comprehensive",
                "registered_level": "province", "year": 2026}
        created = one_key("register", "/api/v1/models", body, {"Idempotency-Key": str(uuid.uuid4())}, 201)
        if created.status != 201:
            continue
        one_key("submit", f"/api/v1/models/{created.json['id']}/submit", {},
                {"Idempotency-Key": str(uuid.uuid4()), "If-Match": '"1"'}, 200)

    # Exactly one model per key, each submitted exactly once (version 2, one submit, one event).
    rows = cluster.sql(
        f"SELECT m.title, m.version, m.status, coalesce(a.n, 0), coalesce(e.n, 0) FROM models m "
        f"LEFT JOIN (SELECT resource_id, count(*) AS n FROM audit_events WHERE action = 'model.submit' "
        f"GROUP BY resource_id) a ON a.resource_id = m.id "
        f"LEFT JOIN (SELECT resource_id, count(*) AS n FROM webhook_events GROUP BY resource_id) e ON e.resource_id = m.id "
        f"WHERE m.title LIKE '{tag} %'")
    per_title = collections.Counter(r[0] for r in rows)
    written_twice = sum(1 for n in per_title.values() if n > 1)
    missing = args.keys - len(per_title)
    not_once = sum(1 for r in rows if (int(r[1]), r[2], int(r[3]), int(r[4])) != (2, "registered", 1, 1))
    h = check_webhooks(cluster, ctx, args.received, seq0)
    kinds, errors, p50, p99 = summarise(attempts, lambda k: k in ("ok", "409 idempotency_key_in_use"))
    for k, n in sorted(outcomes.items()):
        log(f"  {k}: {n}")
    for d in disagreements[:10]:
        log(f"  DISAGREE {d}")
    log(f"  records: {len(rows)} models for {args.keys} keys; written twice {written_twice}, missing {missing}, "
        f"not submitted exactly once {not_once}")
    log_hooks(h)
    in_use = kinds.get("409 idempotency_key_in_use", 0)
    met = (written_twice == 0 and missing == 0 and not_once == 0 and not disagreements and errors == 0
           and hooks_whole(h) == 0 and h["extra_deliveries"] == 0)
    return {"scenario": "2 idempotency A+B", "requests": sum(kinds.values()), "errors": errors + len(disagreements),
            "p50": p50, "p99": p99, "lost": missing, "dups": h["extra_deliveries"],
            "other": f"{2 * args.keys} keys: twice {written_twice}, disagree {len(disagreements)}, "
                     f"{in_use} answered 409 in use (then a replay)",
            "target": "1 record/key, answers agree", "met": met}


def scenario_kill9(cluster, ctx, args):
    """3. kill -9 of an instance during writes through HAProxy, then started again. Target:
    every acknowledged write in the database as acknowledged, nothing half-written, every event
    received, each resource's in order; events sent again after the lease is taken over are
    counted (delivery is at least once)."""
    tag = f"{ctx.run_tag} s3"
    seq0 = max_seq(cluster)
    victim = 1
    lead = 4 if args.short else 10
    with Load(ctx, args.lb_port, tag, WRITES) as load:
        time.sleep(lead)
        took, rc = cluster.stop(victim, signal.SIGKILL)
        t_kill = time.monotonic()
        log(f"  +{t_kill - load.t0:.2f} s dvk{victim + 1}: kill -9 → exited ({rc}) after {took:.2f} s")
        cluster.start(victim)
        cluster.wait_ready(victim)
        cluster.wait_lb_up(victim)
        log(f"  +{time.monotonic() - load.t0:.2f} s dvk{victim + 1}: started, ready and UP in HAProxy "
            f"after {time.monotonic() - t_kill:.1f} s")
        time.sleep(lead)
    kinds, errors, p50, p99 = summarise(load.attempts, only_ok)
    log(f"  requests {sum(kinds.values())}: not as expected: {describe_kinds(kinds)}")
    w, h = checked(cluster, ctx, args, load, tag, seq0)
    met = len(w["lost"]) == 0 and whole(w) == 0 and hooks_whole(h) == 0
    return {"scenario": "3 kill -9 in writes", "requests": sum(kinds.values()), "errors": errors, "p50": p50,
            "p99": p99, "lost": len(w["lost"]), "dups": h["extra_deliveries"],
            "other": f"{whole(w)} half-written, {h['lost']} events lost, {h['out_of_order']} out of order, "
                     f"{w['uncertain'] + w['unanswered_creates']} writes unanswered",
            "target": "0 lost, 0 half, events whole", "met": met}


def scenario_standby_reads(cluster, ctx, args):
    """5. Reads from the standby (the full run's instances have DVK_DATABASE_READ_URL): 200 times,
    a model registered through HAProxy is looked for at once through HAProxy, by a viewer who never
    writes and by its writer (whose read mostly lands on another instance). Target: every lookup
    finds the model, since the primary commits with synchronous_commit = remote_apply and the
    standby has applied each acknowledged write; and the standby served the lookups (its count of
    transactions grew by at least the viewer's)."""
    import urllib.parse
    writer, viewer = Client(args.lb_port, ctx.token), Client(args.lb_port, ctx.viewer_token)
    served = "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = 'dvk'"
    before = int(cluster.sql_one(served, cluster.standby_port))
    rounds, misses, errors, lookups = 200, 0, 0, []
    for i in range(rounds):
        title = f"{ctx.run_tag} s5 #{i}"
        body = {"campaign_id": ctx.campaign_id, "unit_id": ctx.provinces[i % len(ctx.provinces)], "title": title,
                "subject": "collective", "kind": "by_field", "field": "economy", "registered_level": "province",
                "year": 2026}
        made = writer.call("POST", "/api/v1/models", body, {"Idempotency-Key": str(uuid.uuid4())})
        if made.status != 201:
            errors += 1
            continue
        for who in (viewer, writer):
            found = who.call("GET", "/api/v1/models?q=" + urllib.parse.quote(title))
            lookups.append(found.ms)
            if found.status != 200:
                errors += 1
            elif made.json["id"] not in [m["id"] for m in found.json.get("items", [])]:
                misses += 1
    writer.close()
    viewer.close()
    # A backend reports its counts when idle, at the latest 10 s later (PostgreSQL 15).
    time.sleep(11)
    grew = int(cluster.sql_one(served, cluster.standby_port)) - before
    log(f"  {rounds} registrations, {len(lookups)} lookups at once after them: {misses} missed the write, "
        f"{errors} errors; the standby ran {grew} transactions meanwhile")
    met = misses == 0 and errors == 0 and grew >= rounds
    return {"scenario": "5 reads from the standby", "requests": rounds + len(lookups), "errors": errors,
            "p50": percentile(lookups, 50), "p99": percentile(lookups, 99), "lost": misses, "dups": 0,
            "other": f"{misses} of {len(lookups)} lookups missed a write acknowledged just before; the standby "
                     f"served {grew} transactions",
            "target": "every write read at once, reads on the standby", "met": met}


def scenario_failover(cluster, ctx, args):
    """4. The primary stops (immediate: a crash), and an operator promotes the standby 2 s
    later. Failover time: from the stop (the primary gone) to the first acknowledged write sent
    after it. Target: under 15 s; no answer but 503 with Retry-After (which the load retries with
    the same key); no acknowledged write lost on the new primary."""
    tag = f"{ctx.run_tag} s4"
    seq0 = max_seq(cluster)
    watch = LbWatch(cluster)
    watch.start()
    with Load(ctx, args.lb_port, tag, WRITES, retry_secs=60) as load:
        time.sleep(10)
        t_ask = time.monotonic()
        cluster.pg_ctl(cluster.primary_name, "stop", "-m", "immediate")
        t_stop = time.monotonic()  # the primary is certainly gone from here on
        log(f"  +{t_stop - load.t0:.2f} s primary {cluster.primary_name} stopped (immediate; the command "
            f"took {t_stop - t_ask:.2f} s)")
        time.sleep(2)  # the operator notices and promotes
        t_promote = time.monotonic()
        cluster.pg_ctl(cluster.standby_name, "promote")
        log(f"  +{time.monotonic() - load.t0:.2f} s standby {cluster.standby_name} promoted "
            f"(the command took {time.monotonic() - t_promote:.2f} s)")
        cluster.db_port = cluster.standby_port
        deadline = time.monotonic() + 60
        while (first := load.first_ack_after(t_stop)) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        failover = (first - t_stop) if first is not None else float("inf")
        log(f"  first write acknowledged {failover:.2f} s after the stop")
        time.sleep(10)  # load on the new primary
    watch.done.set()
    for t, states in watch.changes:
        if t >= t_ask:
            log(f"  +{t - load.t0:.2f} s ({t - t_stop:+.2f} s) HAProxy: {watch.up(states)} of {len(states)} instances "
                f"up ({', '.join(f'{name} {state}' for name, state in states)})")
    # A 503 with Retry-After (the service's, or HAProxy's while no instance is ready) is the
    # answer the gap should get; the load retries it with the same key.
    # A write whose commit landed but whose answer was lost with the primary's connection is
    # answered 409 idempotency_key_answer_lost on its retry (with Location, which the load reads):
    # the documented answer, not an error.
    kinds, errors, p50, p99 = summarise(
        load.attempts,
        lambda k: k == "ok" or k.endswith("with Retry-After") or k == "409 idempotency_key_answer_lost")
    gap = [a for a in load.attempts if t_ask <= a[1] and (first is None or a[1] <= first)]
    log(f"  answers to requests sent during the gap: {describe_kinds(collections.Counter(a[4] for a in gap))}")
    log(f"  requests {sum(kinds.values())}: not as expected: {describe_kinds(kinds)}")
    w, h = checked(cluster, ctx, args, load, tag, seq0)
    met = failover < 15 and errors == 0 and len(w["lost"]) == 0 and whole(w) == 0 and hooks_whole(h) == 0
    return {"scenario": "4 failover", "requests": sum(kinds.values()), "errors": errors, "p50": p50, "p99": p99,
            "lost": len(w["lost"]), "dups": h["extra_deliveries"],
            "other": f"failover {failover:.1f} s, {whole(w)} half-written, {h['lost']} events lost, "
                     f"{w['uncertain'] + w['unanswered_creates']} writes unanswered",
            "target": "<15 s, only 503s (and lost answers' 409s), 0 lost", "met": met}


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------

def setup(cluster, args):
    """Tokens, the instances, a launched campaign, the webhook subscription to every event."""
    ctx = Context()
    ctx.token = subprocess.run(
        [args.bin, "token", "--unit", "VN", "--level", "central", "--roles", "viewer,editor,reviewer,approver,admin",
         "--sub", "bench-cluster", "--ttl", "7200"], capture_output=True, text=True, check=True).stdout.strip()
    # A viewer who never writes: the instances send its lists to the standby, when there is one.
    ctx.viewer_token = subprocess.run(
        [args.bin, "token", "--unit", "VN", "--level", "central", "--roles", "viewer", "--sub", "bench-viewer",
         "--ttl", "7200"], capture_output=True, text=True, check=True).stdout.strip()
    for i in range(len(cluster.ports)):
        cluster.start(i)
    for i in range(len(cluster.ports)):
        cluster.wait_ready(i)
        cluster.wait_lb_up(i)
    api = Client(args.lb_port, ctx.token)

    def ok(r, expected):
        if r.status != expected:
            raise SystemExit(f"setup: expected {expected}, got {r.status} {r.body[:500]!r}")
        return r.json

    ctx.root_id = ok(api.call("GET", "/api/v1/units?code=VN"), 200)["items"][0]["id"]
    ctx.provinces = [u["id"] for u in ok(api.call("GET", "/api/v1/units?level=province&limit=100"), 200)["items"]]
    hook = ok(api.call("POST", "/api/v1/webhooks", {"url": f"http://127.0.0.1:{args.receiver_port}/dvk",
                                                    "events": EVENTS, "description": "bench/cluster"}), 201)
    ctx.webhook_id = hook["webhook"]["id"]
    with open(os.path.join(args.work, "webhook-secret"), "w") as f:
        f.write(hook["secret"])
    campaign = ok(api.call("POST", "/api/v1/campaigns", {
        "code": f"BENCH-{ctx.run_tag}", "title": "bench/cluster", "starts_on": "2025-01-01",
        "ends_on": "2030-12-31"}), 201)
    ctx.campaign_id = campaign["id"]
    ok(api.call("POST", f"/api/v1/campaigns/{ctx.campaign_id}/launch", {}, {"If-Match": '"1"'}), 200)
    api.close()
    return ctx


def print_table(results):
    head = ["scenario", "requests", "errors", "p50 ms", "p99 ms", "lost writes", "duplicate deliveries", "other",
            "target", "met"]
    rows = [[r["scenario"], str(r["requests"]), str(r["errors"]), f"{r['p50']:.1f}", f"{r['p99']:.1f}",
             str(r["lost"]), str(r["dups"]), r["other"], r["target"], "yes" if r["met"] else "NO"] for r in results]
    print()
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join(" --- " for _ in head) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    missed = [r["scenario"] for r in results if not r["met"]]
    print()
    print("ALL TARGETS MET" if not missed else "TARGETS MISSED: " + ", ".join(missed))
    return not missed


def run(args):
    args.received = os.path.join(args.work, "received.jsonl")
    cluster = Cluster(args)
    started = time.monotonic()
    try:
        ctx = setup(cluster, args)
        log(f"setup done in {time.monotonic() - started:.1f} s: 3 instances, campaign, webhook subscription")
        scenarios = [scenario_rolling, scenario_idempotency, scenario_kill9]
        if not args.short:
            scenarios += [scenario_standby_reads, scenario_failover]
        results = []
        for scenario in scenarios:
            log(" ".join(scenario.__doc__.split()))
            t0 = time.monotonic()
            results.append(scenario(cluster, ctx, args))
            log(f"  ({time.monotonic() - t0:.1f} s)")
        cluster.stop_all()
        log_instance_lines(args.work, len(cluster.ports))
        log(f"done in {time.monotonic() - started:.1f} s")
        ok = print_table(results)
        # Tells bench/cluster the run itself went through (a missed target is not a crash).
        open(os.path.join(args.work, "completed"), "w").close()
        return 0 if ok else 1
    finally:
        for p in cluster.procs:
            if p is not None and p.poll() is None:
                p.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("receive", help="the webhook receiver")
    r.add_argument("--port", type=int, default=18190)
    r.add_argument("--out", required=True)
    r.add_argument("--secret-file")
    r.add_argument("--delay-ms", type=int, default=0, help="how long each answer takes")
    b = sub.add_parser("run", help="the scenarios")
    b.add_argument("--work", required=True)
    b.add_argument("--bin", required=True)
    b.add_argument("--lb-port", type=int, default=18100)
    b.add_argument("--ports", default="18101,18102,18103")
    b.add_argument("--receiver-port", type=int, default=18190)
    b.add_argument("--primary", default="dvkcl1:5441")
    b.add_argument("--standby", default="dvkcl2:5442")
    b.add_argument("--pg-version", default="15")
    b.add_argument("--keys", type=int, default=50)
    b.add_argument("--short", action="store_true")
    args = parser.parse_args()
    # Where it was, if it is stopped (bench/cluster's timeout or interruption) or asked (kill -USR1).
    faulthandler.register(signal.SIGTERM, all_threads=False, chain=True)
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    if args.command == "receive":
        receive(args)
    else:
        sys.exit(run(args))


if __name__ == "__main__":
    main()
