/**
 * Small helper for the native SVG picture of the step graph: element creation.
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
