/**
 * Chart axes: a "nice" value range with round ticks (1, 2 or 5 times a power of ten) and
 * compact tick labels with SI suffixes (`3.34M`, `250k`, `0.05`), short enough to fit the chart's
 * left margin. Pure functions; the charts draw them.
 */

/** A value range widened to whole ticks, and the ticks in it (ascending). */
export interface IAxisScale {
  min: number;
  max: number;
  step: number;
  ticks: number[];
}

const SI = [
  [1e12, 'T'],
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k']
] as const;

/** A round step close to `raw`: 1, 2 or 5 times a power of ten. */
function niceStep(raw: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / magnitude;
  return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * magnitude;
}

/**
 * The axis for values from `min` to `max`: about `count` intervals with round ticks; a flat
 * range (one value) is widened around it so its line sits in the middle.
 */
export function niceScale(min: number, max: number, count = 4): IAxisScale {
  if (!Number.isFinite(min) || !Number.isFinite(max)) {
    return { min: 0, max: 1, step: 0.5, ticks: [0, 0.5, 1] };
  }
  if (max === min) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    [min, max] = [min - pad, max + pad];
  }
  const step = niceStep((max - min) / count);
  const low = Math.floor(min / step) * step;
  const high = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  for (let i = 0; low + i * step <= high + step / 2; i++) {
    // Rounded to the step's decimals: 0.1 + 0.2 is drawn as 0.3.
    ticks.push(Number((low + i * step).toPrecision(12)));
  }
  return { min: ticks[0], max: ticks[ticks.length - 1], step, ticks };
}

/** Decimals that keep ticks `step` apart distinct once divided by `unit`. */
function decimals(step: number, unit: number): number {
  return Math.max(0, Math.min(8, Math.ceil(-Math.log10(step / unit) - 1e-9)));
}

/** A compact tick label: `0`, `0.25`, `-1.5k`, `3.34M`; the same decimals across one axis. */
export function formatTick(value: number, step: number, largest: number): string {
  if (value === 0) {
    return '0';
  }
  const [unit, suffix] = SI.find(([size]) => Math.abs(largest) >= size) ?? [1, ''];
  const text = (value / unit).toFixed(decimals(step, unit));
  return `${text}${suffix}`;
}

/** The labels of `scale`'s ticks, each as `formatTick` writes it. */
export function tickLabels(scale: IAxisScale): string[] {
  const largest = Math.max(Math.abs(scale.min), Math.abs(scale.max));
  return scale.ticks.map(tick => formatTick(tick, scale.step, largest));
}

/** Pixels of left margin that `labels` need at the charts' label font, plus a gap. */
export function labelMargin(labels: readonly string[]): number {
  const longest = Math.max(1, ...labels.map(label => label.length));
  return Math.ceil(longest * 6.5 + 12);
}
