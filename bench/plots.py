# SPDX-License-Identifier: GPL-2.0
"""The benchmark charts, drawn with matplotlib from a benchmark's result.

A result is what report.py writes to bench/results/NAME.json: medians, minima and maxima per
series and N, the fits and components in its summary, the parameters and the environment.
save(result, stem) draws the chart of result["bench"] into STEM.svg and STEM.png, so the
charts of a past run can be drawn again from its JSON alone (report.py --mode replot).
"""

import matplotlib
from matplotlib.figure import Figure  # drawn without pyplot: no display, no global state
from matplotlib.ticker import FuncFormatter

# The same SVG for the same result: fixed element ids, no creation date.
matplotlib.rcParams["svg.hashsalt"] = "locustfs-bench"
# Text stays text in the SVG (small, searchable), drawn in the viewer's sans-serif font.
matplotlib.rcParams["svg.fonttype"] = "none"
matplotlib.rcParams["font.size"] = 10

PANEL_SIZE = (5.4, 3.8)  # inches per panel
PNG_DPI = 150


def short_number(v, _pos=None):
    """An axis tick label: 3M, 14,000, 2.5."""
    if abs(v) >= 1e6:
        return f"{v / 1e6:g}M"
    if abs(v) >= 1e3:
        return f"{v:,.0f}"
    return f"{v:g}"


def value_label(v):
    """A median written on its bar: 11,030, 884.3, 94.17."""
    if abs(v) >= 1e3:
        return f"{v:,.0f}"
    return f"{v:.4g}"


TICKS = FuncFormatter(short_number)


# ------------------------------------------------------------------------------ result access


def point(result, series, n=None):
    """(median, min, max) of SERIES at N, or None if the result has no such point."""
    for p in result["series"].get(series, {}).get("points", []):
        if p["n"] == n:
            return p["median"], p["min"], p["max"]
    return None


def points(result, series):
    """[(N, median, min, max)] of SERIES, by N."""
    return sorted((float(p["n"]), p["median"], p["min"], p["max"])
                  for p in result["series"].get(series, {}).get("points", [])
                  if p["n"] is not None)


def first_n(result, series):
    """The N of SERIES's first point (None for series measured without one)."""
    pts = result["series"].get(series, {}).get("points", [])
    return pts[0]["n"] if pts else None


# ------------------------------------------------------------------------------ panels


def bar_panel(ax, title, ylabel, names, groups):
    """Grouped bars with min-max whiskers. GROUPS: [(label, [(median, min, max) or None, one
    per name in NAMES])]."""
    width = 0.8 / max(len(names), 1)
    for si, name in enumerate(names):
        xs, meds, errs = [], [], [[], []]
        for gi, (_, vals) in enumerate(groups):
            v = vals[si]
            if v is None:
                continue
            med, lo, hi = v
            xs.append(gi - 0.4 + width * (si + 0.5))
            meds.append(med)
            errs[0].append(max(med - lo, 0.0))
            errs[1].append(max(hi - med, 0.0))
        bars = ax.bar(xs, meds, width * 0.9, yerr=errs, capsize=3, label=name,
                      color=f"C{si}", error_kw={"elinewidth": 1, "ecolor": "black"})
        # The median, written inside its bar: above it are the whisker and the legend.
        ax.bar_label(bars, labels=[value_label(m) for m in meds], label_type="center",
                     color="white", fontsize=8, fontweight="bold")
    ax.set_xticks(range(len(groups)), [label for label, _ in groups])
    if not any(label for label, _ in groups):
        ax.tick_params(axis="x", bottom=False)
    ax.set_ylim(bottom=0)
    ax.margins(y=0.05)
    ax.yaxis.set_major_formatter(TICKS)
    ax.grid(axis="y", color="#ddd")
    ax.set_axisbelow(True)
    ax.set_ylabel(ylabel)
    title_and_legend(ax, title, len(names))


def title_and_legend(ax, title, columns):
    """The title, with the legend in one row between it and the plot area."""
    ax.set_title(title, fontweight="bold", pad=22)
    ax.legend(fontsize=8, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=columns,
              frameon=False, borderaxespad=0.2)


def line_panel(ax, title, xlabel, ylabel, lines, log=False, markers="o"):
    """One line per series through the medians, min-max error bars, optional dashed fits.
    LINES: [(name, [(x, median, min, max)], (a, b) for y = a + b*x, or None)]. MARKERS: one
    marker per line, in turn (distinct markers keep lines that coincide visible)."""
    for si, (name, pts, fit) in enumerate(lines):
        colour = f"C{si}"
        marker = markers[si % len(markers)]
        xs = [p[0] for p in pts]
        meds = [p[1] for p in pts]
        errs = [[max(p[1] - p[2], 0.0) for p in pts], [max(p[3] - p[1], 0.0) for p in pts]]
        ax.errorbar(xs, meds, yerr=errs, color=colour, marker=marker,
                    markersize=4 if marker == "o" else 6, linewidth=2,
                    capsize=2, elinewidth=1, label=name)
        if fit and xs:
            a, b = fit
            fx = [min(xs), max(xs)]
            ax.plot(fx, [a + b * x for x in fx], color=colour, linestyle="--", linewidth=1,
                    alpha=0.8, label=f"{name}: fit {a:,.0f} + {b:,.1f}·N")
    if log:
        ax.set_xscale("log")
        ax.set_yscale("log")
    else:
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
        ax.xaxis.set_major_formatter(TICKS)
        ax.yaxis.set_major_formatter(TICKS)
    ax.grid(color="#ddd", which="major")
    ax.set_axisbelow(True)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(title, fontweight="bold")


# ------------------------------------------------------------------------------ per benchmark


def draw_wakeup(result, axes):
    for ax, pin in zip(axes, wakeup_pins(result)):
        channels = ["locust", "pipe", "eventfd"]
        # The noatime mount is measured with epoll on one CPU only: its bar is in that group,
        # last, so that the other channels keep their colours in both panels.
        if pin == "same" and "locust-noatime/epoll/same" in result["series"]:
            channels.append("locust-noatime")
        bar_panel(ax, "Round trip, " + ("both on CPU 0" if pin == "same" else "CPU 0 ↔ CPU 1"),
                  "µs per round trip (median, min–max)", channels,
                  [(w, [point(result, f"{m}/{w}/{pin}") for m in channels])
                   for w in ("epoll", "poll")])


def wakeup_pins(result):
    return ["same", "split"] if "eventfd/epoll/split" in result["series"] else ["same"]


def draw_lifecycle(result, axes):
    n = first_n(result, "locust")
    size = result["params"].get("size", 4096)
    bar_panel(axes[0], f"Lifecycle ({size / 1024:g} KiB files)",
              "create+write+close cycles per second", ["locust", "tmpfs"],
              [("", [point(result, "locust", n), point(result, "tmpfs", n)])])


def draw_memory(result, axes):
    n = first_n(result, "locust")
    summary = result.get("summary", {})
    medians = summary.get("components", {})
    ranges = summary.get("component_ranges", {})

    def component(fs, key):
        # Results written before component ranges were kept have medians only.
        med = medians.get(fs, {}).get(key)
        if med is None:
            return None
        lo, hi = ranges.get(fs, {}).get(key, (med, med))
        return med, lo, hi

    fss = ["locust", "tmpfs"]
    bar_panel(axes[0], f"Memory per live file (N = {n:,}, {result['params'].get('size')} B each)",
              "bytes per file (median, min–max)", fss,
              [("slab + cached", [point(result, fs, n) for fs in fss]),
               ("slab", [component(fs, "slab") for fs in fss]),
               ("cached (data)", [component(fs, "cached") for fs in fss])])


def draw_throughput(result, axes):
    params = result["params"]
    bar_panel(axes[0], f"Sequential {params.get('mib', '?')} MiB, "
                       f"{params.get('block', 0) // 1024} KiB blocks", "MiB/s",
              ["locust", "tmpfs"],
              [(op, [point(result, f"locust/{op}"), point(result, f"tmpfs/{op}")])
               for op in ("write", "read")])


def draw_fanout(result, axes):
    fits = result.get("summary", {}).get("fit", {})

    def fit(m):
        f = fits.get(m)
        return (f["a_ns"], f["b_ns_per_watcher"]) if f else None

    line_panel(axes[0], "One write's cost with N epoll watchers", "epoll instances watching (N)",
               "ns per write (median, min–max)",
               [(m, points(result, m), fit(m)) for m in ("locust", "pipe")])


ROOM_SERIES = ["locust-room", "pipe-room", "locust-room-excl", "pipe-room-excl"]


def draw_room(result, axes):
    summary = result.get("summary", {})
    fits = summary.get("fit", {})

    def fit(m):
        f = fits.get(m)
        return (f["a_ns"], f["b_ns_per_watcher"]) if f else None

    line_panel(axes[0], "Making room for N EPOLLOUT watchers", "epoll instances watching (N)",
               "ns per room-making operation (median, min–max)",
               [(m, points(result, m), fit(m)) for m in ROOM_SERIES], markers="osD^")
    queued = summary.get("queued", {})
    line_panel(axes[1], "Instances queued per operation", "epoll instances watching (N, log)",
               "instances queued (median, min–max; log)",
               [(m, sorted((float(n), v["median"], v["min"], v["max"])
                           for n, v in queued.get(m, {}).items()), None)
                for m in ROOM_SERIES], log=True, markers="osD^")


def draw_teardown(result, axes):
    line_panel(axes[0], "Exit teardown of N open files", "files N (log)", "ms until gone (log)",
               [(m, points(result, m), None) for m in ("locust", "tmpfs")], log=True)


# NAME: (function drawing its panels, number of panels).
CHARTS = {
    "wakeup": (draw_wakeup, lambda r: len(wakeup_pins(r))),
    "lifecycle": (draw_lifecycle, lambda r: 1),
    "memory": (draw_memory, lambda r: 1),
    "throughput": (draw_throughput, lambda r: 1),
    "fanout": (draw_fanout, lambda r: 1),
    "room": (draw_room, lambda r: 2),
    "teardown": (draw_teardown, lambda r: 1),
}


# ------------------------------------------------------------------------------ figures


def caption(result):
    """Where and when the figures were measured."""
    env = result["environment"]
    return (f"{env['kernel_release']}, {env['accelerator'].upper()}, smp {env['smp']}, "
            f"{result['mode']} run, {result['generated']}")


def figure(result):
    """The chart of one result, as a matplotlib Figure."""
    draw, panels = CHARTS[result["bench"]]
    n = panels(result)
    fig = Figure(figsize=(PANEL_SIZE[0] * n, PANEL_SIZE[1] + 0.3), layout="constrained")
    axes = fig.subplots(1, n, squeeze=False)[0]
    draw(result, axes)
    fig.supxlabel(caption(result), x=0.01, ha="left", fontsize=8, color="#555")
    return fig


def save(result, stem):
    """Writes the chart of RESULT to STEM.svg and STEM.png; returns both paths."""
    fig = figure(result)
    svg, png = stem + ".svg", stem + ".png"
    fig.savefig(svg, format="svg", metadata={"Date": None})
    fig.savefig(png, format="png", dpi=PNG_DPI)
    return svg, png
