// Step-graph layout for the Lab's run view: our layered layout (labextension/src/dag.ts) side by
// side with the maintained libraries @dagrejs/dagre and ELK (elkjs, "layered", as JupyterLab's
// mermaid ships it), on random DAGs of 50, 200 and 800 steps (1-3 upstream steps each,
// seeded). Prints the median layout time, the drawing size and the edge crossings (straight
// segments from a step's right side to its downstream step's left side), and the ratios to ours.
//
//   jlpm build:prod && npm install --prefix /tmp/dagre @dagrejs/dagre@1 \
//     && DAGRE=/tmp/dagre/node_modules/@dagrejs/dagre node bench/dag_layout.mjs
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const modules = dirname(require.resolve('elkjs/package.json')).replace(/elkjs$/, '');
const ours = await import(
  'data:text/javascript,' + encodeURIComponent(readFileSync(join(root, 'labextension/lib/dag.js'), 'utf8'))
);
const dagre = require(process.env.DAGRE ?? '@dagrejs/dagre');
const { Graph } = dagre.graphlib;
const ELK = require('elkjs/lib/elk.bundled.js');
const elk = new ELK();
const { nodeWidth: W, nodeHeight: H, layerGap, rowGap } = ours.DEFAULT_SIZES;

function randomDag(n, seed) {
  let state = seed;
  const next = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  return Array.from({ length: n }, (_, i) => {
    const upstream = new Set();
    const count = i === 0 ? 0 : 1 + Math.floor(next() * 3);
    for (let k = 0; k < count; k++) {
      upstream.add(`s${Math.max(0, i - 1 - Math.floor(next() * Math.min(i, 12)))}`);
    }
    return { name: `s${i}`, upstream: [...upstream] };
  });
}

function crossings(boxes, steps) {
  const segments = [];
  for (const step of steps) {
    for (const up of step.upstream) {
      const a = boxes.get(up);
      const b = boxes.get(step.name);
      segments.push([up, step.name, a.x + a.width, a.y + a.height / 2, b.x, b.y + b.height / 2]);
    }
  }
  const side = (ax, ay, bx, by, cx, cy) => Math.sign((bx - ax) * (cy - ay) - (by - ay) * (cx - ax));
  let count = 0;
  for (let i = 0; i < segments.length; i++) {
    for (let j = i + 1; j < segments.length; j++) {
      const [f1, t1, x1, y1, x2, y2] = segments[i];
      const [f2, t2, x3, y3, x4, y4] = segments[j];
      if (f1 === f2 || t1 === t2 || f1 === t2 || t1 === f2) {
        continue;
      }
      if (
        side(x1, y1, x2, y2, x3, y3) * side(x1, y1, x2, y2, x4, y4) < 0 &&
        side(x3, y3, x4, y4, x1, y1) * side(x3, y3, x4, y4, x2, y2) < 0
      ) {
        count++;
      }
    }
  }
  return count;
}

async function layOurs(steps) {
  const layout = ours.layoutDag(steps);
  return { boxes: new Map(layout.nodes.map(n => [n.name, n])), width: layout.width, height: layout.height };
}

async function layDagre(steps) {
  const g = new Graph();
  g.setGraph({ rankdir: 'LR', nodesep: rowGap, ranksep: layerGap });
  g.setDefaultEdgeLabel(() => ({}));
  for (const s of steps) {
    g.setNode(s.name, { width: W, height: H });
  }
  for (const s of steps) {
    for (const up of s.upstream) {
      g.setEdge(up, s.name);
    }
  }
  dagre.layout(g);
  const boxes = new Map(
    g.nodes().map(name => {
      const n = g.node(name);
      return [name, { x: n.x - W / 2, y: n.y - H / 2, width: W, height: H }];
    })
  );
  return { boxes, width: g.graph().width, height: g.graph().height };
}

async function layElk(steps) {
  const graph = await elk.layout({
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.spacing.nodeNode': String(rowGap),
      'elk.layered.spacing.nodeNodeBetweenLayers': String(layerGap)
    },
    children: steps.map(s => ({ id: s.name, width: W, height: H })),
    edges: steps.flatMap(s => s.upstream.map(up => ({ id: `${up}>${s.name}`, sources: [up], targets: [s.name] })))
  });
  const boxes = new Map(graph.children.map(c => [c.id, { x: c.x, y: c.y, width: W, height: H }]));
  return { boxes, width: graph.width, height: graph.height };
}

async function measure(lay, steps, repeats) {
  const times = [];
  let result;
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    result = await lay(steps);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], ...result };
}

const engines = [
  ['ours (dag.ts)', layOurs],
  ['@dagrejs/dagre', layDagre],
  ['elkjs layered', layElk]
];
for (const n of [50, 200, 800]) {
  const steps = randomDag(n, 7);
  const repeats = n > 200 ? 3 : 7;
  let base = null;
  for (const [name, lay] of engines) {
    await measure(lay, steps, 1); // warm up
    const r = await measure(lay, steps, repeats);
    const cross = crossings(r.boxes, steps);
    base ??= { ms: r.ms, cross };
    console.log(
      `${String(n).padStart(4)} steps  ${name.padEnd(20)} ${r.ms.toFixed(1).padStart(8)} ms  ` +
        `(${(r.ms / base.ms).toFixed(1)}x)  ${Math.round(r.width)}x${Math.round(r.height)} px  ` +
        `${cross} crossings (${base.cross ? (cross / base.cross).toFixed(2) : '-'}x)`
    );
  }
}
