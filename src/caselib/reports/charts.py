"""Plain inline-SVG charts for the HTML scorecard: text in, text out, no I/O.

Why hand-written SVG and not a charting library: the report is one self-contained file a
support lead opens anywhere (no script, no external asset, nothing fetched), and the four
charts it needs - bars with a line, a histogram, grouped bars, a funnel - are a few rectangles
and a polyline each. A library would add a dependency (and, for the good ones, JavaScript) to
draw what fits in this module. Every label is untrusted case data (team names, categories), so
every text that reaches the SVG goes through :func:`html.escape`.

Each function returns one ``<svg>`` element with a ``viewBox`` (it scales with the page), a
``role="img"`` and an ``aria-label``, and always draws something: with no data it draws its
axes and a "no data" note, so a reader (and the headless-browser test) never meets an empty
chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import attrs

__all__ = [
    "PALETTE",
    "Bar",
    "Series",
    "bars_and_line",
    "funnel",
    "grouped_bars",
    "histogram",
]

PALETTE = ("#2563eb", "#16a34a", "#dc2626", "#d97706", "#7c3aed", "#0891b2")
"""Series colours, in order: blue, green, red, amber, violet, cyan (readable on white)."""

_W, _H = 720, 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 56, 24, 64
_FONT = 'font-family="system-ui, sans-serif" font-size="13"'


@attrs.frozen
class Series:
    """One named series of values, one per x label, drawn in ``colour``."""

    name: str
    values: tuple[float | None, ...]
    colour: str = PALETTE[0]


@attrs.frozen
class Bar:
    """One labelled bar of a histogram or a funnel stage."""

    label: str
    value: int


def _open(label: str, width: int = _W, height: int = _H) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="100%" role="img" aria-label="{escape(label)}" class="chart">'
            f'<title>{escape(label)}</title>')


def _text(x: float, y: float, text: str, *, anchor: str = "middle", fill: str = "#374151",
          extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" {_FONT}'
            f'{" " + extra if extra else ""}>{escape(text)}</text>')


def _clip(label: str, limit: int = 14) -> str:
    """Long labels (a team called by a sentence) are cut so they cannot overlap the next."""
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _nice_max(value: float) -> float:
    """A round axis top for counts: the smallest 1/2/5 x 10^n at or above ``value``, raised
    to a multiple of 4 (at least 4) so the five ticks are whole numbers."""
    step = 1.0
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                top = step * factor
                return float(max(4, -(-top // 4) * 4))
        step *= 10


def _axis(top: float, *, side: str, fmt: str = "{:g}", colour: str = "#6b7280") -> list[str]:
    """Five ticks from 0 to ``top`` along the left or right edge of the plot."""
    parts = []
    plot_h = _H - _TOP - _BOTTOM
    x = _LEFT - 6 if side == "left" else _W - _RIGHT + 6
    anchor = "end" if side == "left" else "start"
    for i in range(5):
        value = top * i / 4
        y = _H - _BOTTOM - plot_h * i / 4
        if side == "left":
            parts.append(f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{_W - _RIGHT}" y2="{y:.1f}" '
                         f'stroke="#e5e7eb"/>')
        parts.append(_text(x, y + 4, fmt.format(value), anchor=anchor, fill=colour))
    return parts


def _frame() -> str:
    y = _H - _BOTTOM
    return f'<line x1="{_LEFT}" y1="{y}" x2="{_W - _RIGHT}" y2="{y}" stroke="#9ca3af"/>'


def _no_data(parts: list[str]) -> None:
    parts.append(_text(_W / 2, _H / 2, "no data in this period", fill="#9ca3af"))


def _legend(parts: list[str], entries: Sequence[tuple[str, str]], *, line: str = "") -> None:
    x = _LEFT
    y = _H - 14
    for name, colour in entries:
        if name == line:
            parts.append(f'<line x1="{x}" y1="{y - 4}" x2="{x + 12}" y2="{y - 4}" '
                         f'stroke="{colour}" stroke-width="2.5"/>')
        else:
            parts.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{colour}"/>')
        parts.append(_text(x + 16, y, name, anchor="start"))
        x += 28 + 7 * len(name)


def _x_labels(parts: list[str], labels: Sequence[str], slot: float) -> None:
    """Every label when they fit, else about twelve evenly spaced ones."""
    every = max(1, -(-len(labels) // 12)) if slot < 48 else 1
    for i, label in enumerate(labels):
        if i % every == 0:
            x = _LEFT + slot * (i + 0.5)
            parts.append(_text(x, _H - _BOTTOM + 16, _clip(label)))


def bars_and_line(title: str, labels: Sequence[str], bars: Sequence[Series],
                  line: Series) -> str:
    """Grouped bars on the left axis (daily created / resolved) and a line on its own right
    axis (the backlog, usually much larger than a day's volume), one x slot per label."""
    parts = [_open(title)]
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    bar_top = _nice_max(max((v or 0 for s in bars for v in s.values), default=0))
    line_top = _nice_max(max((v or 0 for v in line.values), default=0))
    parts += _axis(bar_top, side="left")
    parts += _axis(line_top, side="right", colour=line.colour)
    parts.append(_frame())
    if not labels:
        _no_data(parts)
    else:
        slot = plot_w / len(labels)
        width = max(1.0, slot * 0.8 / max(1, len(bars)))
        for i in range(len(labels)):
            for j, series in enumerate(bars):
                value = series.values[i] or 0
                h = plot_h * value / bar_top
                x = _LEFT + slot * i + slot * 0.1 + width * j
                parts.append(f'<rect x="{x:.1f}" y="{_H - _BOTTOM - h:.1f}" width="{width:.1f}" '
                             f'height="{h:.1f}" fill="{series.colour}">'
                             f'<title>{escape(labels[i])} {escape(series.name)}: {value:g}'
                             f'</title></rect>')
        points = " ".join(
            f"{_LEFT + slot * (i + 0.5):.1f},{_H - _BOTTOM - plot_h * (v or 0) / line_top:.1f}"
            for i, v in enumerate(line.values))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{line.colour}" '
                     f'stroke-width="2.5"/>')
        for i, v in enumerate(line.values if len(labels) <= 62 else ()):  # dots: <= 2 months
            cx, cy = _LEFT + slot * (i + 0.5), _H - _BOTTOM - plot_h * (v or 0) / line_top
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="2.5" fill="{line.colour}">'
                         f'<title>{escape(labels[i])} {escape(line.name)}: {v or 0:g}</title>'
                         f'</circle>')
        _x_labels(parts, labels, slot)
    _legend(parts, [(s.name, s.colour) for s in bars] + [(line.name, line.colour)],
            line=line.name)
    parts.append("</svg>")
    return "".join(parts)


def histogram(title: str, bars: Sequence[Bar], *, colour: str = PALETTE[0]) -> str:
    """One bar per bucket, its count written above it."""
    parts = [_open(title)]
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    top = _nice_max(max((b.value for b in bars), default=0))
    parts += _axis(top, side="left")
    parts.append(_frame())
    if not bars or not any(b.value for b in bars):
        _no_data(parts)
    if bars:
        slot = plot_w / len(bars)
        for i, bar in enumerate(bars):
            h = plot_h * bar.value / top
            x = _LEFT + slot * i + slot * 0.15
            y = _H - _BOTTOM - h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" '
                         f'height="{h:.1f}" fill="{colour}"><title>{escape(bar.label)}: '
                         f'{bar.value}</title></rect>')
            if bar.value:
                parts.append(_text(x + slot * 0.35, y - 4, str(bar.value)))
        _x_labels(parts, [b.label for b in bars], slot)
    parts.append("</svg>")
    return "".join(parts)


def grouped_bars(title: str, labels: Sequence[str], series: Sequence[Series], *,
                 top: float = 100.0, unit: str = "%") -> str:
    """Bars grouped by label, one per series, on a fixed axis (attainment in percent); a
    ``None`` value (nothing decided) is drawn as a dash, not as a zero bar."""
    parts = [_open(title)]
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    parts += _axis(top, side="left", fmt="{:g}" + unit)
    parts.append(_frame())
    values = [v for s in series for v in s.values]
    if not labels or all(v is None for v in values):
        _no_data(parts)
    if labels:
        slot = plot_w / len(labels)
        width = slot * 0.8 / max(1, len(series))
        for i in range(len(labels)):
            for j, one in enumerate(series):
                value = one.values[i]
                x = _LEFT + slot * i + slot * 0.1 + width * j
                if value is None:
                    parts.append(_text(x + width / 2, _H - _BOTTOM - 4, "–", fill="#9ca3af"))
                    continue
                h = plot_h * min(value, top) / top
                parts.append(f'<rect x="{x:.1f}" y="{_H - _BOTTOM - h:.1f}" '
                             f'width="{width:.1f}" height="{h:.1f}" fill="{one.colour}">'
                             f'<title>{escape(labels[i])} {escape(one.name)}: '
                             f'{value:.0f}{escape(unit)}</title></rect>')
                if width >= 22:
                    parts.append(_text(x + width / 2, _H - _BOTTOM - h - 4,
                                       f"{value:.0f}{unit}"))
        _x_labels(parts, labels, slot)
    _legend(parts, [(s.name, s.colour) for s in series])
    parts.append("</svg>")
    return "".join(parts)


def funnel(title: str, stages: Sequence[Bar], *, colour: str = PALETTE[4]) -> str:
    """Centred horizontal bars, widest first, each with its count and its share of the
    first stage."""
    height = 64 + 48 * max(1, len(stages))
    parts = [_open(title, _W, height)]
    first = stages[0].value if stages else 0
    widest = max((s.value for s in stages), default=0)
    label_w, plot_w = 170, _W - 170 - 24
    if not widest:
        parts.append(_text(_W / 2, height - 16, "no suggestions shown in this period",
                           fill="#9ca3af"))
    for i, stage in enumerate(stages):
        y = 24 + 48 * i
        w = max(2.0, plot_w * stage.value / widest) if widest else 2.0
        x = label_w + (plot_w - w) / 2
        opacity = 1.0 - 0.22 * i
        parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="36" rx="3" '
                     f'fill="{colour}" fill-opacity="{opacity:.2f}"><title>'
                     f'{escape(stage.label)}: {stage.value}</title></rect>')
        parts.append(_text(label_w - 10, y + 22, _clip(stage.label, 24), anchor="end"))
        share = f" ({100 * stage.value / first:.0f}%)" if first and i else ""
        parts.append(_text(label_w + plot_w / 2, y + 22, f"{stage.value}{share}",
                           fill="#ffffff" if w > 80 else "#111827",
                           extra='font-weight="bold"'))
    parts.append("</svg>")
    return "".join(parts)
