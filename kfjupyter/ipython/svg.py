"""Shared pieces of the widgets' HTML and inline SVG: theme colours, escaping, numbers, badges.

Everything here is pure (strings in, strings out). Colours are JupyterLab theme variables with a
light-theme fallback, so pictures follow the light and dark themes. They are written in ``style``
attributes: SVG presentation attributes do not resolve ``var(...)``.
"""

from __future__ import annotations

import html
import math

#: Colour of each run and step status.
STATUS_COLOURS = {
    "succeeded": "var(--jp-success-color1, #388e3c)",
    "cached": "var(--jp-info-color1, #0288d1)",
    "running": "var(--jp-brand-color1, #1976d2)",
    "failed": "var(--jp-error-color1, #d32f2f)",
    "upstream_failed": "var(--jp-warn-color1, #f57c00)",
    "cancelled": "var(--jp-layout-color4, #757575)",
    "interrupted": "var(--jp-warn-color1, #f57c00)",
}
NEUTRAL = "var(--jp-layout-color4, #9e9e9e)"
TEXT = "var(--jp-ui-font-color1, #212121)"
AXIS = "var(--jp-border-color1, #bdbdbd)"
BACKGROUND = "var(--jp-layout-color1, #ffffff)"
FONT = "font-family:var(--jp-ui-font-family, sans-serif);font-size:11px"


def esc(text: object) -> str:
    """``text`` escaped for HTML/SVG text and quoted attribute values."""
    return html.escape(str(text), quote=True)


def status_colour(status: str) -> str:
    """The theme colour of a run or step status."""
    return STATUS_COLOURS.get(status, NEUTRAL)


def badge(status: str) -> str:
    """A small coloured status label (``data-status`` carries the status for tests and CSS)."""
    return (
        f'<span class="kfjupyter-badge" data-status="{esc(status)}" style="background:{status_colour(status)};'
        f'color:white;border-radius:8px;padding:0 6px;font-size:85%">{esc(status)}</span>'
    )


def fmt(value: float) -> str:
    """A number in at most 4 significant digits: ``0.25``, ``1200``, ``1.5e-05``, ``nan``."""
    if not math.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.4g}"


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: max(1, limit - 1)] + "…"
