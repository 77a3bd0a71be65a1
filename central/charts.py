"""Bar charts drawn on the server as inline SVG: no script, no inline style (classes only)."""

from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
LABEL = 150  # room for the row labels on the left
VALUE = 90  # room for the value written after each bar
ROW = 30
BAR = 20
TOP = 8


@dataclass(frozen=True)
class Bar:
    """One row of a chart: its label, value and a CSS class saying what it is (e.g. funded)."""

    label: str
    value: float
    kind: str = "plain"
    text: str | None = None  # the value as written; str(value) when None


def _number(x):
    # Short, locale-free coordinates: the SVG is data, not prose.
    return f"{x:.1f}".rstrip("0").rstrip(".")


def bar_chart(bars, *, title, chart_id, max_value=None):
    """Horizontal bars as an SVG string (Markup) labelled by `title`; an empty chart says so.

    The chart is an image with an accessible name; the page always puts the same figures in a
    data table beside it, which is what screen readers and keyboard users should read.
    """
    bars = list(bars)
    if any(b.value < 0 for b in bars):
        raise ValueError(f"{chart_id}: bar values must be >= 0, got {[b.value for b in bars]}")
    top = max_value if max_value is not None else max((b.value for b in bars), default=0)
    span = WIDTH - LABEL - VALUE
    height = TOP * 2 + ROW * max(len(bars), 1)
    cid = escape(chart_id)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{cid}" class="chart" viewBox="0 0 {WIDTH} {height}"'
        f' width="{WIDTH}" height="{height}" role="img" aria-labelledby="{cid}-title"'
        f' focusable="false">',
        f'<title id="{cid}-title">{escape(title)}</title>',
    ]
    if not bars:
        out.append(f'<text class="chart-empty" x="{LABEL}" y="{TOP + ROW // 2 + 5}">—</text>')
    for i, b in enumerate(bars):
        y = TOP + i * ROW
        length = span * b.value / top if top else 0
        # A zero bar still gets a hairline so the row reads as "none", not as "missing".
        length = max(length, 1)
        text = b.text if b.text is not None else _number(b.value)
        mid = y + BAR / 2 + 5
        out += [
            f'<text class="chart-label" text-anchor="end" x="{LABEL - 8}" y="{_number(mid)}">{escape(b.label)}</text>',
            f'<rect class="bar bar-{escape(b.kind)}" x="{LABEL}" y="{y}" width="{_number(length)}"'
            f' height="{BAR}"/>',
            f'<text class="chart-value" x="{_number(LABEL + length + 6)}" y="{_number(mid)}">'
            f"{escape(text)}</text>",
        ]
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every text piece above is escaped
