# SPDX-License-Identifier: GPL-2.0
"""Minimal SVG charts for the benchmark report (standard library only).

A Figure holds one or more panels side by side; a panel is a BarPanel (groups of bars with
min-max whiskers) or a LinePanel (numeric x, linear or log axes, one line per series, optional
fitted lines). Figure.svg() returns the document as a string.
"""

import math
from xml.sax.saxutils import escape

COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
FONT = 'font-family="sans-serif"'


def fmt_num(v):
    """A short label for an axis tick."""
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:g}M"
    if a >= 1e4:
        return f"{v / 1e3:g}k"
    if a >= 1:
        return f"{v:g}"
    return f"{v:.3g}"


def nice_ticks(lo, hi, count=5):
    """Round tick values covering [lo, hi]."""
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    t = start
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 12))
        t += step
    if ticks[-1] < hi:
        ticks.append(ticks[-1] + step)
    return ticks


def log_ticks(lo, hi):
    """Powers of ten covering [lo, hi] (lo > 0)."""
    a = math.floor(math.log10(lo))
    b = math.ceil(math.log10(hi))
    if a == b:
        b += 1
    return [10.0**e for e in range(a, b + 1)]


class Axis:
    """Maps data values to pixels along one axis."""

    def __init__(self, lo, hi, p0, p1, log=False):
        self.log = log
        if log:
            self.ticks = log_ticks(lo, hi)
        else:
            self.ticks = nice_ticks(min(lo, 0.0) if lo >= 0 else lo, hi)
        self.lo, self.hi = self.ticks[0], self.ticks[-1]
        self.p0, self.p1 = p0, p1

    def __call__(self, v):
        if self.log:
            v = max(v, self.lo)
            f = (math.log10(v) - math.log10(self.lo)) / (math.log10(self.hi) - math.log10(self.lo))
        else:
            f = (v - self.lo) / (self.hi - self.lo)
        return self.p0 + f * (self.p1 - self.p0)


class Panel:
    """Common frame: title, y axis label, plot area inside (x, y, w, h)."""

    def __init__(self, title, ylabel, log_y=False):
        self.title = title
        self.ylabel = ylabel
        self.log_y = log_y

    def frame(self, out, x, y, w, h, yaxis):
        out.append(f'<text x="{x + w / 2:.1f}" y="{y - 26:.1f}" text-anchor="middle" '
                   f'font-size="14" font-weight="bold" {FONT}>{escape(self.title)}</text>')
        for t in yaxis.ticks:
            py = yaxis(t)
            out.append(f'<line x1="{x}" y1="{py:.1f}" x2="{x + w}" y2="{py:.1f}" '
                       'stroke="#ddd" stroke-width="1"/>')
            out.append(f'<text x="{x - 6}" y="{py + 4:.1f}" text-anchor="end" font-size="11" '
                       f'{FONT}>{fmt_num(t)}</text>')
        out.append(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="none" '
                   'stroke="#444" stroke-width="1"/>')
        cx, cy = x - 48, y + h / 2
        out.append(f'<text x="{cx}" y="{cy:.1f}" text-anchor="middle" font-size="12" {FONT} '
                   f'transform="rotate(-90 {cx} {cy:.1f})">{escape(self.ylabel)}</text>')

    @staticmethod
    def legend(out, x, y, names):
        """One row of coloured keys starting at (x, y), above the plot area."""
        for i, name in enumerate(names):
            colour = COLOURS[i % len(COLOURS)]
            out.append(f'<rect x="{x}" y="{y - 9}" width="12" height="10" fill="{colour}"/>')
            out.append(f'<text x="{x + 17}" y="{y}" font-size="11" {FONT}>{escape(name)}</text>')
            x += 17 + 7 * len(name) + 16


class BarPanel(Panel):
    """groups: [(label, [(series, median, lo, hi) or None, ...])], series names in order."""

    def __init__(self, title, ylabel, series, groups):
        super().__init__(title, ylabel)
        self.series = series
        self.groups = groups

    def draw(self, out, x, y, w, h):
        top = max((v[3] for _, vals in self.groups for v in vals if v), default=1.0)
        yaxis = Axis(0.0, top * 1.05, y + h, y)
        self.frame(out, x, y, w, h, yaxis)
        gw = w / max(len(self.groups), 1)
        bw = gw * 0.8 / max(len(self.series), 1)
        for gi, (label, vals) in enumerate(self.groups):
            gx = x + gi * gw + gw * 0.1
            for si, v in enumerate(vals):
                if not v:
                    continue
                _, med, lo, hi = v
                bx = gx + si * bw
                py = yaxis(med)
                colour = COLOURS[si % len(COLOURS)]
                out.append(f'<rect x="{bx:.1f}" y="{py:.1f}" width="{bw * 0.9:.1f}" '
                           f'height="{y + h - py:.1f}" fill="{colour}"/>')
                mx = bx + bw * 0.45
                out.append(f'<line x1="{mx:.1f}" y1="{yaxis(lo):.1f}" x2="{mx:.1f}" '
                           f'y2="{yaxis(hi):.1f}" stroke="#000" stroke-width="1"/>')
                for e in (lo, hi):
                    out.append(f'<line x1="{mx - 3:.1f}" y1="{yaxis(e):.1f}" x2="{mx + 3:.1f}" '
                               f'y2="{yaxis(e):.1f}" stroke="#000" stroke-width="1"/>')
            out.append(f'<text x="{x + gi * gw + gw / 2:.1f}" y="{y + h + 16}" '
                       f'text-anchor="middle" font-size="11" {FONT}>{escape(label)}</text>')
        self.legend(out, x, y - 8, self.series)


class LinePanel(Panel):
    """lines: [(series, [(x, median, lo, hi), ...], fit or None)], fit = (a, b): y = a + b*x."""

    def __init__(self, title, xlabel, ylabel, lines, log_x=False, log_y=False):
        super().__init__(title, ylabel, log_y)
        self.xlabel = xlabel
        self.lines = lines
        self.log_x = log_x

    def draw(self, out, x, y, w, h):
        pts = [p for _, ps, _ in self.lines for p in ps]
        xs = [p[0] for p in pts] or [1.0]
        ylo = min((p[2] for p in pts), default=1.0)
        yhi = max((p[3] for p in pts), default=1.0)
        xaxis = Axis(min(xs) if self.log_x else 0.0, max(xs), x, x + w, self.log_x)
        yaxis = Axis(ylo if self.log_y else 0.0, yhi * (1.0 if self.log_y else 1.05),
                     y + h, y, self.log_y)
        self.frame(out, x, y, w, h, yaxis)
        for t in xaxis.ticks:
            px = xaxis(t)
            out.append(f'<line x1="{px:.1f}" y1="{y + h}" x2="{px:.1f}" y2="{y + h + 4}" '
                       'stroke="#444"/>')
            out.append(f'<text x="{px:.1f}" y="{y + h + 16}" text-anchor="middle" font-size="11" '
                       f'{FONT}>{fmt_num(t)}</text>')
        out.append(f'<text x="{x + w / 2:.1f}" y="{y + h + 34}" text-anchor="middle" '
                   f'font-size="12" {FONT}>{escape(self.xlabel)}</text>')
        for si, (_, ps, fit) in enumerate(self.lines):
            colour = COLOURS[si % len(COLOURS)]
            ps = sorted(ps)
            path = " ".join(f"{xaxis(p[0]):.1f},{yaxis(p[1]):.1f}" for p in ps)
            if fit:
                a, b = fit
                fx = [xaxis.lo + (xaxis.hi - xaxis.lo) * i / 50 for i in range(51)]
                fpath = " ".join(f"{xaxis(v):.1f},{yaxis(a + b * v):.1f}" for v in fx
                                 if a + b * v > 0 or not self.log_y)
                out.append(f'<polyline points="{fpath}" fill="none" stroke="{colour}" '
                           'stroke-width="1" stroke-dasharray="4 3" opacity="0.8"/>')
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                       'stroke-width="2"/>')
            for px, med, lo, hi in ps:
                cx = xaxis(px)
                out.append(f'<line x1="{cx:.1f}" y1="{yaxis(lo):.1f}" x2="{cx:.1f}" '
                           f'y2="{yaxis(hi):.1f}" stroke="{colour}" stroke-width="1"/>')
                out.append(f'<circle cx="{cx:.1f}" cy="{yaxis(med):.1f}" r="3" '
                           f'fill="{colour}"/>')
        self.legend(out, x, y - 8, [name for name, _, _ in self.lines])


class Figure:
    """Panels side by side, each PANEL_W x PANEL_H pixels of plot area."""

    PANEL_W, PANEL_H = 380, 260
    LEFT, TOP, BOTTOM, GAP = 70, 50, 50, 80

    def __init__(self, panels, caption=""):
        self.panels = panels
        self.caption = caption

    def svg(self):
        n = len(self.panels)
        width = self.LEFT + n * self.PANEL_W + (n - 1) * self.GAP + 20
        height = self.TOP + self.PANEL_H + self.BOTTOM + (18 if self.caption else 0)
        out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
               f'viewBox="0 0 {width} {height}">',
               f'<rect width="{width}" height="{height}" fill="#fff"/>']
        for i, p in enumerate(self.panels):
            p.draw(out, self.LEFT + i * (self.PANEL_W + self.GAP), self.TOP, self.PANEL_W,
                   self.PANEL_H)
        if self.caption:
            out.append(f'<text x="10" y="{height - 6}" font-size="11" fill="#555" {FONT}>'
                       f'{escape(self.caption)}</text>')
        out.append("</svg>")
        return "\n".join(out) + "\n"
