/**
 * Metric history of a run: one chart per metric name, the server-built Vega-Lite spec (the one
 * `%kf metrics` shows in a notebook: a line per step or rank, tooltips, a legend) drawn by
 * JupyterLab's Vega renderer, and a table of each metric's last value, fed by
 * `GET runs/{id}/metrics`. A metric logged once (per step) has no history to draw: it is shown as
 * its number.
 */
import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { element, formatNumber } from '../format';
import { IMetricHistory, IMetricPoint } from '../generated/restTypes';
import { VegaCharts } from './vegaChart';

/** One metric's values in series order. */
export interface ISeries {
  name: string;
  points: IMetricPoint[];
}

/** Group `metrics` by name (sorted) and order each series by index, then time. */
export function toSeries(metrics: readonly IMetricPoint[]): ISeries[] {
  const byName = new Map<string, IMetricPoint[]>();
  for (const point of metrics) {
    const points = byName.get(point.name) ?? [];
    points.push(point);
    byName.set(point.name, points);
  }
  return Array.from(byName.entries())
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, points]) => ({
      name,
      points: points.slice().sort((a, b) => a.index - b.index || a.ts - b.ts)
    }));
}

/** The values of `series` split by the step that logged them, in order of first appearance. */
function byStep(series: ISeries): [string, IMetricPoint[]][] {
  const bySteps = new Map<string, IMetricPoint[]>();
  for (const point of series.points) {
    const key = point.step ?? '';
    const points = bySteps.get(key) ?? [];
    points.push(point);
    bySteps.set(key, points);
  }
  return Array.from(bySteps.entries());
}

/** A metric logged once: its name and number (one per step when several steps logged it). */
export function singleValue(
  series: ISeries,
  trans: TranslationBundle = nullTranslator.load('kfjupyter')
): HTMLElement {
  const figure = element('figure', 'jp-kfjupyter-chart-figure jp-kfjupyter-metric-single');
  figure.dataset.metric = series.name;
  figure.append(element('figcaption', '', series.name));
  const lines = byStep(series);
  for (const [step, points] of lines) {
    const value = points[points.length - 1].value;
    const row = element('div', 'jp-kfjupyter-metric-single-row');
    if (lines.length > 1) {
      row.append(element('span', 'jp-kfjupyter-metric-single-step', step || trans.__('(no step)')));
    }
    const number = element('span', 'jp-kfjupyter-metric-value', formatNumber(value));
    const what = step ? trans.__('%1 of %2', series.name, step) : series.name;
    number.title = `${what} = ${value}`;
    row.append(number);
    figure.append(row);
  }
  return figure;
}

export class MetricsChart extends Widget {
  constructor(private readonly _trans: TranslationBundle = nullTranslator.load('kfjupyter')) {
    super();
    this.addClass('jp-kfjupyter-metrics');
  }

  /** Draw the history; redraws only when the number of values changed. */
  render(history: IMetricHistory): void {
    const metrics = history.metrics;
    if (metrics.length === this._count) {
      return;
    }
    this._count = metrics.length;
    this._charts.dispose();
    const series = toSeries(metrics);
    if (!series.length) {
      this.node.replaceChildren(
        element(
          'div',
          'jp-kfjupyter-empty',
          this._trans.__(
            'No metrics. Log one from a step with kfjupyter.log_metric("loss", value, step=i).'
          )
        )
      );
      return;
    }
    const specs = new Map(history.charts.map(chart => [chart.metric, chart]));
    const charts = element('div', 'jp-kfjupyter-charts');
    for (const one of series) {
      const chart = specs.get(one.name);
      charts.append(
        chart?.spec && !chart.single
          ? this._charts.figure(one.name, chart.spec)
          : singleValue(one, this._trans)
      );
    }
    this.node.replaceChildren(charts, this._table(series));
  }

  private _table(series: ISeries[]): HTMLTableElement {
    const table = element('table', 'jp-kfjupyter-table jp-kfjupyter-metrics-table');
    const head = element('tr', '');
    const trans = this._trans;
    const labels = [
      trans.__('Metric'),
      trans.__('Last'),
      trans.__('Min'),
      trans.__('Max'),
      trans.__('Values'),
      trans.__('Step')
    ];
    for (const label of labels) {
      head.append(element('th', '', label));
    }
    const body = element('tbody', '');
    for (const { name, points } of series) {
      const values = points.map(p => p.value);
      const last = points[points.length - 1];
      const row = element('tr', '');
      row.dataset.metric = name;
      row.append(
        element('td', '', name),
        element('td', 'jp-kfjupyter-metric-last', formatNumber(last.value)),
        element('td', '', formatNumber(Math.min(...values))),
        element('td', '', formatNumber(Math.max(...values))),
        element('td', '', String(points.length)),
        element('td', '', this._steps(points))
      );
      body.append(row);
    }
    const thead = element('thead', '');
    thead.append(head);
    table.append(thead, body);
    return table;
  }

  /** The step(s) that logged `points`: up to three names, else how many. */
  private _steps(points: IMetricPoint[]): string {
    const steps = Array.from(new Set(points.map(p => p.step ?? '—')));
    return steps.length <= 3 ? steps.join(', ') : `${steps.length} steps`;
  }

  dispose(): void {
    this._charts.dispose();
    super.dispose();
  }

  private _count = -1;
  private readonly _charts = new VegaCharts();
}
