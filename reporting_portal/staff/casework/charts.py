"""Small charts drawn on the server as inline SVG: no JavaScript, nothing fetched.

Pure functions from labels and numbers to markup. Every piece of text is escaped (labels
such as channel names are set by people, and a dashboard is no place for stored XSS).
Only presentation attributes and the classes ``chart``, ``chart__bar``, ``chart__label``,
``chart__value`` and ``chart__axis`` are used: the Content-Security-Policy forbids inline
styles, so colours come from portal.css. Each chart is ``role="img"`` with an
``aria-label`` and a ``<title>``/``<desc>`` that read out every value, so a screen reader
hears the figures the picture shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

_LABEL_CHARS = 22  # longer labels are shortened on the chart; the full text is in <title>
_ROW_HEIGHT = 28
_BAR_THICKNESS = 18
_FONT_SIZE = 13


def _text(value: object) -> str:
    return escape(str(value), quote=True)


def _shorten(label: str) -> str:
    return label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1] + "\u2026"


def _summary(bars: Sequence[tuple[str, int]]) -> str:
    return "; ".join(f"{label}: {value}" for label, value in bars)


def _open_svg(title: str, bars: Sequence[tuple[str, int]], width: int, height: int) -> list[str]:
    return [
        f'<svg class="chart" role="img" aria-label="{_text(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">',
        f"<title>{_text(title)}</title>",
        f"<desc>{_text(_summary(bars))}</desc>",
    ]


def bar_chart(
    title: str,
    bars: Sequence[tuple[str, int]],
    *,
    width: int = 480,
    height: int | None = None,
    value_axis_label: str = "",
) -> Markup:
    """Horizontal bars, one row per ``(label, value)``: label, bar, value at its end.

    ``height`` defaults to what the rows need. ``value_axis_label`` names what the bars
    count ("reports"); it is drawn under the plot.
    """
    label_width, value_width, top, bottom = 170, 48, 8, 30
    if height is None:
        height = top + _ROW_HEIGHT * max(len(bars), 1) + bottom
    plot_width = max(width - label_width - value_width, 1)
    plot_bottom = height - bottom
    largest = max((value for _label, value in bars), default=0)
    parts = _open_svg(title, bars, width, height)
    for row, (label, value) in enumerate(bars):
        y = top + row * _ROW_HEIGHT
        bar_length = round(plot_width * value / largest) if largest else 0
        middle = y + _BAR_THICKNESS / 2
        parts += [
            f'<text class="chart__label" x="{label_width - 8}" y="{middle:g}" '
            f'text-anchor="end" dominant-baseline="middle" font-size="{_FONT_SIZE}">'
            f"<title>{_text(label)}</title>{_text(_shorten(label))}</text>",
            f'<rect class="chart__bar" x="{label_width}" y="{y}" width="{bar_length}" '
            f'height="{_BAR_THICKNESS}"><title>{_text(label)}: {value}</title></rect>',
            f'<text class="chart__value" x="{label_width + bar_length + 6}" y="{middle:g}" '
            f'dominant-baseline="middle" font-size="{_FONT_SIZE}">{value}</text>',
        ]
    parts.append(
        f'<line class="chart__axis" x1="{label_width}" y1="{top}" x2="{label_width}" '
        f'y2="{plot_bottom}" stroke="currentColor"/>'
    )
    if value_axis_label:
        parts.append(
            f'<text class="chart__axis" x="{label_width + plot_width / 2:g}" '
            f'y="{height - 8}" text-anchor="middle" font-size="{_FONT_SIZE - 1}">'
            f"{_text(value_axis_label)}</text>"
        )
    parts.append("</svg>")
    # Safe: every text interpolated above went through _text() (html.escape).
    return Markup("".join(parts))  # noqa: S704  # nosec B704


def column_chart(
    title: str,
    columns: Sequence[tuple[str, int]],
    *,
    width: int = 600,
    height: int = 240,
    category_axis_label: str = "",
    value_axis_label: str = "",
    tick_labels: Sequence[str] | None = None,
) -> Markup:
    """Vertical columns over time, oldest first; the value stands above each column.

    ``tick_labels``, when given, are the short texts under the columns; the full labels
    stay in each column's title and in the description.
    """
    ticks = list(tick_labels) if tick_labels is not None else [lbl for lbl, _v in columns]
    left, right, top, bottom = 44, 8, 22, 48
    plot_width = max(width - left - right, 1)
    plot_height = max(height - top - bottom, 1)
    baseline = top + plot_height
    slot = plot_width / max(len(columns), 1)
    column_width = max(slot * 0.7, 1)
    largest = max((value for _label, value in columns), default=0)
    parts = _open_svg(title, columns, width, height)
    parts.append(
        f'<line class="chart__axis" x1="{left}" y1="{baseline}" x2="{width - right}" '
        f'y2="{baseline}" stroke="currentColor"/>'
    )
    for index, (label, value) in enumerate(columns):
        column_height = round(plot_height * value / largest) if largest else 0
        x = left + index * slot + (slot - column_width) / 2
        centre = x + column_width / 2
        parts += [
            f'<rect class="chart__bar" x="{x:.1f}" y="{baseline - column_height}" '
            f'width="{column_width:.1f}" height="{column_height}">'
            f"<title>{_text(label)}: {value}</title></rect>",
            f'<text class="chart__value" x="{centre:.1f}" y="{baseline - column_height - 4}" '
            f'text-anchor="middle" font-size="{_FONT_SIZE - 1}">{value}</text>',
            f'<text class="chart__label" x="{centre:.1f}" y="{baseline + 16}" '
            f'text-anchor="middle" font-size="{_FONT_SIZE - 2}">{_text(ticks[index])}</text>',
        ]
    if category_axis_label:
        parts.append(
            f'<text class="chart__axis" x="{left + plot_width / 2:g}" y="{height - 6}" '
            f'text-anchor="middle" font-size="{_FONT_SIZE - 1}">{_text(category_axis_label)}'
            "</text>"
        )
    if value_axis_label:
        parts.append(
            f'<text class="chart__axis" x="12" y="{top + plot_height / 2:g}" '
            f'text-anchor="middle" font-size="{_FONT_SIZE - 1}" '
            f'transform="rotate(-90 12 {top + plot_height / 2:g})">{_text(value_axis_label)}'
            "</text>"
        )
    parts.append("</svg>")
    # Safe: every text interpolated above went through _text() (html.escape).
    return Markup("".join(parts))  # noqa: S704  # nosec B704


def weekly_chart(
    title: str,
    weeks: Sequence[tuple[str, int]],
    *,
    value_axis_label: str = "",
    category_axis_label: str = "",
) -> Markup:
    """Reports per ISO week (labels such as ``2026-W07``), drawn as columns.

    The columns show the short week (``W07``); the full ISO label is in each column's
    title and in the description read to screen readers.
    """
    return column_chart(
        title,
        weeks,
        category_axis_label=category_axis_label,
        value_axis_label=value_axis_label,
        tick_labels=[label.rpartition("-")[2] or label for label, _value in weeks],
    )
