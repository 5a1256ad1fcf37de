/**
 * A layered layout of a run's step graph, computed from each step's `upstream` names.
 *
 * Pure and DOM-free, so it is easy to test: a step's layer (column) is the length of the longest
 * path from a root to it; within a layer, steps are ordered by the mean row of their upstream
 * steps (a barycenter pass), which keeps most edges short and uncrossed. Edges run from the right
 * side of a step to the left side of the one that waits for it, as cubic Bézier paths.
 */

/** What the layout needs of a step. */
export interface IDagInput {
  name: string;
  upstream: readonly string[];
}

/** A placed step: its layer (column), its row within the layer and its box. */
export interface IDagNode {
  name: string;
  layer: number;
  row: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** An edge from an upstream step to a step that waits for it, with its SVG path. */
export interface IDagEdge {
  from: string;
  to: string;
  path: string;
}

/** The whole picture: nodes, edges and the size of the drawing. */
export interface IDagLayout {
  nodes: IDagNode[];
  edges: IDagEdge[];
  width: number;
  height: number;
}

/** Sizes of the drawing, in SVG user units (pixels). */
export interface IDagSizes {
  nodeWidth: number;
  nodeHeight: number;
  layerGap: number;
  rowGap: number;
  padding: number;
}

export const DEFAULT_SIZES: IDagSizes = {
  nodeWidth: 150,
  nodeHeight: 30,
  layerGap: 56,
  rowGap: 14,
  padding: 8
};

/** Layer of every step: 0 for roots, else 1 + the deepest upstream; cycles and unknowns ignored. */
export function assignLayers(steps: readonly IDagInput[]): Map<string, number> {
  const byName = new Map(steps.map(step => [step.name, step]));
  const layers = new Map<string, number>();
  const visiting = new Set<string>();
  const depth = (name: string): number => {
    const known = layers.get(name);
    if (known !== undefined) {
      return known;
    }
    if (visiting.has(name)) {
      return -1; // a cycle: this edge does not push the step further right
    }
    visiting.add(name);
    let layer = 0;
    for (const up of byName.get(name)?.upstream ?? []) {
      if (byName.has(up) && up !== name) {
        layer = Math.max(layer, depth(up) + 1);
      }
    }
    visiting.delete(name);
    layers.set(name, layer);
    return layer;
  };
  for (const step of steps) {
    depth(step.name);
  }
  return layers;
}

/** Steps of each layer in display order: the input order, then sorted by upstream barycenter. */
export function orderLayers(steps: readonly IDagInput[], layers: Map<string, number>): string[][] {
  const count = Math.max(-1, ...layers.values()) + 1;
  const columns: string[][] = Array.from({ length: count }, () => []);
  for (const step of steps) {
    columns[layers.get(step.name) ?? 0].push(step.name);
  }
  const byName = new Map(steps.map(step => [step.name, step]));
  const row = new Map<string, number>();
  columns[0]?.forEach((name, index) => row.set(name, index));
  for (const column of columns.slice(1)) {
    const weight = (name: string, fallback: number): number => {
      const rows = (byName.get(name)?.upstream ?? [])
        .map(up => row.get(up))
        .filter((value): value is number => value !== undefined);
      return rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : fallback;
    };
    const weights = new Map(column.map((name, index) => [name, weight(name, index)]));
    column.sort((a, b) => (weights.get(a) ?? 0) - (weights.get(b) ?? 0));
    column.forEach((name, index) => row.set(name, index));
  }
  return columns;
}

/** Lay out `steps` left to right; every layer is centred on the tallest one. */
export function layoutDag(
  steps: readonly IDagInput[],
  sizes: IDagSizes = DEFAULT_SIZES
): IDagLayout {
  const { nodeWidth, nodeHeight, layerGap, rowGap, padding } = sizes;
  const columns = orderLayers(steps, assignLayers(steps));
  const tallest = Math.max(0, ...columns.map(column => column.length));
  const columnHeight = (rows: number): number => rows * nodeHeight + Math.max(0, rows - 1) * rowGap;
  const height = columnHeight(tallest) + 2 * padding;
  const width =
    columns.length * nodeWidth + Math.max(0, columns.length - 1) * layerGap + 2 * padding;
  const nodes: IDagNode[] = [];
  const placed = new Map<string, IDagNode>();
  columns.forEach((column, layer) => {
    const top = padding + (columnHeight(tallest) - columnHeight(column.length)) / 2;
    column.forEach((name, row) => {
      const node: IDagNode = {
        name,
        layer,
        row,
        x: padding + layer * (nodeWidth + layerGap),
        y: top + row * (nodeHeight + rowGap),
        width: nodeWidth,
        height: nodeHeight
      };
      nodes.push(node);
      placed.set(name, node);
    });
  });
  const edges: IDagEdge[] = [];
  for (const step of steps) {
    const to = placed.get(step.name);
    for (const up of new Set(step.upstream)) {
      const from = placed.get(up);
      if (from !== undefined && to !== undefined && up !== step.name) {
        edges.push({ from: up, to: step.name, path: edgePath(from, to) });
      }
    }
  }
  return { nodes, edges, width, height };
}

/** A smooth path from the right middle of `from` to the left middle of `to`. */
export function edgePath(from: IDagNode, to: IDagNode): string {
  const x1 = from.x + from.width;
  const y1 = from.y + from.height / 2;
  const x2 = to.x;
  const y2 = to.y + to.height / 2;
  if (x2 <= x1) {
    // A cycle drawn backwards: bow the curve out below both steps.
    const below = Math.max(from.y + from.height, to.y + to.height) + 16;
    return `M ${x1} ${y1} C ${x1 + 40} ${below}, ${x2 - 40} ${below}, ${x2} ${y2}`;
  }
  const mid = (x1 + x2) / 2;
  return `M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2} ${y2}`;
}
