#!/usr/bin/env python3
"""Deterministic log-ish input for bench/compare.sh.

Writes SIZE bytes (rounded down to the last whole line) of realistic
application log messages, about 80 bytes a line on average, to OUT. The
same SIZE and --seed always give the same bytes: every random choice comes
from one random.Random(seed), and only getrandbits() is used, whose output
is fixed across Python versions.

Lines have no timestamp or level of their own (rlog adds those); they mix
HTTP access lines, SQL timings, auth events, job/queue events, cache
stats, warnings with quoted strings and backslashes (so JSON output has
something to escape), and an occasional stack-trace-like line. Lengths vary
from about 30 to about 180 bytes.

The stream for a seed does not depend on SIZE, so a smaller input is a
prefix of a bigger one (cut at the last newline within SIZE). --from BIG
uses that: it copies the prefix of an already generated bigger file
instead of generating again, and gives the very same bytes.

usage: gen-input.py SIZE_BYTES OUT [--seed N] [--from BIGGER_FILE]
"""

import os
import random
import sys

VERSION = 1  # bump when the output for a given size/seed changes

METHODS = ["GET"] * 6 + ["POST"] * 3 + ["PUT", "DELETE", "PATCH", "HEAD"]
STATUSES = ["200"] * 12 + ["201", "204", "301", "304", "400", "401", "403",
                           "404", "404", "409", "429", "500", "502", "503"]
RESOURCES = ["users", "orders", "invoices", "carts", "sessions", "products",
             "search", "reports", "webhooks", "files", "teams", "tokens"]
VERBS = ["list", "show", "export", "refresh", "bulk", "history", "items",
         "status", "avatar", "preview"]
AGENTS = ["curl/8.5.0", "Mozilla/5.0", "python-requests/2.31", "Go-http-client/1.1",
          "okhttp/4.12.0", "k6/0.49", "PostmanRuntime/7.36", "kube-probe/1.29"]
TABLES = ["users", "orders", "order_items", "payments", "audit_log", "sessions",
          "inventory", "shipments", "coupons", "events"]
SQL = ["SELECT * FROM {t} WHERE id = $1",
       "SELECT count(*) FROM {t} WHERE created_at > $1",
       "UPDATE {t} SET updated_at = now() WHERE id = $1",
       "INSERT INTO {t} (id, payload) VALUES ($1, $2)",
       "DELETE FROM {t} WHERE expires_at < now()"]
USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
         "ivan", "judy", "mallory", "niaj", "olivia", "peggy", "rupert", "sybil",
         "trent", "victor", "walter", "yvonne"]
AUTH = ["login ok", "login failed: bad password", "token refreshed",
        "logout", "mfa challenge sent", "password reset requested",
        "session expired", "api key rotated"]
JOBS = ["send_email", "resize_image", "charge_card", "rebuild_index",
        "sync_inventory", "generate_invoice", "purge_cache", "export_csv"]
JOB_EVENTS = ["started", "finished", "retrying", "failed", "queued", "cancelled"]
WARN = ['config key "{k}" is deprecated, use "{k}_v2"',
        'slow request path="/{r}/{n}" took {ms}ms',
        'unexpected header value "X-Trace: {h}"',
        'path C:\\\\Users\\\\{u}\\\\AppData rejected on {r}',
        'retry budget low for upstream "{r}-svc" ({n} left)']
KEYS = ["max_conns", "read_timeout", "tls_min", "cache_ttl", "log_level",
        "pool_size", "gc_interval"]
ERRS = ["connection reset by peer", "deadline exceeded", "broken pipe",
        "no route to host", "too many open files", "invalid UTF-8 in body",
        "unique constraint violated", "upstream returned 502"]
FUNCS = ["handle_request", "Router::dispatch", "Pool::acquire", "decode_body",
         "Session::load", "Worker::run", "Cache::get", "Store::commit"]
FILES = ["src/http/server.rs", "src/db/pool.rs", "src/worker.rs",
         "src/cache.rs", "src/auth/session.rs", "src/api/orders.rs"]


def hexid(rng, nbits):
    return "%0*x" % (nbits // 4, rng.getrandbits(nbits))


def make_pools(rng):
    ips = ["10.%d.%d.%d" % (rng.getrandbits(8), rng.getrandbits(8), 1 + rng.getrandbits(7))
           for _ in range(512)]
    ips += ["192.168.%d.%d" % (rng.getrandbits(8), 1 + rng.getrandbits(7)) for _ in range(256)]
    ips += ["2001:db8::%x:%x" % (rng.getrandbits(16), rng.getrandbits(16)) for _ in range(256)]
    paths = []
    for _ in range(4096):
        r = RESOURCES[rng.getrandbits(16) % len(RESOURCES)]
        k = rng.getrandbits(3)
        if k < 3:
            paths.append("/api/v%d/%s/%d" % (1 + (k & 1), r, rng.getrandbits(20)))
        elif k < 6:
            v = VERBS[rng.getrandbits(16) % len(VERBS)]
            paths.append("/api/v2/%s/%d/%s" % (r, rng.getrandbits(17), v))
        else:
            paths.append("/%s?page=%d&per_page=%d" % (r, rng.getrandbits(6), 10 << rng.getrandbits(2)))
    return ips, paths


def line_maker(rng):
    ips, paths = make_pools(rng)
    bits = rng.getrandbits
    nm, ns, na = len(METHODS), len(STATUSES), len(AGENTS)
    nip, npath = len(ips), len(paths)
    seq = [0]

    def http(r):
        r2 = bits(32)
        return "%s %s %s %dB %d.%dms ip=%s ua=%s req=%s" % (
            METHODS[r % nm], paths[(r >> 8) % npath], STATUSES[(r >> 20) % ns],
            (r >> 26) & 0xFFFF, (r >> 42) & 0x1FF, (r >> 51) % 10,
            ips[r2 % nip], AGENTS[(r2 >> 12) % na], hexid(rng, 32))

    def sql(r):
        q = SQL[r % len(SQL)].format(t=TABLES[(r >> 4) % len(TABLES)])
        return 'db query="%s" rows=%d took=%d.%03dms conn=%d' % (
            q, (r >> 8) & 0x3FF, (r >> 18) & 0x3F, (r >> 24) % 1000, (r >> 34) & 31)

    def auth(r):
        return "auth user=%s ip=%s event=\"%s\" session=%s" % (
            USERS[r % len(USERS)], ips[(r >> 6) % nip], AUTH[(r >> 17) % len(AUTH)],
            hexid(rng, 48))

    def job(r):
        seq[0] += 1
        return "worker-%d job=%s id=%d %s attempt=%d queue_depth=%d" % (
            r & 7, JOBS[(r >> 3) % len(JOBS)], seq[0], JOB_EVENTS[(r >> 9) % len(JOB_EVENTS)],
            1 + ((r >> 13) & 3), (r >> 16) & 0xFFF)

    def cache(r):
        hits = (r >> 4) & 0xFFFFF
        miss = (r >> 24) & 0xFFFF
        return "cache stats shard=%d hits=%d misses=%d evictions=%d ratio=%.3f" % (
            r & 15, hits, miss, (r >> 40) & 0x3FF, hits / (hits + miss + 1))

    def warn(r):
        return WARN[r % len(WARN)].format(
            k=KEYS[(r >> 3) % len(KEYS)], r=RESOURCES[(r >> 7) % len(RESOURCES)],
            n=(r >> 12) & 0xFFFF, ms=(r >> 28) & 0x3FFF, h=hexid(rng, 64),
            u=USERS[(r >> 42) % len(USERS)])

    def err(r):
        return "error in %s (%s:%d): %s; peer=%s trace_id=%s" % (
            FUNCS[r % len(FUNCS)], FILES[(r >> 3) % len(FILES)], (r >> 6) & 0x3FF,
            ERRS[(r >> 16) % len(ERRS)], ips[(r >> 20) % nip], hexid(rng, 64))

    def short(r):
        return ["healthcheck ok", "tick", "flushing metrics", "gc pause %dus" % (r & 0xFFF),
                "heartbeat from node-%d" % (r & 63), "reloading config"][(r >> 12) % 6]

    # weights out of 64
    table = ([http] * 26 + [sql] * 10 + [auth] * 6 + [job] * 8 + [cache] * 3 +
             [warn] * 4 + [err] * 3 + [short] * 4)
    assert len(table) == 64

    def make():
        r = bits(64)
        return table[r & 63](r >> 6)

    return make


def copy_prefix(src, size, out):
    if os.path.getsize(src) < size:
        sys.stderr.write("gen-input: %s is smaller than %d bytes\n" % (src, size))
        return 1
    tmp = "%s.tmp.%d" % (out, os.getpid())
    with open(src, "rb") as f, open(tmp, "wb") as g:
        left = size
        tail = b""
        while left > 0:
            block = f.read(min(left, 1 << 22))
            if not block:
                break
            left -= len(block)
            if left == 0:
                cut = block.rfind(b"\n")
                tail = block[cut + 1:]
                block = block[: cut + 1]
            g.write(block)
    if len(tail) == size:
        os.unlink(tmp)
        sys.stderr.write("gen-input: no whole line within %d bytes\n" % size)
        return 1
    os.replace(tmp, out)
    return 0


def main(argv):
    args = [a for a in argv[1:]]
    seed = 20261203
    if "--seed" in args:
        i = args.index("--seed")
        seed = int(args[i + 1])
        del args[i:i + 2]
    src = None
    if "--from" in args:
        i = args.index("--from")
        src = args[i + 1]
        del args[i:i + 2]
    if len(args) != 2:
        sys.stderr.write(__doc__)
        return 2
    size = int(args[0])
    out = args[1]
    if src is not None:
        return copy_prefix(src, size, out)
    rng = random.Random(seed)
    make = line_maker(rng)
    tmp = "%s.tmp.%d" % (out, os.getpid())
    written = 0
    with open(tmp, "wb", buffering=0) as f:
        while written < size:
            chunk = "\n".join([make() for _ in range(20000)]) + "\n"
            data = chunk.encode("ascii")
            if written + len(data) > size:
                data = data[: size - written]
                cut = data.rfind(b"\n")
                data = data[: cut + 1]
                if not data:
                    break
                f.write(data)
                written += len(data)
                break
            f.write(data)
            written += len(data)
    os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
