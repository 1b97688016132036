"""Small inline-SVG charts for the recall report (no plotting library, no external assets): interval
(forest) plots, grouped horizontal bars, and a line with an interval band."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#2563eb", "#f97316", "#16a34a", "#9333ea", "#dc2626", "#0891b2")
GREY = "#6b7280"
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


@dataclass(frozen=True)
class Interval:
    """One row of a forest plot: an estimate with its 95% interval, optionally a second (CUPED) one."""

    label: str
    estimate: float
    low: float
    high: float
    adjusted: tuple[float, float, float] | None = None  # estimate, low, high
    warning: str = ""  # shown after the label, e.g. "SRM" or "small"
    truth: float | None = None  # a simulation's true effect, drawn as a black diamond


def _finite(values: Sequence[float]) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def _scale(lo: float, hi: float, start: float, end: float) -> Callable[[float], float]:
    if hi <= lo:
        lo, hi = lo - 1.0, hi + 1.0
    pad = (hi - lo) * 0.05
    lo, hi = lo - pad, hi + pad
    return lambda v: start + (v - lo) / (hi - lo) * (end - start)


def _text(x: float, y: float, text: str, anchor: str = "start", color: str = "#111827", extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{color}" {FONT} {extra}>{escape(text)}</text>'


def forest(title: str, rows: Sequence[Interval], fmt: Callable[[float], str], width: int = 560) -> str:
    """Estimates with 95% intervals against a zero line; hollow markers where a warning applies."""
    row_h, top, left, right = 30, 34, 190, width - 20
    height = top + row_h * max(len(rows), 1) + 34
    values = _finite([0.0] + [v for r in rows for v in (r.low, r.high, *(r.adjusted or ()), r.truth)])
    x = _scale(min(values), max(values), left, right)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
             _text(8, 18, title, extra='font-weight="600"'),
             f'<line x1="{x(0):.1f}" y1="{top - 6}" x2="{x(0):.1f}" y2="{height - 28}" stroke="{GREY}" stroke-dasharray="3,3"/>']
    for i, r in enumerate(rows):
        y = top + row_h * i + row_h / 2
        parts.append(_text(8, y + 4, r.label + (f"  [{r.warning}]" if r.warning else ""), color="#b91c1c" if r.warning else "#111827"))
        if r.adjusted and all(math.isfinite(v) for v in r.adjusted):
            est, lo, hi = r.adjusted
            parts.append(f'<line x1="{x(lo):.1f}" y1="{y + 7:.1f}" x2="{x(hi):.1f}" y2="{y + 7:.1f}" stroke="{PALETTE[1]}" stroke-width="2"/>'
                         f'<circle cx="{x(est):.1f}" cy="{y + 7:.1f}" r="3" fill="{PALETTE[1]}"/>')
        if all(math.isfinite(v) for v in (r.estimate, r.low, r.high)):
            fill = "white" if r.warning else PALETTE[0]
            parts.append(f'<line x1="{x(r.low):.1f}" y1="{y - 2:.1f}" x2="{x(r.high):.1f}" y2="{y - 2:.1f}" stroke="{PALETTE[0]}" stroke-width="2.5"/>'
                         f'<circle cx="{x(r.estimate):.1f}" cy="{y - 2:.1f}" r="4.5" fill="{fill}" stroke="{PALETTE[0]}" stroke-width="2"/>'
                         f'<title>{escape(r.label)}: {fmt(r.estimate)} [{fmt(r.low)}, {fmt(r.high)}]</title>')
        elif math.isfinite(r.estimate):
            parts.append(_text(left, y + 4, f"{fmt(r.estimate)} (no interval: too few users)", color=GREY))
        if r.truth is not None and math.isfinite(r.truth):
            cx, cy = x(r.truth), y - 2
            parts.append(f'<path d="M{cx:.1f},{cy - 6:.1f} L{cx + 5:.1f},{cy:.1f} L{cx:.1f},{cy + 6:.1f} '
                         f'L{cx - 5:.1f},{cy:.1f} Z" fill="#111827"><title>true effect: {fmt(r.truth)}</title></path>')
        else:
            parts.append(_text(left, y + 4, "not measurable yet", color=GREY))
    ticks = [0.0] + [v for v in (min(values), max(values)) if abs(x(v) - x(0.0)) > 50]  # no overlapping labels
    for v in ticks:
        parts.append(_text(x(v), height - 12, fmt(v), anchor="middle", color=GREY))
    parts.append("</svg>")
    return "".join(parts)


def grouped_bars(title: str, groups: Sequence[str], series: dict[str, Sequence[float]], fmt: Callable[[float], str],
                 width: int = 560) -> str:
    """Horizontal bars: one block per group, one bar per series (e.g. funnel stages per channel)."""
    bar_h, gap, top, left, right = 14, 12, 34, 120, width - 70
    n_series = len(series)
    height = top + len(groups) * (n_series * bar_h + gap) + 30
    peak = max(_finite([v for values in series.values() for v in values]) or [1.0]) or 1.0
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
             _text(8, 18, title, extra='font-weight="600"')]
    for g, group in enumerate(groups):
        y0 = top + g * (n_series * bar_h + gap)
        parts.append(_text(8, y0 + n_series * bar_h / 2 + 4, group, extra='font-weight="600"'))
        for s, (name, values) in enumerate(series.items()):
            value = values[g]
            y = y0 + s * bar_h
            w = 0.0 if value is None or not math.isfinite(value) else (right - left) * value / peak
            parts.append(f'<rect x="{left}" y="{y + 1}" width="{max(w, 0.5):.1f}" height="{bar_h - 2}" fill="{PALETTE[s % len(PALETTE)]}">'
                         f'<title>{escape(group)} {escape(name)}: {fmt(value)}</title></rect>'
                         + _text(left + w + 4, y + bar_h - 3, fmt(value), color=GREY, extra='font-size="10"'))
    legend_y = height - 10
    for s, name in enumerate(series):
        lx = 8 + s * 88
        parts.append(f'<rect x="{lx}" y="{legend_y - 9}" width="10" height="10" fill="{PALETTE[s % len(PALETTE)]}"/>'
                     + _text(lx + 14, legend_y, name, extra='font-size="11"'))
    parts.append("</svg>")
    return "".join(parts)


def band_line(title: str, labels: Sequence[str], estimate: Sequence[float], low: Sequence[float], high: Sequence[float],
              fmt: Callable[[float], str], hollow: Sequence[bool] = (), width: int = 560, height: int = 240) -> str:
    """A line over periods with its 95% band and a zero line; hollow points mark provisional periods."""
    top, bottom, left, right = 34, height - 40, 78, width - 20
    values = _finite([0.0, *estimate, *low, *high])
    y = _scale(min(values), max(values), bottom, top)
    step = (right - left) / max(len(labels) - 1, 1)
    xs = [left + i * step for i in range(len(labels))]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
             _text(8, 18, title, extra='font-weight="600"'),
             f'<line x1="{left}" y1="{y(0):.1f}" x2="{right}" y2="{y(0):.1f}" stroke="{GREY}" stroke-dasharray="3,3"/>']
    band = [(xi, lo, hi) for xi, lo, hi in zip(xs, low, high) if math.isfinite(lo) and math.isfinite(hi)]
    if band:
        points = [f"{xi:.1f},{y(hi):.1f}" for xi, _, hi in band] + [f"{xi:.1f},{y(lo):.1f}" for xi, lo, _ in reversed(band)]
        parts.append(f'<polygon points="{" ".join(points)}" fill="{PALETTE[0]}" fill-opacity="0.15" stroke="none"/>')
    line = [(xi, v) for xi, v in zip(xs, estimate) if math.isfinite(v)]
    if line:
        parts.append(f'<polyline points="{" ".join(f"{xi:.1f},{y(v):.1f}" for xi, v in line)}" fill="none" stroke="{PALETTE[0]}" stroke-width="2"/>')
    for i, (xi, v) in enumerate(zip(xs, estimate)):
        if math.isfinite(v):
            open_point = i < len(hollow) and hollow[i]
            parts.append(f'<circle cx="{xi:.1f}" cy="{y(v):.1f}" r="4" fill="{"white" if open_point else PALETTE[0]}" '
                         f'stroke="{PALETTE[0]}" stroke-width="2"><title>{escape(labels[i])}: {fmt(v)}</title></circle>')
        parts.append(_text(xi, height - 22, labels[i], anchor="middle", color=GREY, extra='font-size="10"'))
    for v in (min(values), max(values)):
        parts.append(_text(left - 6, y(v) + 4, fmt(v), anchor="end", color=GREY, extra='font-size="10"'))
    parts.append("</svg>")
    return "".join(parts)
