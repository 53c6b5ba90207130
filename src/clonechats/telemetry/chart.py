"""Server-side bar charts for the admin dashboards: geometry only, drawn as inline SVG by the
templates (no JavaScript, no inline style, so the content security policy stays strict)."""

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: float


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    plot_left: float
    plot_bottom: float
    plot_right: float
    bars: list[Bar]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    top: float


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is at least `value` (1 for 0)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return float(step * power)
    return float(10 * power)


def _number(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 1_000:
        return f"{value / 1_000:g}k"
    return f"{value:g}"


def bar_chart(points: list[tuple[str, float | None]], *, width: int = 720, height: int = 240,
              max_x_labels: int = 8) -> BarChart:
    """One bar per (label, value); None counts as 0. Labels on the x axis are thinned to at
    most `max_x_labels`; every bar keeps its label for its tooltip."""
    left, right, top_margin, bottom_margin = 52.0, 8.0, 10.0, 26.0
    plot_width = width - left - right
    plot_height = height - top_margin - bottom_margin
    bottom = height - bottom_margin
    top = nice_ceiling(max((value or 0.0 for _, value in points), default=0.0))
    slot = plot_width / max(len(points), 1)
    gap = min(4.0, slot * 0.2)
    bars = []
    for index, (label, value) in enumerate(points):
        amount = float(value or 0.0)
        bar_height = plot_height * amount / top
        bars.append(Bar(x=round(left + index * slot + gap / 2, 2),
                        y=round(bottom - bar_height, 2), width=round(slot - gap, 2),
                        height=round(bar_height, 2), label=label, value=amount))
    every = max(1, math.ceil(len(points) / max_x_labels))
    x_ticks = [Tick(position=round(left + (i + 0.5) * slot, 2), label=label)
               for i, (label, _) in enumerate(points) if i % every == 0]
    y_ticks = [Tick(position=round(bottom - plot_height * fraction, 2),
                    label=_number(top * fraction)) for fraction in (0.0, 0.5, 1.0)]
    return BarChart(width=width, height=height, plot_left=left, plot_bottom=bottom,
                    plot_right=width - right, bars=bars, y_ticks=y_ticks, x_ticks=x_ticks,
                    top=top)


@dataclass(frozen=True)
class Line:
    name: str
    points: str
    """SVG polyline points, "x,y x,y ..." (days without a value break nothing: they are left
    out, and the markers show which days have one)."""
    markers: list[Bar]
    """One marker per day with a value (x, y at its centre; width/height unused)."""


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    plot_left: float
    plot_bottom: float
    plot_right: float
    lines: list[Line]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    top: float


def line_chart(series: dict[str, list[tuple[str, float | None]]], *, width: int = 360,
               height: int = 200, max_x_labels: int = 4) -> LineChart:
    """One line per named series of (label, value); None is a day without a value. Every
    series has the same labels, in order."""
    left, right, top_margin, bottom_margin = 44.0, 8.0, 10.0, 26.0
    plot_width = width - left - right
    plot_height = height - top_margin - bottom_margin
    bottom = height - bottom_margin
    values = [v for points in series.values() for _, v in points if v is not None]
    top = nice_ceiling(max(values, default=0.0))
    labels = [label for label, _ in next(iter(series.values()), [])]
    slot = plot_width / max(len(labels), 1)
    lines = []
    for name, points in series.items():
        markers = []
        for index, (label, value) in enumerate(points):
            if value is None:
                continue
            x = round(left + (index + 0.5) * slot, 2)
            y = round(bottom - plot_height * float(value) / top, 2)
            markers.append(Bar(x=x, y=y, width=0, height=0, label=label, value=float(value)))
        lines.append(Line(name=name, points=" ".join(f"{m.x},{m.y}" for m in markers),
                          markers=markers))
    every = max(1, math.ceil(len(labels) / max_x_labels))
    x_ticks = [Tick(position=round(left + (i + 0.5) * slot, 2), label=label)
               for i, label in enumerate(labels) if i % every == 0]
    y_ticks = [Tick(position=round(bottom - plot_height * fraction, 2),
                    label=_number(top * fraction)) for fraction in (0.0, 0.5, 1.0)]
    return LineChart(width=width, height=height, plot_left=left, plot_bottom=bottom,
                     plot_right=width - right, lines=lines, y_ticks=y_ticks, x_ticks=x_ticks,
                     top=top)
