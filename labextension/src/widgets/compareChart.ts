/**
 * Overlaid metric history for the compare view: one native SVG chart per metric name, one line
 * per run (colour from `runColour`), shared axes (round y ticks with compact labels and
 * gridlines, the x range labelled and named) and a legend. The run detail's chart uses the same
 * pieces (the y axis, the legend) for its own charts.
 */
import { IAxisScale, labelMargin, niceScale, tickLabels } from '../axis';
import { element, formatNumber } from '../format';
import { IMetricPoint } from '../generated/restTypes';
import { scale, svg } from '../svg';

const WIDTH = 360;
const HEIGHT = 170;
const MARGIN = { right: 12, top: 10, bottom: 22 };
/** Above this many points in a line its markers are left out. */
const MAX_MARKERS = 40;

/** One run's values of one metric, in series order. */
export interface IRunLine {
  runId: string;
  /** Full label for tooltips, e.g. `name (id)`. */
  label: string;
  /** Shown first in the legend, cut with an ellipsis when long. */
  name: string;
  /** Shown after the name in the legend, never cut (e.g. the run id); may be empty. */
  detail: string;
  colour: string;
  points: IMetricPoint[];
}

/** A distinct colour for the `i`-th run (golden-angle hues: neighbours never look alike). */
export function runColour(i: number): string {
  return `hsl(${Math.round((i * 137.508 + 210) % 360)}, 70%, 48%)`;
}

function label(x: number, y: number, anchor: string, value: number): SVGTextElement {
  const attributes = { class: 'jp-kfjupyter-chart-label', x, y, 'text-anchor': anchor };
  return svg('text', attributes, formatNumber(value));
}

/** A chart's y axis: the scale for `values`, its tick labels and the left margin they need. */
export interface IYAxis {
  scale: IAxisScale;
  labels: string[];
  left: number;
}

/** The y axis for `values`: round ticks, compact labels, a left margin wide enough for them. */
export function yAxisFor(values: readonly number[]): IYAxis {
  const finite = values.filter(Number.isFinite);
  const axis = finite.length
    ? niceScale(Math.min(...finite), Math.max(...finite))
    : niceScale(0, 1);
  const labels = tickLabels(axis);
  return { scale: axis, labels, left: labelMargin(labels) };
}

/** Gridlines and tick labels of `axis` between `top` and `bottom`, from `axis.left` to `right`. */
export function yAxisParts(axis: IYAxis, right: number, top: number, bottom: number): SVGElement[] {
  const parts: SVGElement[] = [];
  axis.scale.ticks.forEach((tick, i) => {
    const y = scale(tick, axis.scale.min, axis.scale.max, bottom, top);
    if (i > 0) {
      const d = `M ${axis.left} ${y.toFixed(1)} H ${right}`;
      parts.push(svg('path', { class: 'jp-kfjupyter-chart-grid', d }));
    }
    const attributes = {
      class: 'jp-kfjupyter-chart-label jp-kfjupyter-chart-tick',
      x: axis.left - 6,
      y: (y + 3).toFixed(1),
      'text-anchor': 'end'
    };
    parts.push(svg('text', attributes, axis.labels[i]));
  });
  return parts;
}

/** The name of the x axis, centred under it between the min and max labels. */
export function xAxisTitle(left: number, right: number, y: number, text = 'step'): SVGTextElement {
  const attributes = {
    class: 'jp-kfjupyter-chart-axis-title',
    x: (left + right) / 2,
    y,
    'text-anchor': 'middle'
  };
  return svg('text', attributes, text);
}

/** The overlaid chart of `metric`: one `path.jp-kfjupyter-compare-line` per run with values. */
export function overlayChart(metric: string, lines: IRunLine[]): SVGSVGElement {
  const drawn = lines.filter(line => line.points.length > 0);
  const all = drawn.flatMap(line => line.points).filter(p => Number.isFinite(p.value));
  const xs = all.map(p => p.index);
  const ys = all.map(p => p.value);
  const [xMin, xMax] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  const axis = yAxisFor(ys);
  const [yMin, yMax] = [axis.scale.min, axis.scale.max];
  const [left, right] = [axis.left, WIDTH - MARGIN.right];
  const [top, bottom] = [MARGIN.top, HEIGHT - MARGIN.bottom];
  const root = svg('svg', {
    class: 'jp-kfjupyter-chart jp-kfjupyter-compare-chart',
    width: WIDTH,
    height: HEIGHT,
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: 'img'
  });
  root.dataset.metric = metric;
  root.setAttribute('aria-label', `${metric}: ${drawn.length} runs`);
  root.append(
    ...yAxisParts(axis, right, top, bottom),
    svg('path', { class: 'jp-kfjupyter-chart-axis', d: `M ${left} ${top} V ${bottom} H ${right}` }),
    label(left, HEIGHT - 6, 'start', xMin),
    label(right, HEIGHT - 6, 'end', xMax),
    xAxisTitle(left, right, HEIGHT - 6)
  );
  for (const line of drawn) {
    const points = line.points.filter(p => Number.isFinite(p.value));
    const at = points.map(p => [
      scale(p.index, xMin, xMax, left, right),
      scale(p.value, yMin, yMax, bottom, top)
    ]);
    const d = at.map(([x, y], i) => `${i ? 'L' : 'M'} ${x.toFixed(1)} ${y.toFixed(1)}`).join(' ');
    const path = svg('path', { class: 'jp-kfjupyter-compare-line', d, stroke: line.colour });
    path.dataset.runId = line.runId;
    path.append(svg('title', {}, `${line.label}: ${metric}`));
    root.append(path);
    if (at.length <= MAX_MARKERS) {
      at.forEach(([x, y], i) => {
        const dot = svg('circle', { class: 'jp-kfjupyter-compare-point', cx: x, cy: y, r: 2.5 });
        dot.setAttribute('fill', line.colour);
        dot.append(
          svg(
            'title',
            {},
            `${line.label} ${metric}[${points[i].index}] = ${formatNumber(points[i].value)}`
          )
        );
        root.append(dot);
      });
    }
  }
  return root;
}

/**
 * The legend of a chart: a colour swatch, the name (cut with an ellipsis when long) and the
 * detail (kept whole, so two runs of one notebook stay apart) per line that has values.
 */
export function legend(lines: IRunLine[]): HTMLElement {
  const list = element('ul', 'jp-kfjupyter-legend');
  for (const line of lines.filter(l => l.points.length > 0)) {
    const item = element('li', 'jp-kfjupyter-legend-item');
    item.dataset.runId = line.runId;
    item.title = line.label;
    const swatch = element('span', 'jp-kfjupyter-legend-swatch');
    swatch.style.background = line.colour;
    item.append(swatch, element('span', 'jp-kfjupyter-legend-name', line.name));
    if (line.detail) {
      item.append(element('span', 'jp-kfjupyter-legend-detail', line.detail));
    }
    list.append(item);
  }
  return list;
}
