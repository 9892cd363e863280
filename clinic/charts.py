"""Bar charts as inline SVG, drawn on the server: no JavaScript to download on a slow
phone connection, nothing for a Content-Security-Policy to allow, and each chart is
followed by the same figures as a table for screen readers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 600
HEIGHT = 160
GAP = 2

# Colours with at least 3:1 contrast against white (WCAG 2.2 non-text contrast).
COLOURS = {
    "sent": "#1e6b3a",
    "delivered": "#14532d",
    "pending": "#8a5a00",
    "sending": "#8a5a00",
    "failed": "#b3261e",
    "skipped": "#5b6573",
    "cancelled": "#5b6573",
    "taken": "#1e6b3a",
}
DEFAULT_COLOUR = "#0b5d7a"


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str
    value: int | float


def stacked_bars(columns: Sequence[tuple[str, dict[str, int]]], order: Sequence[str]) -> list[Bar]:
    """One column per (label, {series: value}); series stacked bottom-up in ``order``."""
    if not columns:
        return []
    peak = max(sum(values.values()) for _, values in columns) or 1
    step = WIDTH / len(columns)
    bars: list[Bar] = []
    for index, (label, values) in enumerate(columns):
        bottom = float(HEIGHT)
        for series in order:
            value = values.get(series, 0)
            if not value:
                continue
            height = HEIGHT * value / peak
            bottom -= height
            bars.append(
                Bar(
                    x=round(index * step, 2),
                    y=round(bottom, 2),
                    width=round(max(step - GAP, 1), 2),
                    height=round(height, 2),
                    colour=COLOURS.get(series, DEFAULT_COLOUR),
                    label=f"{label}: {series}",
                    value=value,
                )
            )
    return bars


def bars(columns: Sequence[tuple[str, float]], *, peak: float | None = None) -> list[Bar]:
    """Simple columns scaled to ``peak`` (the largest value when not given)."""
    if not columns:
        return []
    top = peak or max(value for _, value in columns) or 1
    step = WIDTH / len(columns)
    return [
        Bar(
            x=round(index * step, 2),
            y=round(HEIGHT - HEIGHT * value / top, 2),
            width=round(max(step - GAP, 1), 2),
            height=round(HEIGHT * value / top, 2),
            colour=DEFAULT_COLOUR,
            label=label,
            value=value,
        )
        for index, (label, value) in enumerate(columns)
    ]
