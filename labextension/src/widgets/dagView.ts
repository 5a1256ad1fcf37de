/**
 * The run's step graph as a native SVG: one box per step, coloured by its status through CSS
 * (`data-status`), and arrows from each step to the steps that wait for it. Clicking a step (or
 * pressing Enter on it) emits `stepSelected`; the layout comes from `../dag`.
 */
import { ISignal, Signal } from '@lumino/signaling';
import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { IDagNode, layoutDag } from '../dag';
import { IStepSummary } from '../generated/restTypes';
import { svg } from '../svg';

const LABEL_CHARS = 20;

/**
 * Each graph gets its own arrow marker id: `url(#id)` resolves to the first element with that id
 * in the document, and a marker inside a hidden tab (another run's graph) is not drawn.
 */
let markerCount = 0;

/** `name` cut to the box, with an ellipsis when cut. */
function label(name: string): string {
  return name.length <= LABEL_CHARS ? name : `${name.slice(0, LABEL_CHARS - 1)}…`;
}

export class DagView extends Widget {
  constructor(private readonly _trans: TranslationBundle = nullTranslator.load('kfjupyter')) {
    super();
    this.addClass('jp-kfjupyter-dag');
    this._markerId = `jp-kfjupyter-dag-arrow-${++markerCount}`;
  }

  /** Emitted with the name of the step the user clicked. */
  get stepSelected(): ISignal<this, string> {
    return this._stepSelected;
  }

  /** Draw `steps`, highlighting `selected`; redraws only when the graph or a status changed. */
  render(steps: readonly IStepSummary[], selected: string | null): void {
    const key = JSON.stringify(steps.map(s => [s.name, s.status, s.upstream]));
    if (key !== this._key) {
      this._key = key;
      this._draw(steps);
    }
    this.select(selected);
  }

  /** Mark `step` as the selected node. */
  select(step: string | null): void {
    for (const node of Array.from(
      this.node.querySelectorAll<SVGGElement>('.jp-kfjupyter-dag-node')
    )) {
      node.classList.toggle('jp-mod-selected', node.dataset.step === step);
    }
  }

  private _draw(steps: readonly IStepSummary[]): void {
    if (!steps.length) {
      this.node.replaceChildren();
      return;
    }
    const layout = layoutDag(steps);
    const root = svg('svg', {
      class: 'jp-kfjupyter-dag-svg',
      width: layout.width,
      height: layout.height,
      viewBox: `0 0 ${layout.width} ${layout.height}`,
      role: 'img'
    });
    root.setAttribute(
      'aria-label',
      this._trans._n('Step graph with %1 step', 'Step graph with %1 steps', steps.length)
    );
    const defs = svg('defs');
    const marker = svg('marker', {
      id: this._markerId,
      viewBox: '0 0 10 10',
      refX: 9,
      refY: 5,
      markerWidth: 7,
      markerHeight: 7,
      orient: 'auto-start-reverse'
    });
    marker.append(svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'jp-kfjupyter-dag-arrow' }));
    defs.append(marker);
    root.append(defs);
    const markerId = this._markerId;
    for (const edge of layout.edges) {
      const path = svg('path', {
        d: edge.path,
        class: 'jp-kfjupyter-dag-edge',
        'marker-end': `url(#${markerId})`
      });
      path.dataset.from = edge.from;
      path.dataset.to = edge.to;
      root.append(path);
    }
    const statuses = new Map(steps.map(step => [step.name, step.status]));
    for (const node of layout.nodes) {
      root.append(this._node(node, statuses.get(node.name) ?? 'pending'));
    }
    const failed = steps.some(s => s.status === 'failed' || s.status === 'upstream_failed');
    this.node.replaceChildren(root, ...(failed ? [failureLegend()] : []));
  }

  private _node(node: IDagNode, status: string): SVGGElement {
    const group = svg('g', {
      class: 'jp-kfjupyter-dag-node',
      transform: `translate(${node.x} ${node.y})`,
      tabindex: 0,
      role: 'button'
    });
    group.dataset.step = node.name;
    group.dataset.status = status;
    const title = svg('title');
    title.textContent = `${node.name}: ${status.replace('_', ' ')}`;
    const box = svg('rect', { width: node.width, height: node.height, rx: 6, ry: 6 });
    const text = svg('text', { x: 10, y: node.height / 2, 'dominant-baseline': 'central' });
    text.textContent = label(node.name);
    const dot = svg('circle', {
      class: 'jp-kfjupyter-dag-dot',
      cx: node.width - 12,
      cy: node.height / 2,
      r: 4
    });
    group.append(title, box, text, dot);
    const pick = (): void => this._stepSelected.emit(node.name);
    group.addEventListener('click', pick);
    group.addEventListener('keydown', event => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        pick();
      }
    });
    return group;
  }

  private _key = '';
  private readonly _markerId: string;
  private readonly _stepSelected = new Signal<this, string>(this);
}

/** What the two red styles mean: the step that failed, and the steps it kept from running. */
function failureLegend(): HTMLElement {
  const list = document.createElement('ul');
  list.className = 'jp-kfjupyter-dag-legend';
  for (const [status, text] of [
    ['failed', 'failed: the step that broke (see its log)'],
    ['upstream_failed', 'upstream failed: not run, because an earlier step failed']
  ]) {
    const item = document.createElement('li');
    item.dataset.status = status;
    const swatch = document.createElement('span');
    swatch.className = 'jp-kfjupyter-dag-legend-swatch';
    item.append(swatch, document.createTextNode(text));
    list.append(item);
  }
  return list;
}
