#!/usr/bin/env python3
"""Signals under load: run rlog on a fast producer many times, send SIGTERM at a random
moment each time, and check that the file holds only whole lines and every line the
producer finished writing before the signal.

    tests/scripts/signal-torture.py                 # 200 trials
    tests/scripts/signal-torture.py --trials 20     # what .ci/run does
    tests/scripts/signal-torture.py --rlog target/release/rlog --seed 7

Three cases take turns:
  burst    the producer writes, signals, and at once writes more (the signal arrives
           together with new data), then closes: every line is expected, as input
           ended within the grace period.
  endless  the producer never stops: lines written before the signal are expected;
           rlog stops reading when --grace passes, and ends by SIGTERM. The last line
           may be the start of one written after the signal, ended with a newline (as
           any partial last line is); it must still be a prefix of the next line.
  partial  the producer ends with a line that never gets its newline, signals and keeps
           the pipe open: after --grace that line is expected with a newline added.

Lines are written in chunks cut at random byte offsets, so the signal often falls in
the middle of a line. Prints "N trials, L lost, T torn"; exits 1 on any loss, tear,
wrong exit status or hang.
"""

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

GRACE = 0.2  # seconds, passed to rlog as --grace


def line(i):
    return b"%d %s\n" % (i, b"abcdefghij" * (i % 7))


def wait_for_start(path, proc):
    """rlog opens its files after installing its signal handlers: once the file exists,
    a SIGTERM starts a drain rather than killing it."""
    deadline = time.monotonic() + 10
    while not os.path.exists(path):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("rlog did not start")
        time.sleep(0.001)


def write_chunks(fd, data, rng):
    """Writes data in chunks cut at random offsets; returns False once the pipe is closed."""
    pos = 0
    while pos < len(data):
        n = rng.randint(1, 64 * 1024)
        try:
            pos += os.write(fd, data[pos:pos + n])
        except BrokenPipeError:
            return False
    return True


def trial(rlog, case, rng, workdir):
    """Runs one trial; returns (lost, torn, problem) where problem is None when the exit
    status and timing were right."""
    out = os.path.join(workdir, "out.log")
    if os.path.exists(out):
        os.unlink(out)
    proc = subprocess.Popen(
        [rlog, "-p", out, "-f", "%{message}", "--grace", "%dms" % (GRACE * 1000)],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if not k.startswith("RLOG_")},
    )
    wait_for_start(out, proc)
    fd = proc.stdin.fileno()
    before = rng.randint(0, 60_000)
    data = b"".join(line(i) for i in range(1, before + 1))
    partial = b"partial line %d without its newline" % before
    if case == "partial":
        data += partial
    write_chunks(fd, data, rng)
    # Everything so far has been written: these lines must be in the file.
    finished = before
    proc.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    written = before
    if case == "burst":
        more = rng.randint(1, 20_000)
        write_chunks(fd, b"".join(line(i) for i in range(before + 1, before + more + 1)), rng)
        written = before + more
        proc.stdin.close()
    elif case == "endless":
        i = before
        while True:
            block = b"".join(line(j) for j in range(i + 1, i + 1001))
            if not write_chunks(fd, block, rng):
                break
            i += 1000
            if time.monotonic() - signalled > 10:
                break
    # The pipe stays open (partial, endless): rlog must end by itself after --grace.
    try:
        proc.wait(timeout=GRACE + 5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return 0, 0, "rlog hung after SIGTERM"
    elapsed = time.monotonic() - signalled
    stderr = proc.stderr.read()
    if not proc.stdin.closed:
        proc.stdin.close()

    problem = None
    if proc.returncode != -signal.SIGTERM:
        problem = "exit status %r, stderr %r" % (proc.returncode, stderr[-300:])
    elif case != "burst" and elapsed > GRACE + 2:
        problem = "took %.2fs after SIGTERM with --grace %ss" % (elapsed, GRACE)

    content = open(out, "rb").read()
    torn = 0
    if content and not content.endswith(b"\n"):
        torn += 1
    lines = content.split(b"\n")[:-1] if content.endswith(b"\n") else content.split(b"\n")
    expected_tail = []
    if case == "partial":
        expected_tail = [partial]
    have = 0
    for k, got in enumerate(lines):
        last = k == len(lines) - 1
        if got + b"\n" == line(have + 1):
            have += 1
        elif last and got in expected_tail and have == before:
            pass
        elif last and case == "endless" and have >= finished and line(have + 1).startswith(got):
            # Input was still coming when --grace passed: rlog stopped reading in the
            # middle of a line written after the signal and ended it with a newline, as
            # it does for any partial last line.
            pass
        else:
            torn += 1
    must = {"burst": written, "endless": finished, "partial": finished}[case]
    lost = max(0, must - have)
    if case == "partial" and (not lines or lines[-1] != partial):
        lost += 1
    if (lost or torn) and problem is None:
        problem = "case %s: %d lines before the signal, %d in the file" % (case, must, have)
    return lost, torn, problem


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--rlog", help="the binary (default: build target/debug/rlog)")
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    rlog = args.rlog
    if rlog is None:
        subprocess.run(["cargo", "build", "--quiet"], cwd=root, check=True)
        rlog = os.path.join(root, "target", "debug", "rlog")
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    print("signal-torture: %d trials, seed %d, %s" % (args.trials, seed, rlog), file=sys.stderr)

    cases = ["burst", "endless", "partial"]
    total_lost = total_torn = failures = 0
    with tempfile.TemporaryDirectory() as workdir:
        for n in range(args.trials):
            case = cases[n % len(cases)]
            lost, torn, problem = trial(rlog, case, rng, workdir)
            total_lost += lost
            total_torn += torn
            if problem:
                failures += 1
                print("trial %d (%s): %s" % (n + 1, case, problem), file=sys.stderr)
    print("%d trials, %d lost, %d torn" % (args.trials, total_lost, total_torn))
    if failures:
        print("%d trial(s) failed (seed %d)" % (failures, seed), file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
