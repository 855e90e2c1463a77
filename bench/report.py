#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turns the raw output of one benchmark guest run into results, and draws their charts.

    report.py --raw DIR --mode smoke|quick|full [environment options] [--results DIR --doc FILE]
    report.py --mode replot [--results DIR]

DIR holds what bench/guest.sh wrote: guest.env and, per program, NAME.jsonl (JSON lines of
raw samples), NAME.status ("exit=N seconds=S") and NAME.check ("ok" or what was left behind).

smoke: checks that every program ran, exited 0, left a clean mount and printed sane samples for
every series it should have; prints one line per program and "N passed, N failed"; writes
nothing. quick/full: writes RESULTS/NAME.json (raw samples, median, min, max, environment),
its chart RESULTS/NAME.svg and RESULTS/NAME.png (plots.py, matplotlib) and the Markdown report
FILE; exits non-zero if a program failed. replot: draws the charts again from the
RESULTS/NAME.json already there, changing nothing else.
"""

import argparse
import json
import math
import os
import statistics
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ beside the sources
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plots  # noqa: E402
import profile  # noqa: E402  (bench/profile.py, not the standard library's profiler)

# Benchmarks, by the name of their raw output: "room" is `fanout --case room`.
PROGRAMS = ["wakeup", "lifecycle", "fanout", "room", "teardown", "memory", "throughput"]
ROOM_SERIES = ["locust-room", "pipe-room", "locust-room-excl", "pipe-room-excl"]


# ------------------------------------------------------------------------------ loading


def read_env(path):
    """KEY=VALUE lines (values may hold spaces); {} if the file is missing."""
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8", errors="replace") as f:
        return dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)


def read_words(path):
    """Space-separated KEY=VALUE words ("exit=0 seconds=1.2"); {} if the file is missing."""
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8", errors="replace") as f:
        return dict(w.split("=", 1) for w in f.read().split() if "=" in w)


class Run:
    """Everything one program left in the raw directory."""

    def __init__(self, raw, name):
        self.name = name
        self.meta = None
        self.samples = []
        self.bad_lines = 0
        path = os.path.join(raw, name + ".jsonl")
        self.present = os.path.exists(path)
        if self.present:
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    try:
                        obj = json.loads(line)
                    except ValueError:
                        self.bad_lines += 1
                        continue
                    if obj.get("type") == "meta":
                        self.meta = obj
                    elif obj.get("type") == "sample":
                        self.samples.append(obj)
                    else:
                        self.bad_lines += 1
        status = read_words(os.path.join(raw, name + ".status"))
        self.exit = int(status["exit"]) if status.get("exit", "").isdigit() else None
        self.seconds = float(status.get("seconds", "nan"))
        check = os.path.join(raw, name + ".check")
        self.check = None
        if os.path.exists(check):
            with open(check, encoding="utf-8") as f:
                self.check = f.read().strip()
        log = os.path.join(raw, name + ".log")
        self.log = ""
        if os.path.exists(log):
            with open(log, encoding="utf-8", errors="replace") as f:
                self.log = f.read()

    @property
    def params(self):
        return (self.meta or {}).get("params", {})

    def failure(self):
        """Why the run is not usable, or None."""
        if not self.present:
            return "no output (did not run)"
        if self.exit != 0:
            tail = [l for l in self.log.splitlines() if l.strip()][-3:]
            return f"exit {self.exit}" + (": " + " | ".join(tail) if tail else "")
        if self.check != "ok":
            return f"left behind: {self.check}"
        if self.meta is None:
            return "no meta line"
        if self.bad_lines:
            return f"{self.bad_lines} malformed output line(s)"
        return None

    def groups(self):
        """{(series, n): (measured values, warm-up values, unit, samples)}."""
        out = {}
        for s in self.samples:
            key = (s["series"], s.get("n"))
            vals, warm, _, raw = out.setdefault(key, ([], [], s.get("unit", ""), []))
            (warm if s.get("warmup") else vals).append(float(s["value"]))
            raw.append(s)
        return out


def stats(values):
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "count": len(values),
    }


def linear_fit(points):
    """Least squares y = a + b*x over [(x, y)]; returns (a, b, r2)."""
    n = len(points)
    if n < 2:
        return (points[0][1] if points else 0.0), 0.0, 1.0
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    sxy = sum((p[0] - mx) * (p[1] - my) for p in points)
    b = sxy / sxx if sxx else 0.0
    a = my - b * mx
    ss_tot = sum((p[1] - my) ** 2 for p in points)
    ss_res = sum((p[1] - a - b * p[0]) ** 2 for p in points)
    return a, b, (1.0 - ss_res / ss_tot) if ss_tot else 1.0


# ------------------------------------------------------------------------------ expectations


def expected_series(name, run):
    """The series a correct run of NAME must have produced."""
    if name == "wakeup":
        pins = ["same", "split"] if run.params.get("online_cpus", 1) >= 2 else ["same"]
        want = {f"{m}/{w}/{p}" for m in ("locust", "pipe", "eventfd")
                for w in ("epoll", "poll") for p in pins}
        if run.params.get("locust_noatime"):
            want.add("locust-noatime/epoll/same")
        return want
    if name == "fanout":
        return {"locust", "pipe"}
    if name == "room":
        return set(ROOM_SERIES)
    if name == "throughput":
        return {f"{fs}/{op}" for fs in ("locust", "tmpfs") for op in ("write", "read")}
    return {"locust", "tmpfs"}


def sanity(name, run):
    """None if the samples look sane, else what is wrong."""
    if not run.samples:
        return "no samples"
    missing = expected_series(name, run) - {s["series"] for s in run.samples}
    if missing:
        return "missing series: " + ", ".join(sorted(missing))
    for s in run.samples:
        v = s.get("value")
        if not isinstance(v, (int, float)) or not math.isfinite(v):
            return f"non-numeric value in {s}"
        # Memory deltas of a tiny smoke run may be noise around zero; everything else is a
        # time, a rate or a size and must be positive.
        if name != "memory" and v <= 0:
            return f"non-positive value {v} in series {s['series']}"
    return None


# ------------------------------------------------------------------------------ per benchmark


def med(groups, series, n=None):
    g = groups.get((series, n))
    return statistics.median(g[0]) if g and g[0] else float("nan")


def ns_of(groups, series):
    return sorted(n for (s, n) in groups if s == series and n is not None)


def fmt(v, unit=""):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    a = abs(v)
    if a >= 100:
        text = f"{v:,.0f}"
    elif a >= 1:
        text = f"{v:.1f}" if a >= 10 else f"{v:.2f}"
    else:
        text = f"{v:.3g}"
    return f"{text} {unit}".strip()


def med_range(groups, series, n=None, unit=""):
    g = groups.get((series, n))
    if not g or not g[0]:
        return "n/a"
    s = stats(g[0])
    return f"{fmt(s['median'], unit)} ({fmt(s['min'])}–{fmt(s['max'])})"


def best(groups, series, n=None, higher_better=False):
    """The least disturbed sample: the minimum of a cost, the maximum of a rate. Interference
    (other guests on the host, interrupts) only ever adds time, so this estimates the cost
    without it; the goals are judged on medians, this is shown beside them."""
    g = groups.get((series, n))
    if not g or not g[0]:
        return float("nan")
    return max(g[0]) if higher_better else min(g[0])


def by_rep(groups, series, n=None):
    """{rep: value} of the measured (not warm-up) samples of one series."""
    return {s["rep"]: float(s["value"]) for s in groups[(series, n)][3] if not s.get("warmup")}


def interquartile(values):
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4)
    return q[0], q[2]


def ratio_spread(groups, a, b, n=None):
    """Interquartile range of A ÷ B over repetitions: each repetition's A and B were measured
    back to back, so their ratio is what the host's interference disturbs least."""
    ra, rb = by_rep(groups, a, n), by_rep(groups, b, n)
    return interquartile([ra[r] / rb[r] for r in ra if r in rb and rb[r]] or [float("nan")])


def goal(text, ratio, limit, higher_better=False, detail="", best_ratio=float("nan"),
         also=True, spread=None, label="", unit="×"):
    """A goal's verdict: RATIO (of medians) against LIMIT, and ALSO (a further condition such
    as linearity). It is marked uncertain when the same test on BEST_RATIO (of the best
    samples) disagrees, or when LIMIT lies inside SPREAD, the range the ratio takes over the
    samples' interquartile ranges. LABEL names the goal beside the benchmark's title where a
    benchmark has several (the first is its primary goal); UNIT follows the ratio when shown
    ("×", or e.g. " queued" for a count)."""
    def ok(r):
        return bool(also) and (r >= limit if higher_better else r <= limit)

    met, met_best = ok(ratio), ok(best_ratio)
    inside = spread is not None and spread[0] <= limit <= spread[1]
    return {"text": text, "label": label, "ratio": ratio, "best_ratio": best_ratio,
            "limit": limit, "unit": unit, "ratio_interquartile_spread": spread, "met": met,
            "met_by_best_samples": met_best, "limit_inside_spread": inside,
            "uncertain": met != met_best or inside, "detail": detail}


def count(v):
    """A count: "1", "250", "2.5" (a median of an even number of counts)."""
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def shown(g, key="ratio"):
    """A goal's ratio (or best ratio) as the report writes it: "1.23×", "1 queued"."""
    v = g[key]
    if g.get("unit", "×") == "×":
        return f"{v:.2f}×"
    return f"{count(v)}{g['unit']}"


def analyse_wakeup(run, groups):
    pins = ["same", "split"] if ("eventfd/epoll/split", None) in groups else ["same"]
    noatime = ("locust-noatime/epoll/same", None) in groups
    rows = ["| channel | wait | pinning | round trip, µs: median (min–max) | vs eventfd "
            "| vs pipe | min vs eventfd's min |", "|---|---|---|---|---|---|---|"]
    for p in pins:
        for w in ("epoll", "poll"):
            channels = ["locust", "pipe", "eventfd"]
            if noatime and w == "epoll" and p == "same":
                channels.insert(1, "locust-noatime")
            for m in channels:
                s = f"{m}/{w}/{p}"
                v = med(groups, s)
                name = "locust, `-o noatime`" if m == "locust-noatime" else m
                rows.append(f"| {name} | {w} | {'one CPU' if p == 'same' else 'two CPUs'} | "
                            f"{med_range(groups, s)} | "
                            f"{v / med(groups, f'eventfd/{w}/{p}'):.2f}× | "
                            f"{v / med(groups, f'pipe/{w}/{p}'):.2f}× | "
                            f"{best(groups, s) / best(groups, f'eventfd/{w}/{p}'):.2f}× |")
    primary = "locust/epoll/same"

    def vs(peer, limit, text, label=""):
        other = f"{peer}/epoll/same"
        return goal(text, med(groups, primary) / med(groups, other), limit,
                    best_ratio=best(groups, primary) / best(groups, other),
                    spread=ratio_spread(groups, primary, other), label=label)

    goals = [vs("pipe", 1.15, "locust ≤ 1.15× pipe (epoll, both processes on one CPU)"),
             vs("eventfd", 1.15, "stretch: locust ≤ 1.15× eventfd (epoll, both processes on "
                "one CPU)", label="stretch")]
    extra = {"epoll_ratio_vs_pipe": goals[0]["ratio"],
             "epoll_ratio_vs_eventfd": goals[1]["ratio"],
             "poll_ratio_vs_eventfd": (med(groups, "locust/poll/same")
                                       / med(groups, "eventfd/poll/same"))}
    if "split" in pins:
        extra["split_epoll_ratio_vs_eventfd"] = (med(groups, "locust/epoll/split")
                                                 / med(groups, "eventfd/epoll/split"))
    if noatime:
        lv, nv = med(groups, primary), med(groups, "locust-noatime/epoll/same")
        lo, hi = ratio_spread(groups, primary, "locust-noatime/epoll/same")
        extra["relatime_vs_noatime"] = {"ratio": lv / nv, "delta_us": lv - nv,
                                        "ratio_interquartile_spread": [lo, hi]}
        rows += ["", f"atime: the same locustfs round trip (epoll, one CPU) in a mount with the "
                 f"default relatime takes {lv / nv:.2f}× the time it takes under `-o noatime` "
                 f"({fmt(lv - nv, 'µs')} more per round trip, two reads; per-repetition ratio "
                 f"interquartile range {lo:.2f}×–{hi:.2f}×)."]
    return goals, rows, extra


def analyse_two(run, groups, unit, higher_better, limit, text, ylabel):
    """lifecycle and memory: one locust figure against one tmpfs figure."""
    n = next((k[1] for k in groups if k[0] == "locust"), None)
    lv, tv = med(groups, "locust", n), med(groups, "tmpfs", n)
    ratio = lv / tv
    best_ratio = best(groups, "locust", n, higher_better) / best(groups, "tmpfs", n, higher_better)
    rows = [f"| file system | {ylabel}: median (min–max) |", "|---|---|",
            f"| locustfs | {med_range(groups, 'locust', n, unit)} |",
            f"| tmpfs | {med_range(groups, 'tmpfs', n, unit)} |"]
    return goal(text, ratio, limit, higher_better, best_ratio=best_ratio,
                spread=ratio_spread(groups, "locust", "tmpfs", n)), rows, {}


def analyse_lifecycle(run, groups):
    return analyse_two(run, groups, "ops/s", True, 1.2, "locust ≥ 1.2× tmpfs (ops/s)",
                       "create+write+close cycles per second")


def analyse_memory(run, groups):
    g, _, extra = analyse_two(run, groups, "B", False, 1.0,
                              "locust ≤ tmpfs (slab + page-cache bytes per file)",
                              "bytes per file")
    n = next((k[1] for k in groups if k[0] == "locust"), None)
    keys = ("slab", "sunreclaim", "cached", "memfree")

    def comp(fs, key):
        """(median, min, max) of one component over the measured samples."""
        raw = [s[key] for s in groups[(fs, n)][3] if not s.get("warmup")]
        return statistics.median(raw), min(raw), max(raw)

    parts = {fs: {k: comp(fs, k)[0] for k in keys} for fs in ("locust", "tmpfs")}
    ranges = {fs: {k: list(comp(fs, k)[1:]) for k in keys} for fs in ("locust", "tmpfs")}
    rows = ["| file system | total (slab + cached), B/file: median (min–max) | slab | of which "
            "unreclaimable | data pages (Cached) | MemFree drop (cross-check) |",
            "|---|---|---|---|---|---|"]
    for fs in ("locust", "tmpfs"):
        p = parts[fs]
        rows.append(f"| {'locustfs' if fs == 'locust' else fs} | {med_range(groups, fs, n)} | "
                    f"{fmt(p['slab'])} | {fmt(p['sunreclaim'])} | {fmt(p['cached'])} | "
                    f"{fmt(p['memfree'])} |")
    extra["components"] = parts
    extra["component_ranges"] = ranges
    return g, rows, extra


def analyse_throughput(run, groups):
    rows = ["| file system | write, MiB/s | read, MiB/s |", "|---|---|---|"]
    for fs in ("locust", "tmpfs"):
        rows.append(f"| {'locustfs' if fs == 'locust' else fs} | "
                    f"{med_range(groups, fs + '/write')} | {med_range(groups, fs + '/read')} |")
    rw = med(groups, "locust/write") / med(groups, "tmpfs/write")
    rr = med(groups, "locust/read") / med(groups, "tmpfs/read")
    ratio = min(rw, rr)
    best_ratio = min(best(groups, f"locust/{op}", None, True)
                     / best(groups, f"tmpfs/{op}", None, True) for op in ("write", "read"))
    spreads = [ratio_spread(groups, f"locust/{op}", f"tmpfs/{op}") for op in ("write", "read")]
    g = goal("locust ≥ 0.9× tmpfs (MiB/s, write and read)", ratio, 0.9, True,
             f"write {rw:.2f}×, read {rr:.2f}×", best_ratio,
             spread=(min(sp[0] for sp in spreads), min(sp[1] for sp in spreads)))
    return g, rows, {"write_ratio": rw, "read_ratio": rr}


def series_points(groups, series):
    pts = []
    for n in ns_of(groups, series):
        s = stats(groups[(series, n)][0])
        pts.append((float(n), s["median"], s["min"], s["max"]))
    return pts


def slope_growth(points):
    """Least-squares slope over the upper half of the x range ÷ that over the lower half
    (1.0 for a straight line; None with too few points or a non-positive lower slope)."""
    mid = points[-1][0] / 2
    lo = [p for p in points if p[0] <= mid]
    hi = [p for p in points if p[0] >= mid]
    if len(lo) < 2 or len(hi) < 2:
        return None
    b_lo, b_hi = linear_fit(lo)[1], linear_fit(hi)[1]
    return b_hi / b_lo if b_lo > 0 else None


def fit_series(groups, names):
    """Per series of NAMES: (a, b, r2) of time = a + b*N over the medians, and the slope growth
    from the lower to the upper half of N."""
    fits, growth = {}, {}
    for m in names:
        pts = [(p[0], p[1]) for p in series_points(groups, m)]
        fits[m] = linear_fit(pts)
        growth[m] = slope_growth(pts)
    return fits, growth


def fit_rows(fits, growth):
    rows = ["| fit: time = a + b·N | a, ns | b, ns per watcher | R² | slope, upper half of N "
            "÷ lower half |", "|---|---|---|---|---|"]
    for m, (a, b, r2) in fits.items():
        rows.append(f"| {m} | {fmt(a)} | {b:.2f} | {r2:.4f} | "
                    f"{'n/a' if growth[m] is None else f'{growth[m]:.2f}'} |")
    return rows


def rep_slopes(groups, m):
    """{rep: least-squares slope over N} of series M, one per repetition."""
    per_n = {n: by_rep(groups, m, n) for n in ns_of(groups, m)}
    reps = set.intersection(*(set(v) for v in per_n.values()))
    return {r: linear_fit([(float(n), per_n[n][r]) for n in per_n])[1] for r in reps}


def slope_ratio(groups, fits, a, b):
    """Slope of A ÷ slope of B: of the medians' fits, of the best samples' fits, and the
    interquartile range over the repetitions' own fits."""
    ratio = fits[a][1] / fits[b][1] if fits[b][1] > 0 else float("nan")
    bf = {m: linear_fit([(float(n), best(groups, m, n)) for n in ns_of(groups, m)])[1]
          for m in (a, b)}
    best_ratio = bf[a] / bf[b] if bf[b] > 0 else float("nan")
    sa, sb = rep_slopes(groups, a), rep_slopes(groups, b)
    spread = interquartile([sa[r] / sb[r] for r in sa if r in sb and sb[r] > 0]
                           or [float("nan")])
    return ratio, best_ratio, spread


def analyse_fanout(run, groups):
    fits, growth = fit_series(groups, ("locust", "pipe"))
    ns = ns_of(groups, "locust")
    # Per N: the ratio of the medians is the ratio of the per-watcher costs (time ÷ N).
    per_n = {n: med(groups, "locust", n) / med(groups, "pipe", n) for n in ns}
    per_n_best = {n: best(groups, "locust", n) / best(groups, "pipe", n) for n in ns}
    rows = ["| watchers N | locust, ns per write | pipe, ns per write | locust, ns per watcher "
            "| pipe, ns per watcher | locust ÷ pipe | ≤ 1.00× |",
            "|---|---|---|---|---|---|---|"]
    for n in ns:
        rows.append(f"| {n:,} | {med_range(groups, 'locust', n)} | "
                    f"{med_range(groups, 'pipe', n)} | {fmt(med(groups, 'locust', n) / n)} | "
                    f"{fmt(med(groups, 'pipe', n) / n)} | {per_n[n]:.2f}× | "
                    f"{'yes' if per_n[n] <= 1.0 else '**no**'} |")
    rows += [""] + fit_rows(fits, growth)
    worst = max(ns, key=lambda n: per_n[n])
    lg = growth["locust"]
    linear = lg is not None and lg <= 1.5
    growth_shown = {m: "n/a" if v is None else f"{v:.2f}×" for m, v in growth.items()}
    over = [n for n in ns if per_n[n] > 1.0]
    slope, _, _ = slope_ratio(groups, fits, "locust", "pipe")
    g = goal("per-watcher cost ≤ pipe's at every N (locust ÷ pipe ≤ 1.00× at each N, N = 1 "
             "up), and linear in N (slope over the upper half of N within 1.5× of the lower "
             "half's)", per_n[worst], 1.0, False,
             f"worst at N = {worst:,}; above 1.00× at "
             + (", ".join(f"N = {n:,}" for n in over) if over else "no N")
             + "; per N: " + ", ".join(f"{n:,}: {per_n[n]:.2f}×" for n in ns)
             + f"; fit slope {fits['locust'][1]:.1f} vs {fits['pipe'][1]:.1f} ns per watcher "
             f"({slope:.2f}×); locust's slope grows {growth_shown['locust']} from the lower to "
             f"the upper half of N (pipe: {growth_shown['pipe']})",
             max(per_n_best.values()), also=linear,
             spread=ratio_spread(groups, "locust", "pipe", worst))
    extra = {"fit": {m: {"a_ns": fits[m][0], "b_ns_per_watcher": fits[m][1], "r2": fits[m][2],
                         "slope_growth": growth[m]} for m in fits},
             "ratio_per_n": {str(n): per_n[n] for n in ns},
             "best_ratio_per_n": {str(n): per_n_best[n] for n in ns},
             "slope_ratio": slope, "linear": linear}
    return g, rows, extra


def queued_stats(groups, series, n):
    """(median, min, max) over the measured samples of SERIES at N of the instances queued
    after one room-making operation (each sample holds its operations' median, min and max)."""
    raw = [s for s in groups[(series, n)][3] if not s.get("warmup")]
    return (statistics.median(s["queued"] for s in raw), min(s["queued_min"] for s in raw),
            max(s["queued_max"] for s in raw))


def analyse_room(run, groups):
    names = ROOM_SERIES
    fits, growth = fit_series(groups, names)
    ns = ns_of(groups, "locust-room")
    queued = {m: {str(n): dict(zip(("median", "min", "max"), queued_stats(groups, m, n)))
                  for n in ns} for m in names}

    def q(m, n):
        v = queued[m][str(n)]
        return (count(v["median"]) if v["min"] == v["max"] else
                f"{count(v['median'])} ({count(v['min'])}–{count(v['max'])})")

    rows = []
    for excl in (False, True):
        lm, pm = ("locust-room-excl", "pipe-room-excl") if excl else ("locust-room", "pipe-room")
        rows += [f"**{'With' if excl else 'Without'} `EPOLLEXCLUSIVE`**", "",
                 "| watchers N | locust, ns per op | pipe, ns per op | locust ÷ pipe | locust, "
                 "instances queued | pipe, instances queued |", "|---|---|---|---|---|---|"]
        for n in ns:
            rows.append(f"| {n:,} | {med_range(groups, lm, n)} | {med_range(groups, pm, n)} | "
                        f"{med(groups, lm, n) / med(groups, pm, n):.2f}× | {q(lm, n)} | "
                        f"{q(pm, n)} |")
        rows.append("")
    rows += fit_rows(fits, growth)

    ratio, best_ratio, spread = slope_ratio(groups, fits, "locust-room", "pipe-room")
    g_plain = goal("without EPOLLEXCLUSIVE: locust's per-watcher cost of making room (fit "
                   "slope) ≤ pipe's", ratio, 1.0, False,
                   f"per-watcher {fits['locust-room'][1]:.1f} ns vs "
                   f"{fits['pipe-room'][1]:.1f} ns", best_ratio, spread=spread)
    top = ns[-1]
    lq = {n: queued["locust-room-excl"][str(n)] for n in ns}
    pq = {n: queued["pipe-room-excl"][str(n)] for n in ns}
    worst_q = max(v["max"] for v in lq.values())
    excl_ratio = med(groups, "locust-room-excl", top) / med(groups, "pipe-room-excl", top)
    g_excl = goal("with EPOLLEXCLUSIVE: exactly one instance queued (woken) per room-making "
                  "operation at every N, as the pipe", float(worst_q), 1.0, False,
                  "instances queued, locust (pipe) per N: "
                  + ", ".join(f"{n:,}: {count(lq[n]['median'])}"
                              + (f", max {count(lq[n]['max'])}"
                                 if lq[n]["max"] != lq[n]["median"] else "")
                              + f" ({count(pq[n]['max'])})" for n in ns)
                  + f"; cost at N = {top:,}: locust ÷ pipe {excl_ratio:.2f}×, fit slope "
                  f"{fits['locust-room-excl'][1]:.1f} vs {fits['pipe-room-excl'][1]:.1f} ns per "
                  "watcher", float(worst_q), label="EPOLLEXCLUSIVE", unit=" queued")
    why = []
    worst_median = max(v["median"] for v in lq.values())
    if worst_median > 1:
        why.append("a shrinking truncate wakes the file's queue without an event key and "
                   "without an exclusive count (a wake-all), so an EPOLLEXCLUSIVE instance's "
                   "callback cannot end the walk: every instance is queued and every sleeper "
                   "woken. The pipe's reader wakes its writers with "
                   "`wake_up_interruptible_sync_poll(&pipe->wr_wait, EPOLLOUT | EPOLLWRNORM)`, "
                   "keyed, which stops at the first exclusive instance that woke its sleeper.")
    elif worst_q > 1 or excl_ratio > 1:
        why.append("the shrinking truncate wakes with the key `EPOLLOUT | EPOLLWRNORM` and "
                   "one exclusive waiter, as the pipe's reader wakes its writers, and the "
                   "median operation queues exactly one instance. What differs is the untimed "
                   "refill: a locustfs write is a data wake-up, keyless and for every waiter "
                   "on the file's one wait queue (`EPOLLIN` is per description, "
                   "`docs/design.md`), so it also wakes every EPOLLOUT-only sleeper, which "
                   "polls, finds the file full and sleeps again, where a pipe's write wakes "
                   "only its readers' queue (`rd_wait`). `ep_poll_callback()` counts an "
                   "exclusive wake only when it woke a sleeper, so an instance whose sleeper "
                   "is not back in `epoll_wait()` when the truncate comes does not end the "
                   "walk (the operations that queued more than one); that the herd's work on "
                   "the other vCPU also explains the cost growing with N is a hypothesis, not "
                   "profiled.")
    if not g_plain["met"]:
        why.append("Without EPOLLEXCLUSIVE both wake-ups run every callback and wake every "
                   "sleeper (both keyed with EPOLLOUT); what differs per watcher is the "
                   "locustfs wait queue's walk against the pipe's `wr_wait`, and the refill's "
                   "wake-up of every sleeper (above).")
    extra = {"fit": {m: {"a_ns": fits[m][0], "b_ns_per_watcher": fits[m][1], "r2": fits[m][2],
                         "slope_growth": growth[m]} for m in fits},
             "queued": queued, "excl_ratio_at_top_n": excl_ratio,
             "why": " ".join(why) or None}
    return [g_plain, g_excl], rows, extra


def analyse_teardown(run, groups):
    ns = ns_of(groups, "locust")
    rows = ["| files N | locust, ms | tmpfs + unlink, ms | locust ÷ tmpfs | locust µs/file | "
            "tmpfs µs/file |", "|---|---|---|---|---|---|"]
    for n in ns:
        lv, tv = med(groups, "locust", n), med(groups, "tmpfs", n)
        rows.append(f"| {n:,} | {med_range(groups, 'locust', n)} | "
                    f"{med_range(groups, 'tmpfs', n)} | "
                    f"{lv / tv:.2f}× | {fmt(lv * 1000 / n)} | {fmt(tv * 1000 / n)} |")
    top = ns[-1]
    ratio = med(groups, "locust", top) / med(groups, "tmpfs", top)

    # Linear: the marginal cost of a file between the two largest N is within 1.5× of that
    # between the two N below (a fixed cost of exiting dominates the small N).
    def marginal(i, j):
        return (med(groups, "locust", ns[j]) - med(groups, "locust", ns[i])) / (ns[j] - ns[i])

    growth = None
    if len(ns) >= 3 and marginal(-3, -2) > 0:
        growth = marginal(-2, -1) / marginal(-3, -2)
    linear = growth is not None and growth <= 1.5
    g = goal(f"locust ≤ 1.1× tmpfs at N = {top:,}, linear in N", ratio, 1.1, False,
             f"marginal cost per file between N = {ns[-2]:,} and {top:,} is {growth:.2f}× that "
             f"between {ns[-3]:,} and {ns[-2]:,}" if growth is not None else
             "linearity not measurable (too few N, or no growth between the smaller N)",
             best(groups, "locust", top) / best(groups, "tmpfs", top), also=linear,
             spread=ratio_spread(groups, "locust", "tmpfs", top))
    extra = {"marginal_cost_growth": growth,
             "ratios": {str(n): med(groups, "locust", n) / med(groups, "tmpfs", n) for n in ns}}
    return g, rows, extra


BENCHES = {
    "wakeup": ("Wake-up round trip", analyse_wakeup,
               "Two processes ping-pong one message, each sleeping in `epoll_wait()` (or "
               "`poll()`) on its inbound channel. Channels, one per direction: a locustfs file "
               "(each side has its own fd on it; a write appends one byte, the reader's file "
               "position trails the size until it reads it, which is EPOLLIN), a pipe, an "
               "eventfd (8-byte counter). A sample is the mean round trip over {iters} round "
               "trips (one CPU) or {split_iters} (two CPUs), after {preroll} unmeasured ones. "
               "Primary "
               "figure: both processes pinned to CPU 0; under TCG a wake-up that crosses vCPUs "
               "waits for the other vCPU's timer tick, so the two-CPU figures mostly measure "
               "that."),
    "lifecycle": ("File lifecycle", analyse_lifecycle,
                  "`open(O_CREAT|O_EXCL)` + one {size}-byte write + `close()`, {ops} cycles "
                  "per sample, on one name. On locustfs the close removes the file; on tmpfs "
                  "an `unlink()` follows. O_EXCL makes a locustfs file that survived its last "
                  "close fail the run."),
    "fanout": ("Fan-out", analyse_fanout,
               "One file watched by N epoll instances (level-triggered EPOLLIN on one reader "
               "fd); the writer's `write()` of one byte runs every instance's wake-up "
               "callback. A sample is the median time of one write over {writes} writes, each "
               "timed on its own with its byte read back unmeasured (a pipe wakes its readers "
               "only when a write makes it non-empty, so every timed write must find it "
               "empty). No task sleeps in the instances: what is measured is the wake-up's "
               "walk over N epoll callbacks. After the last write of a sample the first, "
               "middle and last instance must report EPOLLIN. Peer: a pipe whose read end the "
               "same number of instances watch. The goal compares the per-watcher cost (time ÷ "
               "N) at each N, small N included, where the write's own cost weighs most. The "
               "dashed lines are least-squares fits."),
    "room": ("Room fan-out (EPOLLOUT watchers)", analyse_room,
             "N epoll instances watch a full channel for EPOLLOUT only (level-triggered), "
             "with `EPOLLEXCLUSIVE` or without, and a thread sleeps in `epoll_wait()` on each "
             "instance (pinned to CPU {sleeper_cpu}; an exclusive instance's callback ends the "
             "wake-up's walk only when it woke a sleeper, so without sleepers "
             "`EPOLLEXCLUSIVE` would change nothing). locustfs: a file of a mount with "
             "`-o max_file_size={room_size}`, filled to that size; the instances watch its "
             "writer fd; the timed operation is `ftruncate()` by one page. Pipe: a pipe filled "
             "to its capacity, the instances watching its write end; the timed operation is a "
             "read of one page (it frees a pipe buffer). A sample is the median time of one "
             "operation over {ops} operations. After each, untimed: `epoll_wait()` with "
             "timeout 0 on every instance counts the instances queued (whose callback the "
             "wake-up ran), the channel is refilled (`pwrite()` of the page, a write of one "
             "page), every instance is drained, and the program waits until every sleeper is "
             "asleep again (an idle-priority thread on the sleepers' CPU answers only once "
             "nothing else is runnable there). Without `EPOLLEXCLUSIVE` every instance must "
             "be queued after every operation, with it at least one, or the run fails. The "
             "dashed lines are least-squares fits."),
    "teardown": ("Exit teardown", analyse_teardown,
                 "A child creates N files and keeps them open, takes a timestamp and goes "
                 "away: on locustfs the files are all in one epoll instance and the child just "
                 "exits (the epoll instance is torn down, every last close removes its file); "
                 "on tmpfs it unlinks its N files, then exits. tmpfs files cannot be watched "
                 "(no `->poll`: `epoll_ctl()` fails with EPERM), so the peer has no epoll "
                 "teardown to do. Measured until the parent's `waitpid()` returns; the "
                 "directory must be empty then."),
    "memory": ("Memory per live file", analyse_memory,
               "N = {files} files, each created, written with {size} bytes and kept open (a "
               "locustfs file lives only while open, so the tmpfs files are kept open too). "
               "Kernel memory from `/proc/meminfo` deltas per file: Slab (inode, dentry, "
               "struct file, the file system's own per-file objects) plus Cached (the data "
               "pages); SUnreclaim is the part of slab that memory pressure cannot free. The "
               "drop of MemFree is shown as a cross-check only: per-CPU page lists and memory "
               "that earlier work frees lazily move it by megabytes. Reclaimable caches are "
               "dropped before each baseline and names are never reused."),
    "throughput": ("Throughput", analyse_throughput,
                   "Sequential {block}-byte writes of {mib} MiB into one new file, a rewind, "
                   "then sequential reads of all of it (each block's index is checked). MiB/s "
                   "for the write and for the read phase."),
}

# Why locustfs loses where it does, shown under a benchmark whose goal is not met: what its
# code path does beyond the peer's (from src/ and the 7.3 kernel).
WHY = {
    "wakeup": "a locustfs message is page-cache I/O. The write takes the inode lock, updates "
              "the file times (`file_modified()`) and goes through `generic_perform_write()` "
              "(folio lookup, copy, size update) before the wake-up; the read goes through "
              "`filemap_read()` (folio lookup, copy, atime: the `-o noatime` row shows what "
              "relatime's check and update cost). An eventfd's write and read only "
              "update a counter under its wait queue's lock, and a pipe's copy into a pipe "
              "buffer sits in between. The wake-up itself is the same kind (one epoll callback, "
              "one task woken); under TCG every extra instruction on the path is emulated.",
    "lifecycle": "creating a locustfs file allocates its `Node` and a separately reference-"
                 "counted wait queue besides the inode, and the last close removes the name "
                 "under the parent directory's lock (`start_removing_dentry()`, "
                 "`simple_unlink()`, `d_delete_notify()`): it does `unlink()`'s work inside "
                 "`close()`, so what is saved is only the `unlink()` system call and its path "
                 "walk.",
    "fanout": "both wake-ups walk one wait queue with one epoll callback per watcher. "
              "locustfs's write wakes without an event key, so epoll cannot skip watchers by "
              "event mask; here every watcher waits for EPOLLIN, so that alone does not "
              "explain a difference. At small N the write's own cost decides the ratio: a "
              "locustfs write is page-cache I/O (inode lock, `file_modified()`, "
              "`generic_perform_write()`), a pipe's a copy into a pipe buffer. Under TCG the "
              "walk's cost at large N is dominated by emulated memory accesses to N epoll "
              "items.",
    "room": "making room wakes EPOLLOUT watchers on both channels; see the figures above.",
    "teardown": "each last close takes the parent directory's lock and removes the name "
                "(`simple_unlink()` + `d_delete_notify()`), the same work as tmpfs's `unlink()` "
                "loop, and besides it tears down an epoll instance with N items (the tmpfs peer "
                "cannot have one: its files have no `->poll`) and frees each file's `Node` and "
                "wait queue (the queue after an RCU grace period).",
    "memory": "each locustfs file carries its own `Node` (open count, flags, charge) and a "
              "separately allocated, reference-counted wait queue besides the inode, dentry, "
              "struct file and data page that tmpfs also pays for.",
    "throughput": "each locustfs write takes the inode lock, and whenever the file grows past "
                  "a page boundary charges the new size to the mount under the mount-wide lock "
                  "before `generic_perform_write()` and settles it after.",
}


# ------------------------------------------------------------------------------ outputs


def environment(args, env):
    return {
        "kernel_release": env.get("kernel_release", "?"),
        "kernel_version": env.get("kernel_version", "?"),
        "kernel_flavour": args.flavour,
        "debug_checkers": env.get("debug_checkers", "") or "none",
        "clocksource": env.get("clocksource", "?"),
        "accelerator": args.accel,
        "smp": args.smp,
        "guest_cpus": int(env.get("cpus", "0") or 0),
        "guest_memory": args.mem,
        "pinning": "every program pinned to CPU 0; wakeup: both processes on CPU 0 "
                   "(primary) and parent on CPU 0 / child on CPU 1",
        "qemu": args.qemu,
        "host_cpu": args.host_cpu,
        "host_load_before_after": args.host_load,
    }


def smoke(args, runs):
    passed = failed = 0
    for name in PROGRAMS:
        run = runs[name]
        why = run.failure() or sanity(name, run)
        if why:
            failed += 1
            print(f"not ok {name}: {why}")
        else:
            passed += 1
            print(f"ok {name}: {len(run.samples)} samples in "
                  f"{len({s['series'] for s in run.samples})} series, {run.seconds:.1f} s")
    if args.guest_status != 0 and failed == 0:
        failed += 1
        print(f"not ok guest: the guest run ended with status {args.guest_status}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def write_results(args, runs, env):
    os.makedirs(args.results, exist_ok=True)
    envd = environment(args, env)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    summary, sections, problems = [], [], []
    for name in PROGRAMS:
        run = runs[name]
        title, analyse, method = BENCHES[name]
        why = run.failure() or sanity(name, run)
        if why:
            problems.append(f"`{name}`: {why}")
            summary.append(f"| {title} | — | not measured: {why} | | |")
            continue
        groups = run.groups()
        goals, rows, extra = analyse(run, groups)
        goals = goals if isinstance(goals, list) else [goals]
        g = goals[0]
        loses = extra.pop("why", None) or WHY[name]
        series = {}
        for (s, n), (vals, warm, unit, _) in sorted(groups.items(),
                                                    key=lambda kv: (kv[0][0], kv[0][1] or 0)):
            series.setdefault(s, {"unit": unit, "points": []})["points"].append(
                dict(n=n, samples=vals, warmup_samples=warm, **stats(vals)))
        result = {
            "bench": name, "title": title, "mode": args.mode, "generated": stamp,
            "environment": envd, "params": run.params, "goal": g, "goals": goals,
            "summary": extra,
            "series": series,
            "run": {"seconds": run.seconds, "exit": run.exit, "leftovers": run.check},
        }
        with open(os.path.join(args.results, name + ".json"), "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1, sort_keys=False)
            f.write("\n")
        svg, _ = plots.save(result, os.path.join(args.results, name))
        rel = os.path.relpath(svg, os.path.dirname(os.path.abspath(args.doc)))
        text = [f"## {title}", "", method.format(**run.params), ""]
        for gl in goals:
            verdict = "**met**" if gl["met"] else "**not met**"
            if gl["uncertain"]:
                verdict += " (uncertain)"
            label = f", {gl['label']}" if gl.get("label") else ""
            summary.append(f"| {title}{label} | {gl['text']} | {shown(gl)} "
                           f"{('(' + gl['detail'] + ')') if gl['detail'] else ''} | "
                           f"{shown(gl, 'best_ratio')} | {verdict} |")
            text += [f"Goal{label}: {gl['text']}. Measured: {shown(gl)}"
                     f"{' (' + gl['detail'] + ')' if gl['detail'] else ''} — {verdict}. From "
                     f"the best samples (least disturbed): {shown(gl, 'best_ratio')}.", ""]
            if gl["uncertain"]:
                lo, hi = gl["ratio_interquartile_spread"] or (0, 0)
                text += ["This verdict is not robust: "
                         + (f"the ratio of each repetition's back-to-back samples has an "
                            f"interquartile range of {lo:.2f}×–{hi:.2f}×, which includes the "
                            "limit. " if gl["limit_inside_spread"] else "")
                         + ("The best samples give the opposite verdict, so the medians were "
                            "moved by other work on the host (see the load average above). "
                            if gl["met"] != gl["met_by_best_samples"] else "")
                         + "Rerun `make bench` on an idle host to settle it.", ""]
        if not all(gl["met"] for gl in goals):
            text += [f"Where locustfs loses: {loses}", ""]
        raw_rel = os.path.relpath(os.path.join(args.results, name + ".json"),
                                  os.path.dirname(os.path.abspath(args.doc)))
        text += rows + ["", f"![{title}]({rel})", "",
                        f"Raw samples: [`{raw_rel}`]({raw_rel}); "
                        f"{run.params.get('reps')} measured repetitions after "
                        f"{run.params.get('warmup')} discarded warm-up; the program ran "
                        f"{run.seconds:.0f} s.", ""]
        sections.append("\n".join(text))
    if args.guest_status != 0:
        problems.append(f"the guest run ended with status {args.guest_status} (see the log of "
                        "`scripts/bench.sh`)")
    doc = [
        "# locustfs benchmarks",
        "",
        f"Generated by `make bench` (`scripts/bench.sh`, {args.mode} run) on {stamp}; the run "
        f"took {args.seconds / 60:.1f} min. Do not edit: rerun `make bench` instead. Raw "
        "samples, medians and the environment of each benchmark are in `bench/results/*.json`.",
        "",
        "Every figure below comes from one boot of the perf guest kernel (no KASAN, lockdep, "
        "kmemleak or UBSAN; the guest checks and refuses otherwise), with locustfs and its peer "
        "measured in the same boot, each benchmark's series interleaved repetition by "
        "repetition. Tables give the median of the measured repetitions and their min–max; "
        "the first repetition of every series is a warm-up and is left out. Goals are judged "
        "on medians. The \"best ÷ best\" column compares the least disturbed samples (the "
        "fastest time, the highest rate): other work on the host only ever adds time to a "
        "guest's sample, so where medians and best samples disagree, the host was busy and "
        "the best samples are the better estimate of locustfs's own cost. A verdict marked "
        "\"(uncertain)\" is one that the best samples contradict, or whose limit lies inside "
        "the interquartile range of the per-repetition ratios.",
        "",
        "| | |",
        "|---|---|",
        f"| guest kernel | {envd['kernel_release']} ({envd['kernel_flavour']} build), "
        f"`{envd['kernel_version']}` |",
        f"| debug checkers | {envd['debug_checkers']} |",
        f"| guest clocksource | {envd['clocksource']} (booted with `tsc_early_khz=` the host's "
        "TSC frequency: without ACPI the guest cannot calibrate its TSC and would fall back "
        "to the 1 ms refined-jiffies clock) |",
        f"| accelerator | **{args.accel.upper()}**"
        + (" (no KVM here: every instruction is emulated; absolute figures are 10–100× slower "
           "than on hardware, ratios are what the goals are about)" if args.accel == "tcg" else "")
        + " |",
        f"| vCPUs (smp) | {args.smp} |",
        f"| guest memory | {args.mem} |",
        f"| pinning | {envd['pinning']} |",
        "| mounts | locustfs `-o size=768m`; for the wake-up's locust-noatime series "
        "`-o size=768m,noatime`; for the room fan-out `-o size=64m,max_file_size=4096`; tmpfs "
        "`-o size=768m` |",
        f"| host | {args.host_cpu}; {args.qemu} |",
        f"| host load average (1 min) | {' before the run, '.join(args.host_load.split()) or '?'}"
        " after it (the host has 2 cores; QEMU's TCG uses one thread per vCPU, so anything "
        "above 2 means the guest competed with other work) |",
        "",
        "## Summary",
        "",
        "| benchmark | goal | measured: locust ÷ peer, medians | best ÷ best | verdict |",
        "|---|---|---|---|---|",
        *summary,
        "",
    ]
    if problems:
        doc += ["## Problems in this run", ""] + [f"- {p}" for p in problems] + [""]
    doc += sections
    profile_text = profile.section(args.raw)
    if profile_text:
        doc += [profile_text]
    os.makedirs(os.path.dirname(os.path.abspath(args.doc)), exist_ok=True)
    with open(args.doc, "w", encoding="utf-8") as f:
        f.write("\n".join(doc).rstrip() + "\n")
    for line in summary:
        print(line)
    return 1 if problems else 0


def replot(args):
    """Draws the charts again from the results already in RESULTS."""
    drawn = 0
    for name in PROGRAMS:
        path = os.path.join(args.results, name + ".json")
        if not os.path.exists(path):
            print(f"{name}: no {path}, nothing to draw")
            continue
        with open(path, encoding="utf-8") as f:
            result = json.load(f)
        print(f"{name}: " + ", ".join(plots.save(result, os.path.join(args.results, name))))
        drawn += 1
    return 0 if drawn else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--raw", help="the guest's raw output (all modes but replot)")
    ap.add_argument("--mode", choices=["smoke", "quick", "full", "replot"], required=True)
    ap.add_argument("--results", default="bench/results")
    ap.add_argument("--doc", default="docs/benchmarks.md")
    ap.add_argument("--accel", default="tcg")
    ap.add_argument("--smp", type=int, default=2)
    ap.add_argument("--mem", default="2G")
    ap.add_argument("--flavour", default="perf")
    ap.add_argument("--qemu", default="")
    ap.add_argument("--host-cpu", default="")
    ap.add_argument("--host-load", default="", help="host load average before and after")
    ap.add_argument("--seconds", type=float, default=0.0, help="wall time of the whole run")
    ap.add_argument("--guest-status", type=int, default=0)
    args = ap.parse_args()
    if args.mode == "replot":
        return replot(args)
    if not args.raw:
        ap.error(f"--mode {args.mode} needs --raw DIR")
    runs = {name: Run(args.raw, name) for name in PROGRAMS}
    if args.mode == "smoke":
        return smoke(args, runs)
    return write_results(args, runs, read_env(os.path.join(args.raw, "guest.env")))


if __name__ == "__main__":
    sys.exit(main())
