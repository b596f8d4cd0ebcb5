"""Articles per day as the geometry of a small SVG bar chart (drawn by the template)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

WIDTH, HEIGHT, PAD = 300, 60, 14


@dataclass(frozen=True)
class Bar:
    day: str
    n: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    bars: tuple[Bar, ...]
    peak: int
    total: int
    first: str
    last: str
    width: int = WIDTH
    height: int = HEIGHT
    base: int = HEIGHT - PAD


def chart(counts: dict[str, int], today: date, days: int = 30) -> Chart:
    """One bar per day for the `days` days ending `today` (day keys: YYYY-MM-DD)."""
    span = [today - timedelta(days=days - 1 - i) for i in range(days)]
    values = [int(counts.get(d.isoformat(), 0)) for d in span]
    peak = max(values) or 1
    step = WIDTH / days
    usable = HEIGHT - PAD - 2
    bars = []
    for i, (d, n) in enumerate(zip(span, values)):
        h = round(usable * n / peak, 1) if n else 0
        bars.append(Bar(day=d.isoformat(), n=n, x=round(i * step + 0.5, 1),
                        y=round(HEIGHT - PAD - h, 1), width=round(step - 1, 1), height=h))
    return Chart(bars=tuple(bars), peak=max(values), total=sum(values),
                 first=span[0].isoformat(), last=span[-1].isoformat())
