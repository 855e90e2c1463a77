#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turns the function profiles of one benchmark guest run into a Markdown breakdown.

    profile.py --raw DIR [--out FILE]

DIR holds what bench/guest.sh wrote: profile.env ("round_trips=N writes=N fanout_n=N") and
profile-SERIES.txt, a copy of ftrace's trace_stat/function0 for one series run alone on CPU 0
with the function profiler on (self times: graph-time and sleep-time off). Writes the section
to FILE (default: standard output). report.py includes the same section in docs/benchmarks.md
for quick and full runs.

Every figure is per operation (a round trip, or one write to a file with N watchers) and in
microseconds of the profiled kernel: the profiler's own cost inflates them all, so only the
comparisons between channels, and the shares within one, mean something.
"""

import argparse
import os
import re
import sys

# "  ep_poll_callback   4003    1234.567 us     0.308 us    ..." (the name may carry "[module]").
LINE = re.compile(r"^\s*(?P<name>\S.*?)\s+(?P<hit>\d+)\s+(?P<time>[\d.]+) us\s")
TOP = 20


def read_env(path):
    """Returns the key=value words of PATH."""
    with open(path, encoding="utf-8") as f:
        return dict(word.split("=", 1) for word in f.read().split() if "=" in word)


def read_profile(path):
    """Returns {function: (hits, self time in µs)} from one trace_stat/function file."""
    funcs = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = LINE.match(line)
            if m:
                funcs[m["name"]] = (int(m["hit"]), float(m["time"]))
    return funcs


def per_op(funcs, ops):
    """Returns {function: (calls per op, µs per op)}."""
    return {name: (hit / ops, t / ops) for name, (hit, t) in funcs.items()}


def total(prof):
    return sum(t for _, t in prof.values())


def fmt(v):
    return f"{v:.3g}" if v < 100 else f"{v:.0f}"


def compare(title, op, subject, peers, ops):
    """Returns Markdown comparing SUBJECT's profile with each of PEERS ({name: funcs})."""
    subj = per_op(subject[1], ops)
    others = {name: per_op(funcs, ops) for name, funcs in peers.items()}
    lines = [f"### {title}", ""]
    head = f"| | {subject[0]} | " + " | ".join(others) + " |"
    lines += [head, "|" + " --- |" * (len(others) + 2)]
    lines.append(f"| traced self time per {op}, µs | {fmt(total(subj))} | "
                 + " | ".join(fmt(total(p)) for p in others.values()) + " |")
    lines.append(f"| function calls per {op} | {fmt(sum(c for c, _ in subj.values()))} | "
                 + " | ".join(fmt(sum(c for c, _ in p.values())) for p in others.values())
                 + " |")
    lines.append(f"| distinct functions | {len(subj)} | "
                 + " | ".join(str(len(p)) for p in others.values()) + " |")
    lines.append("")

    subj_total = total(subj) or 1.0
    lines += [f"The {TOP} functions where {subject[0]} spends most self time, per {op} "
              f"(µs, calls), and the same functions in the peers':", ""]
    lines.append(f"| function | {subject[0]} µs | share | calls | "
                 + " | ".join(f"{n} µs" for n in others) + " |")
    lines.append("| --- | --- | --- | --- |" + " --- |" * len(others))
    for name, (calls, t) in sorted(subj.items(), key=lambda kv: -kv[1][1])[:TOP]:
        peer_cells = [fmt(p[name][1]) if name in p else "—" for p in others.values()]
        lines.append(f"| `{name}` | {fmt(t)} | {100 * t / subj_total:.1f} % | {fmt(calls)} | "
                     + " | ".join(peer_cells) + " |")
    lines.append("")

    for peer, prof in others.items():
        only = {n: v for n, v in subj.items() if n not in prof}
        share = 100 * total(only) / subj_total
        lines += [f"Functions {subject[0]} runs and {peer} does not: {len(only)}, "
                  f"{fmt(total(only))} µs per {op}, {share:.1f} % of {subject[0]}'s self time. "
                  f"The largest:", ""]
        lines += ["| function | µs | share | calls |", "| --- | --- | --- | --- |"]
        for name, (calls, t) in sorted(only.items(), key=lambda kv: -kv[1][1])[:TOP]:
            lines.append(f"| `{name}` | {fmt(t)} | {100 * t / subj_total:.1f} % | "
                         f"{fmt(calls)} |")
        lines.append("")
    return lines


def section(raw):
    """Returns the Markdown breakdown of the profiles in RAW, or None if there are none."""
    env_path = os.path.join(raw, "profile.env")
    if not os.path.exists(env_path):
        return None
    env = read_env(env_path)
    profs = {}
    for series in ["wakeup-locust", "wakeup-pipe", "wakeup-eventfd", "fanout-locust",
                   "fanout-pipe"]:
        path = os.path.join(raw, f"profile-{series}.txt")
        if os.path.exists(path):
            profs[series] = read_profile(path)
    lines = ["## Where the time goes: function profiles", "",
             "Each series ran alone on CPU 0 with ftrace's function profiler on (`CONFIG_"
             "FUNCTION_PROFILER` with the function graph tracer, compiled into the perf kernel "
             "and off during the measurements above; `graph-time` off, so a function's time is "
             "its own and not its callees'; `sleep-time` off). The profiler's cost inflates "
             "every figure, and under TCG the cost of tracing a call lands in its caller's self "
             "time, so self time grows with the calls a function makes: compare channels, call "
             "counts and shares, not absolute times. Module functions carry `[locustfs]`; Rust "
             "functions inlined into their callers do not appear.", ""]
    trips = int(env.get("round_trips", "1"))
    writes = int(env.get("writes", "1"))
    if "wakeup-locust" in profs:
        peers = {m: profs[f"wakeup-{m}"] for m in ("pipe", "eventfd")
                 if f"wakeup-{m}" in profs}
        lines += compare(f"Wake-up round trip (epoll, one CPU, {trips} round trips)",
                         "round trip", ("locust", profs["wakeup-locust"]), peers, trips)
    if "fanout-locust" in profs and "fanout-pipe" in profs:
        lines += compare(f"Fan-out: one write, N = {env.get('fanout_n', '?')} epoll watchers "
                         f"({writes} writes)", "write", ("locust", profs["fanout-locust"]),
                         {"pipe": profs["fanout-pipe"]}, writes)
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--raw", required=True, help="the guest's output directory")
    ap.add_argument("--out", help="where to write the Markdown (default: standard output)")
    args = ap.parse_args()
    text = section(args.raw)
    if text is None:
        sys.exit(f"profile.py: no profile.env in {args.raw}")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
