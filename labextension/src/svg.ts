/**
 * Small helpers for the native SVG pictures (DAG, metric charts): element creation and scaling.
 */

export const SVG_NS = 'http://www.w3.org/2000/svg';

/** Create an SVG element with attributes and optional text. */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: { [name: string]: string | number } = {},
  text = ''
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) {
    node.setAttribute(name, String(value));
  }
  if (text) {
    node.textContent = text;
  }
  return node;
}

/** Map `value` in `[min, max]` onto `[from, to]`; a flat range maps to the middle. */
export function scale(value: number, min: number, max: number, from: number, to: number): number {
  return max === min ? (from + to) / 2 : from + ((value - min) / (max - min)) * (to - from);
}
