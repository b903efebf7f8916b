#!/usr/bin/env python3
"""Turn bench/compare.sh results into PERFORMANCE.md.

usage: report.py --results DIR --out FILE

DIR holds cases.tsv, rss.tsv, meta.env and one hyperfine JSON per case,
all written by compare.sh. Prints the target table to stdout. Exit status:
0 when every target that could be measured passes, 3 when one is missed.
"""

import json
import os
import statistics
import sys

MIB = 1024 * 1024
RSS_LIMIT_MIB = 16.0
# "same for both": the 512MiB run within 2 MiB of the 64MiB run. Peak RSS of
# one case on one input varies by about 1.2 MiB from run to run (how full the
# bounded queue gets), so a tighter bound would flag noise; input-size growth
# (a buffer that scales with the input) shows up as far more than that.
RSS_FLAT_TOLERANCE_MIB = 2.0


def read_meta(path):
    meta = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("=")
            meta[key] = value
    return meta


def read_cases(results):
    cases = {}
    order = []
    with open(os.path.join(results, "cases.tsv")) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            parts += [""] * (7 - len(parts))
            cid, kind, label, cmd, jpath, status, note = parts[:7]
            c = dict(id=cid, kind=kind, label=label, cmd=cmd, status=status, note=note)
            if jpath and os.path.exists(jpath):
                with open(jpath) as j:
                    r = json.load(j)["results"][0]
                c["median"] = r["median"]
                c["mean"] = r["mean"]
                c["stddev"] = r.get("stddev") or 0.0
                c["min"] = r["min"]
                c["max"] = r["max"]
                c["runs"] = len(r["times"])
                u, s = r.get("user"), r.get("system")
                if isinstance(u, list) and isinstance(s, list):
                    # newer hyperfine: per-run CPU, take the median of user+sys
                    c["cpu"] = statistics.median([a + b for a, b in zip(u, s)])
                    c["cpu_kind"] = "median"
                else:
                    # hyperfine <= 1.15 exports only the mean user and system
                    c["cpu"] = (u or 0.0) + (s or 0.0)
                    c["cpu_kind"] = "mean"
            cases[cid] = c
            order.append(cid)
    return cases, order


def read_rss(results):
    rss = {}
    path = os.path.join(results, "rss.tsv")
    if not os.path.exists(path):
        return rss
    with open(path) as f:
        for line in f:
            cid, mib, kib, status = (line.rstrip("\n").split("\t") + ["", "", "", ""])[:4]
            rss[(cid, int(mib))] = (int(kib) if kib else None, status)
    return rss


def fmt_t(seconds):
    if seconds is None:
        return "–"
    if seconds < 1e-3:
        return "%.0f µs" % (seconds * 1e6)
    if seconds < 1:
        return "%.2f ms" % (seconds * 1e3)
    return "%.3f s" % seconds


def verdict_le(ratio, limit):
    if ratio <= limit:
        return "PASS", "%.0f%% under the limit" % ((limit - ratio) / limit * 100)
    return "MISS", "over by %.2f× (%.0f%%)" % (ratio - limit, (ratio - limit) / limit * 100)


def verdict_ge(ratio, need):
    if ratio >= need:
        return "PASS", "%.0f%% above the bar" % ((ratio - need) / need * 100)
    return "MISS", "short by %.2f× (%.0f%%)" % (need - ratio, (need - ratio) / need * 100)


def main(argv):
    results = argv[argv.index("--results") + 1]
    out = argv[argv.index("--out") + 1]
    meta = read_meta(os.path.join(results, "meta.env"))
    cases, order = read_cases(results)
    rss = read_rss(results)
    input_bytes = int(meta["input_bytes"])
    size_h = meta["size_h"]

    def measured(cid):
        c = cases.get(cid)
        return c if c and "median" in c and c["status"] == "ok" else None

    def why_missing(cid):
        c = cases.get(cid)
        if not c:
            return "not run"
        if c["status"] == "skip":
            return "skipped: " + c["note"]
        if c["status"] == "FAIL":
            return "check failed: " + c["note"]
        return "no timing"

    def na_verdict(*cids):
        if any(cases.get(c, {}).get("status") == "FAIL" for c in cids):
            return "CHECK FAILED"
        return "NOT RUN"

    targets = []  # (what, rlog case text, baseline text, measured text, limit text, verdict, detail)

    def ratio_target(what, cid, base, limit):
        a, b = measured(cid), measured(base)
        rl = "≤ %.2f×" % limit
        if not a or not b:
            miss = why_missing(cid) if not a else why_missing(base)
            targets.append((what, cases.get(base, {}).get("label", base), "–", rl, na_verdict(cid, base), miss))
            return
        r = a["median"] / b["median"]
        v, d = verdict_le(r, limit)
        targets.append((what, cases[base]["label"],
                        "%.2f× (%s vs %s)" % (r, fmt_t(a["median"]), fmt_t(b["median"])), rl, v, d))

    ratio_target("default pattern, one file", "rlog_default", "durable", 1.5)
    ratio_target("`--format '%{message}'`, one file", "rlog_message", "durable", 1.15)
    ratio_target("default pattern `--no-sync`", "rlog_nosync", "tee", 2.0)

    a, b = measured("rlog_default"), measured("s6log")
    if a and b:
        wall = b["median"] / a["median"]
        cpu = b["cpu"] / a["cpu"] if a["cpu"] > 0 else float("inf")
        vw, dw = verdict_ge(wall, 4.0)
        vc, dc = verdict_ge(cpu, 6.0)
        v = "PASS" if vw == vc == "PASS" else "MISS"
        targets.append(("default pattern vs s6-log", cases["s6log"]["label"],
                        "%.2f× faster wall (%s vs %s); %.2f× less CPU (%s vs %s)" % (
                            wall, fmt_t(a["median"]), fmt_t(b["median"]),
                            cpu, fmt_t(a["cpu"]), fmt_t(b["cpu"])),
                        "≥ 4× faster wall AND ≥ 6× less CPU", v,
                        "wall %s %s; CPU %s %s" % (vw, dw, vc, dc)))
    else:
        miss = why_missing("rlog_default") if not a else why_missing("s6log")
        targets.append(("default pattern vs s6-log", "`s6-log T`", "–",
                        "≥ 4× faster wall AND ≥ 6× less CPU", na_verdict("rlog_default", "s6log"), miss))

    ratio_target("four `--path`s", "rlog_four", "durable", 4.0)
    ratio_target("`--json`, one file", "rlog_json", "durable", 2.5)

    # peak RSS
    sizes = [int(x) for x in meta.get("rss_sizes", "64 512").split()]
    rss_ids = ["rlog_default", "rlog_message", "rlog_nosync", "rlog_four", "rlog_json"]
    rss_rows = []
    worst = None
    worst_growth = None
    rss_fail = False
    for cid in rss_ids:
        vals = [rss.get((cid, m)) for m in sizes]
        if all(v is None for v in vals):
            continue
        row = [cid]
        mibs = []
        for v in vals:
            if v is None or v[0] is None:
                row.append("–")
                rss_fail = True
                mibs.append(None)
            else:
                m = v[0] / 1024.0
                row.append("%.1f MiB%s" % (m, "" if v[1] == "ok" else " (check FAILED)"))
                mibs.append(m)
                worst = m if worst is None else max(worst, m)
                if v[1] != "ok":
                    rss_fail = True
        if len(mibs) >= 2 and None not in mibs:
            g = mibs[-1] - mibs[0]
            row.append("%+.1f MiB" % g)
            worst_growth = g if worst_growth is None else max(worst_growth, abs(g))
        else:
            row.append("–")
        rss_rows.append(row)
    rl = "≤ %.0f MiB on %s MiB inputs, same for both (within %.0f MiB)" % (
        RSS_LIMIT_MIB, " and ".join(map(str, sizes)), RSS_FLAT_TOLERANCE_MIB)
    if worst is None or rss_fail:
        targets.append(("peak RSS of any rlog case", "–", "–", rl, "NOT RUN",
                        "no RSS figures" if worst is None else "an RSS run failed"))
    else:
        ok_size = worst <= RSS_LIMIT_MIB
        ok_flat = worst_growth is None or worst_growth <= RSS_FLAT_TOLERANCE_MIB
        v = "PASS" if ok_size and ok_flat else "MISS"
        d = []
        d.append("%.0f%% under the limit" % ((RSS_LIMIT_MIB - worst) / RSS_LIMIT_MIB * 100) if ok_size
                 else "over by %.1f MiB" % (worst - RSS_LIMIT_MIB))
        if worst_growth is not None:
            d.append("largest change between sizes %.1f MiB%s" % (
                worst_growth, "" if ok_flat else " (not flat)"))
        targets.append(("peak RSS of any rlog case", "–", "max %.1f MiB" % worst, rl, v, "; ".join(d)))

    ratio_target("`rlog write --no-sync msg`", "write_nosync", "printf_append", 1.5)
    ratio_target("`rlog write msg`", "write_sync", "printf_sync", 1.5)

    # ------------------------------------------------------------ markdown --
    L = []
    L.append("# rlog performance")
    L.append("")
    L.append("Measured by `bench/compare.sh` on %s. Medians of %s timed runs per streaming case "
             "(warm-up 1) on a %s input of realistic log lines (%s bytes, %s lines, fixed seed), "
             "and of %s runs per one-shot case." % (
                 meta["date"], meta["runs"], size_h, meta["input_bytes"], meta["input_lines"],
                 meta["oneshot_runs"]))
    L.append("")
    L.append("Reproduce: `%s`" % meta["repro"])
    L.append("")
    L.append("## Targets")
    L.append("")
    L.append("Ratios are of median wall time, rlog ÷ baseline, unless said otherwise.")
    L.append("")
    L.append("| target | baseline | measured | limit | result | margin |")
    L.append("| --- | --- | --- | --- | --- | --- |")
    for what, base, meas, lim, v, d in targets:
        vv = "**%s**" % v if v != "PASS" else v
        L.append("| %s | %s | %s | %s | %s | %s |" % (what, base, meas, lim, vv, d))
    L.append("")

    durable = measured("durable")
    L.append("## All streaming cases (%s input)" % size_h)
    L.append("")
    kind = next((c["cpu_kind"] for c in cases.values() if "cpu_kind" in c), "mean")
    L.append("CPU is user+sys of the command and its children, as hyperfine counts it (%s)." % (
        "median over runs" if kind == "median" else
        "mean over runs: this hyperfine exports only the mean user and system time, not per-run figures"))
    L.append("")
    L.append("| case | median wall | mean ± σ | CPU (user+sys) | MiB/s | × durable copy | check |")
    L.append("| --- | --- | --- | --- | --- | --- | --- |")
    for cid in order:
        c = cases[cid]
        if c["kind"] not in ("peer", "rlog") or cid.startswith(("write_", "printf_")):
            continue
        if "median" not in c:
            L.append("| %s | – | – | – | – | – | %s |" % (c["label"], why_missing(cid)))
            continue
        rel = "%.2f×" % (c["median"] / durable["median"]) if durable else "–"
        chk = "ok" if c["status"] == "ok" else "**FAILED**: " + c["note"]
        L.append("| %s | %s | %s ± %s | %s | %.0f | %s | %s |" % (
            c["label"], fmt_t(c["median"]), fmt_t(c["mean"]), fmt_t(c["stddev"]),
            fmt_t(c["cpu"]), input_bytes / MIB / c["median"], rel, chk))
    L.append("")

    L.append("## One-shot writes")
    L.append("")
    L.append("Each run appends one line to the same file (created once before the runs); "
             "no shell in between (`hyperfine -N`).")
    L.append("")
    L.append("| case | median wall | mean ± σ | CPU (user+sys) | check |")
    L.append("| --- | --- | --- | --- | --- |")
    for cid in ("write_nosync", "printf_append", "write_sync", "printf_sync"):
        c = cases.get(cid)
        if not c:
            continue
        if "median" not in c:
            L.append("| %s | – | – | – | %s |" % (c["label"], why_missing(cid)))
            continue
        chk = "ok" if c["status"] == "ok" else "**FAILED**: " + c["note"]
        L.append("| %s | %s | %s ± %s | %s | %s |" % (
            c["label"], fmt_t(c["median"]), fmt_t(c["mean"]), fmt_t(c["stddev"]),
            fmt_t(c["cpu"]), chk))
    L.append("")

    L.append("## Peak RSS")
    L.append("")
    if rss_rows:
        L.append("Maximum resident set size (`/usr/bin/time -f %M`) of one run of each rlog case; "
                 "it varies by about 1 MiB from run to run.")
        L.append("")
        L.append("| case | " + " | ".join("%d MiB input" % m for m in sizes) + " | change |")
        L.append("| --- | " + " | ".join("---" for _ in sizes) + " | --- |")
        for row in rss_rows:
            L.append("| " + " | ".join(row) + " |")
    else:
        L.append("Not measured in this run.")
    L.append("")

    L.append("## Commands")
    L.append("")
    L.append("`IN` is the input file, `D` an output directory emptied before every timed run "
             "(`rm -rf D && mkdir -p D && sync`; for svlogd the prepare step also writes "
             "`D/log/config`). Streaming cases run under hyperfine's default shell, whose "
             "start-up time hyperfine subtracts; one-shot cases run without a shell.")
    L.append("")
    wd = meta["workdir"]
    for cid in order:
        c = cases[cid]
        if not c["cmd"]:
            continue
        cmd = c["cmd"].replace(meta["input"], "IN").replace(wd + "/out/" + cid, "D")
        cmd = cmd.replace(meta["rlog"], "rlog")
        L.append("- %s: `%s`" % (cid, cmd))
    L.append("")

    L.append("## Machine")
    L.append("")
    L.append("- CPUs (`nproc`): %s (%s)" % (meta["nproc"], meta.get("cpu") or "unknown model"))
    L.append("- memory: %s" % meta["mem"])
    L.append("- kernel (`uname -r`): %s" % meta["kernel"])
    L.append("- filesystem of the work dir `%s`: %s" % (wd, meta["fs"]))
    L.append("- rlog: `%s`%s%s" % (
        meta["rlog"], (" — " + meta["rlog_version"]) if meta.get("rlog_version") else "",
        (", commit " + meta["rlog_commit"]) if meta.get("rlog_commit") else ""))
    L.append("- %s; packages: %s" % (meta["hyperfine"], meta["versions"].replace(";", ", ")))
    L.append("- date: %s; benchmark took %s s" % (meta["date"], meta["elapsed"]))
    L.append("")

    L.append("## Notes on the peers")
    L.append("")
    L.append("- *durable copy* is `tee -a f && sync f`: coreutils `sync FILE` fsyncs just that file, "
             "so it is the floor for \"write everything and make it durable\".")
    L.append("- Every timed run starts from an empty directory, so rlog creates its file each run "
             "and, besides fsyncing the file, fsyncs the directory it created it in; the durable "
             "copy's `sync f` fsyncs only the file.")
    L.append("- `s6-log`, `multilog` and `svlogd` rotate by size. All three get a 16 MiB rotation "
             "size (16777215, multilog's maximum) and a file count high enough that nothing is "
             "deleted, so that every line can be counted; svlogd reads those settings from "
             "`D/log/config` (`s16777215`, `n0`). Their line counts add up `current` and the "
             "rotated `@…` files. They fsync each file they finish.")
    L.append("- `s6-log` runs in its default non-blocking mode (no `-b`); `T` prefixes an ISO 8601 "
             "local time. `multilog t` and `svlogd -tt` prefix TAI64N and UTC timestamps. "
             "svlogd keeps its default 1024-byte buffer (`-b` not raised).")
    L.append("- `ts` (moreutils, Perl) is only run at 64 MiB or less, or with `--with-ts`, with no "
             "warm-up and at most 2 runs: it takes seconds per 64 MiB. It flushes every line "
             "(two `write`s a line) and, with `TZ` unset, glibc stats `/etc/localtime` about three "
             "times a line; with `TZ=UTC` it runs about 2.5× faster. It is run as a user would, "
             "without `TZ`.")
    L.append("- `rotatelogs -f f 86400` writes `f.<day epoch>`; `cronolog` writes `%Y-%m-%d.log` "
             "and exits with status 3 at end of input, which the command accepts. Neither fsyncs.")
    L.append("")

    # The profile is written by hand from perf/callgrind runs and kept in bench/profile.md,
    # so a new run of the benchmark keeps it.
    profile = os.path.join(os.path.dirname(os.path.abspath(__file__)), "profile.md")
    if os.path.exists(profile):
        with open(profile) as f:
            L.append(f.read().rstrip("\n"))
    else:
        L.append("## Profile")
        L.append("")
        L.append("_No bench/profile.md: add one from a perf or callgrind run._")
    L.append("")

    with open(out, "w") as f:
        f.write("\n".join(L))

    # ---------------------------------------------------------- stdout --
    print("\nrlog targets (%s input):" % size_h)
    w = max(len(t[0]) for t in targets)
    for what, base, meas, lim, v, d in targets:
        print("  %-12s %-*s  %s  [limit %s] %s" % (v, w, what, meas, lim, d))
    print()
    return 3 if any(t[4] == "MISS" for t in targets) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
