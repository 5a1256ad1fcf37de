"""Reading the Vega-Lite metric charts (kfjupyter.charts, drawn as SVG by JupyterLab) in Chromium."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect


def vega_chart(scope: Locator, metric: str) -> Locator:
    """The drawn SVG of the Lab panel's chart of ``metric`` inside ``scope``."""
    return scope.locator(f'figure.jp-kfjupyter-vega[data-metric="{metric}"] .jp-RenderedVegaLite svg').first


def lines(chart: Locator) -> Locator:
    """One path per series."""
    return chart.locator(".mark-line path")


def y_ticks(chart: Locator) -> list[str]:
    """The y axis tick labels, bottom to top."""
    ticks = chart.locator(".role-axis[aria-label^='Y-axis'] .role-axis-label text")
    expect(ticks.first).to_be_visible()
    return ticks.all_text_contents()


def texts_inside(chart: Locator) -> bool:
    """Whether every label lies wholly inside the chart's SVG (nothing clipped)."""
    return bool(
        chart.evaluate(
            """svg => {
                const box = svg.getBoundingClientRect();
                return Array.from(svg.querySelectorAll('text')).every(t => {
                    const r = t.getBoundingClientRect();
                    return r.width === 0 || (r.left >= box.left - 0.5 && r.right <= box.right + 0.5
                        && r.top >= box.top - 0.5 && r.bottom <= box.bottom + 0.5);
                });
            }"""
        )
    )


def tooltip_of_last_point(page: Page, chart: Locator) -> Locator:
    """Hover the chart's last point and return the tooltip Vega shows."""
    chart.locator(".mark-symbol path").last.hover(force=True)
    tooltip = page.locator("#vg-tooltip-element")
    expect(tooltip).to_be_visible(timeout=5_000)
    return tooltip
