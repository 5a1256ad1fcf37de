/**
 * Metric history of a run: one native SVG line chart per metric name (its own y scale with round
 * ticks and compact labels, the x range labelled and named) with one line per step that logged
 * it (e.g. each rank of a training job, with a legend), and a table of each metric's last value,
 * fed by `GET runs/{id}/metrics`. A metric logged once (per step) has no history to draw: it is
 * shown as its number.
 */
import { Widget } from '@lumino/widgets';

import { element, formatNumber } from '../format';
import { IMetricPoint } from '../generated/restTypes';
import { scale, svg } from '../svg';
import { IRunLine, legend, runColour, xAxisTitle, yAxisFor, yAxisParts } from './compareChart';

const WIDTH = 320;
const HEIGHT = 150;
const MARGIN = { right: 12, top: 10, bottom: 22 };
/** Above this many points the markers are left out and only the line is drawn. */
const MAX_MARKERS = 60;

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

/**
 * The values of `series` split by the step that logged them, in order of first appearance, as
 * lines for the overlay pieces of `compareChart` (`runId` holds the step name).
 */
export function stepLines(series: ISeries): IRunLine[] {
  const bySteps = new Map<string, IMetricPoint[]>();
  for (const point of series.points) {
    const key = point.step ?? '';
    const points = bySteps.get(key) ?? [];
    points.push(point);
    bySteps.set(key, points);
  }
  return Array.from(bySteps.entries()).map(([step, points], i) => ({
    runId: step,
    label: step ? `${series.name} of ${step}` : series.name,
    name: step || '(no step)',
    detail: '',
    colour: runColour(i),
    points
  }));
}

/** The chart of one series: axes, min/max labels, a line per step and its points. */
export function seriesChart(series: ISeries): SVGSVGElement {
  const xs = series.points.map(p => p.index);
  const ys = series.points.map(p => p.value);
  const [xMin, xMax] = [Math.min(...xs), Math.max(...xs)];
  const axis = yAxisFor(ys);
  const [yMin, yMax] = [axis.scale.min, axis.scale.max];
  const left = axis.left;
  const right = WIDTH - MARGIN.right;
  const top = MARGIN.top;
  const bottom = HEIGHT - MARGIN.bottom;
  const root = svg('svg', {
    class: 'jp-kfjupyter-chart',
    width: WIDTH,
    height: HEIGHT,
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: 'img'
  });
  root.dataset.metric = series.name;
  root.setAttribute('aria-label', `${series.name}: ${series.points.length} values`);
  root.append(
    ...yAxisParts(axis, right, top, bottom),
    svg('path', { class: 'jp-kfjupyter-chart-axis', d: `M ${left} ${top} V ${bottom} H ${right}` }),
    svg(
      'text',
      { class: 'jp-kfjupyter-chart-label', x: left, y: HEIGHT - 6, 'text-anchor': 'start' },
      formatNumber(xMin)
    ),
    svg(
      'text',
      { class: 'jp-kfjupyter-chart-label', x: right, y: HEIGHT - 6, 'text-anchor': 'end' },
      formatNumber(xMax)
    ),
    xAxisTitle(left, right, HEIGHT - 6)
  );
  const lines = stepLines(series);
  for (const line of lines) {
    const at = line.points.map(p => [
      scale(p.index, xMin, xMax, left, right),
      scale(p.value, yMin, yMax, bottom, top)
    ]);
    const d = at.map(([x, y], i) => `${i ? 'L' : 'M'} ${x.toFixed(1)} ${y.toFixed(1)}`).join(' ');
    const path = svg('path', { class: 'jp-kfjupyter-chart-line', d });
    // Several steps: each its own colour, as in the legend (the CSS colour is for one line).
    if (lines.length > 1) {
      path.style.stroke = line.colour;
    }
    path.dataset.step = line.runId;
    root.append(path);
    if (series.points.length <= MAX_MARKERS) {
      at.forEach(([x, y], i) => {
        const dot = svg('circle', { class: 'jp-kfjupyter-chart-point', cx: x, cy: y, r: 2.5 });
        if (lines.length > 1) {
          dot.style.fill = line.colour;
        }
        const point = line.points[i];
        dot.append(
          svg('title', {}, `${line.label}[${point.index}] = ${formatNumber(point.value)}`)
        );
        root.append(dot);
      });
    }
  }
  return root;
}

/** True when `series` has no history to draw: every value was logged at one index. */
export function isSingleValue(series: ISeries): boolean {
  return new Set(series.points.map(p => p.index)).size <= 1;
}

/** A metric logged once: its name and number (one per step when several steps logged it). */
export function singleValue(series: ISeries): HTMLElement {
  const figure = element('figure', 'jp-kfjupyter-chart-figure jp-kfjupyter-metric-single');
  figure.dataset.metric = series.name;
  figure.append(element('figcaption', '', series.name));
  const lines = stepLines(series);
  for (const line of lines) {
    const value = line.points[line.points.length - 1].value;
    const row = element('div', 'jp-kfjupyter-metric-single-row');
    if (lines.length > 1) {
      row.append(element('span', 'jp-kfjupyter-metric-single-step', line.name));
    }
    const number = element('span', 'jp-kfjupyter-metric-value', formatNumber(value));
    number.title = `${line.label} = ${value}`;
    row.append(number);
    figure.append(row);
  }
  return figure;
}

export class MetricsChart extends Widget {
  constructor() {
    super();
    this.addClass('jp-kfjupyter-metrics');
  }

  /** Draw the history; redraws only when the number of values changed. */
  render(metrics: readonly IMetricPoint[]): void {
    if (metrics.length === this._count) {
      return;
    }
    this._count = metrics.length;
    const series = toSeries(metrics);
    if (!series.length) {
      this.node.replaceChildren(
        element(
          'div',
          'jp-kfjupyter-empty',
          'No metrics. Log one from a step with kfjupyter.log_metric("loss", value, step=i).'
        )
      );
      return;
    }
    const charts = element('div', 'jp-kfjupyter-charts');
    for (const one of series) {
      if (isSingleValue(one)) {
        charts.append(singleValue(one));
        continue;
      }
      const figure = element('figure', 'jp-kfjupyter-chart-figure');
      figure.append(element('figcaption', '', one.name), seriesChart(one));
      const lines = stepLines(one);
      if (lines.length > 1) {
        figure.append(legend(lines));
      }
      charts.append(figure);
    }
    this.node.replaceChildren(charts, this._table(series));
  }

  private _table(series: ISeries[]): HTMLTableElement {
    const table = element('table', 'jp-kfjupyter-table jp-kfjupyter-metrics-table');
    const head = element('tr', '');
    for (const label of ['Metric', 'Last', 'Min', 'Max', 'Values', 'Step']) {
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

  private _count = -1;
}
