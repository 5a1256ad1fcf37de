/**
 * Markers inside notebook cells: a badge for what each cell is (the start of a step, a cell that
 * continues the step above, shared set-up, pipeline parameters, a skipped cell) and one marker per
 * lint diagnostic of the cell. Each cell gets one `CellMarkers` strip above its input, kept up to
 * date by `renderCellMarkers` after every lint answer.
 *
 * The server counts cells from 0; JupyterLab shows them from 1 ("Cell 2/5" in the status bar). A
 * finding's "cell N" is written as JupyterLab counts, as a link that scrolls to the cell ("this
 * cell" on the cell itself).
 */
import { Cell } from '@jupyterlab/cells';
import { Notebook } from '@jupyterlab/notebook';
import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';
import { PanelLayout, Widget } from '@lumino/widgets';

import { IDiagnostic, IGraphNode, ILintResult } from '../generated/restTypes';

const NULL_BUNDLE = nullTranslator.load('kfjupyter');

const SEVERITY_ICON: { [severity: string]: string } = { error: '✖', warning: '⚠', info: 'ℹ' };

/** Moves the notebook to the cell at a 0-based index. */
export type GoToCell = (index: number) => void;

/**
 * `text` as nodes, each "cell N" (0-based, as the server writes it) replaced: "this cell" when N
 * is `here`, else a link "cell N+1" that calls `go(N)`.
 */
export function linkCells(
  text: string,
  here: number | null,
  go: GoToCell | null,
  trans: TranslationBundle = NULL_BUNDLE
): Node[] {
  const nodes: Node[] = [];
  let last = 0;
  for (const match of text.matchAll(/\b([Cc])ell (\d+)\b/g)) {
    const index = Number(match[2]);
    nodes.push(document.createTextNode(text.slice(last, match.index)));
    last = (match.index ?? 0) + match[0].length;
    if (index === here) {
      nodes.push(
        document.createTextNode(match[1] === 'C' ? trans.__('This cell') : trans.__('this cell'))
      );
      continue;
    }
    const label =
      match[1] === 'C' ? trans.__('Cell %1', index + 1) : trans.__('cell %1', index + 1);
    if (go === null) {
      nodes.push(document.createTextNode(label));
      continue;
    }
    const link = document.createElement('a');
    link.className = 'jp-kfjupyter-cell-link';
    link.href = '#';
    link.dataset.cell = String(index);
    link.textContent = label;
    link.title = trans.__('Go to cell %1', index + 1);
    link.addEventListener('click', event => {
      event.preventDefault();
      event.stopPropagation();
      go(index);
    });
    nodes.push(link);
  }
  nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}

/** Make `notebook`'s cell at `index` the active one and scroll it into view. */
export function goToCell(notebook: Notebook): GoToCell {
  return index => {
    if (index < 0 || index >= notebook.widgets.length) {
      return;
    }
    notebook.activeCellIndex = index;
    void notebook.scrollToItem(index, 'smart');
  };
}

/** The strip of markers shown above one cell's input. */
export class CellMarkers extends Widget {
  constructor(private readonly _trans: TranslationBundle = NULL_BUNDLE) {
    super();
    this.addClass('jp-kfjupyter-cell-markers');
  }

  /**
   * Show what the cell is (`role`: the step it starts or continues, set-up, parameters, skipped)
   * and the cell's `diagnostics`; the strip is hidden when there is nothing to show.
   */
  setMarkers(
    role: CellRole | null,
    diagnostics: IDiagnostic[],
    here: number | null = null,
    go: GoToCell | null = null
  ): void {
    const items: HTMLElement[] = [];
    if (role !== null) {
      items.push(roleBadge(role, go, this._trans));
    }
    for (const diagnostic of diagnostics) {
      items.push(diagnosticMarker(diagnostic, here, go, this._trans));
    }
    this.node.replaceChildren(...items);
    this.setHidden(items.length === 0);
  }
}

function stepBadge(node: IGraphNode, trans: TranslationBundle): HTMLElement {
  const badge = document.createElement('span');
  badge.className = 'jp-kfjupyter-step-badge';
  badge.dataset.step = node.name;
  badge.dataset.kind = node.kind;
  badge.textContent = node.kind === 'metrics' ? `metrics · ${node.name}` : `step · ${node.name}`;
  const inputs = Object.entries(node.inputs).map(([name, from]) =>
    trans.__('%1 from %2', name, from)
  );
  const cells = node.cells.map(cell => cell + 1).join(', ');
  const lines = [
    trans._n(
      "Pipeline step '%2' (cell %3)",
      "Pipeline step '%2' (cells %3)",
      node.cells.length,
      node.name,
      cells
    )
  ];
  if (inputs.length > 0) {
    lines.push(trans.__('Reads: %1', inputs.join(', ')));
  }
  if (node.outputs.length > 0) {
    lines.push(trans.__('Passes on: %1', node.outputs.join(', ')));
  }
  badge.title = lines.join('\n');
  return badge;
}

/** What one cell is in the pipeline, as a badge shows it. */
export type CellRole =
  | { kind: 'start'; node: IGraphNode }
  | { kind: 'continues'; node: IGraphNode }
  | { kind: 'setup' | 'parameters' | 'skip' };

function plainBadges(trans: TranslationBundle): {
  [kind in 'setup' | 'parameters' | 'skip']: [string, string];
} {
  return {
    setup: [
      trans.__('set-up'),
      trans.__('Shared set-up (imports, functions): runs before every step')
    ],
    parameters: [
      trans.__('parameters'),
      trans.__('Pipeline parameters: each assignment is a parameter the Run dialog lets you change')
    ],
    skip: [
      trans.__('skipped'),
      trans.__('Left out of the pipeline (marked skip); the cells below continue the step above')
    ]
  };
}

function roleBadge(role: CellRole, go: GoToCell | null, trans: TranslationBundle): HTMLElement {
  if (role.kind === 'start') {
    return stepBadge(role.node, trans);
  }
  const badge = document.createElement('span');
  badge.className = 'jp-kfjupyter-step-badge';
  if (role.kind === 'continues') {
    const { node } = role;
    badge.dataset.kind = 'continues';
    badge.dataset.step = node.name;
    badge.textContent = `↳ ${node.kind === 'metrics' ? 'metrics' : 'step'} · ${node.name}`;
    badge.title = trans.__(
      "Part of step '%1', which starts in cell %2 (click to go there)",
      node.name,
      node.cells[0] + 1
    );
    if (go !== null) {
      badge.classList.add('jp-mod-link');
      badge.addEventListener('click', () => go(node.cells[0]));
    }
    return badge;
  }
  const [label, title] = plainBadges(trans)[role.kind];
  badge.dataset.kind = role.kind;
  badge.textContent = label;
  badge.title = title;
  return badge;
}

/** The role of every cell `result` gives one, by 0-based cell index. */
export function cellRoles(result: ILintResult | null): Map<number, CellRole> {
  const roles = new Map<number, CellRole>();
  if (result === null) {
    return roles;
  }
  const { graph } = result;
  for (const cell of graph.setup_cells) {
    roles.set(cell, { kind: 'setup' });
  }
  for (const cell of graph.parameter_cells) {
    roles.set(cell, { kind: 'parameters' });
  }
  for (const cell of graph.skipped_cells) {
    roles.set(cell, { kind: 'skip' });
  }
  for (const node of graph.nodes) {
    node.cells.forEach((cell, i) => {
      roles.set(cell, i === 0 ? { kind: 'start', node } : { kind: 'continues', node });
    });
  }
  return roles;
}

function diagnosticMarker(
  diagnostic: IDiagnostic,
  here: number | null,
  go: GoToCell | null,
  trans: TranslationBundle
): HTMLElement {
  const marker = document.createElement('span');
  marker.className = 'jp-kfjupyter-diagnostic';
  marker.dataset.severity = diagnostic.severity;
  marker.dataset.code = diagnostic.code;
  const where = diagnostic.line === null ? '' : ` line ${diagnostic.line}`;
  marker.append(
    `${SEVERITY_ICON[diagnostic.severity] ?? ''} ${diagnostic.code}${where}: `,
    ...linkCells(diagnostic.message, here, go, trans)
  );
  const plain = (text: string): string =>
    linkCells(text, here, null, trans)
      .map(node => node.textContent)
      .join('');
  const message = plain(diagnostic.message);
  marker.title = diagnostic.hint ? `${message}\n${plain(diagnostic.hint)}` : message;
  return marker;
}

const markersOf = new WeakMap<Cell, CellMarkers>();

/** The markers strip of `cell`, created (above the input) on first use. */
function markersFor(cell: Cell, trans: TranslationBundle): CellMarkers {
  let markers = markersOf.get(cell);
  if (markers === undefined || markers.isDisposed) {
    markers = new CellMarkers(trans);
    const layout = cell.layout as PanelLayout;
    const input = layout.widgets.findIndex(widget => widget.hasClass('jp-Cell-inputWrapper'));
    layout.insertWidget(input < 0 ? layout.widgets.length : input, markers);
    markersOf.set(cell, markers);
  }
  return markers;
}

/** Put `result`'s step badges and diagnostics on the cells of `notebook`; null clears them all. */
export function renderCellMarkers(
  notebook: Notebook,
  result: ILintResult | null,
  trans: TranslationBundle = NULL_BUNDLE
): void {
  const roles = cellRoles(result);
  const byCell = new Map<number, IDiagnostic[]>();
  for (const diagnostic of result?.diagnostics ?? []) {
    if (diagnostic.cell !== null) {
      byCell.set(diagnostic.cell, [...(byCell.get(diagnostic.cell) ?? []), diagnostic]);
    }
  }
  notebook.widgets.forEach((cell, index) => {
    const role = roles.get(index) ?? null;
    const diagnostics = byCell.get(index) ?? [];
    if (role === null && diagnostics.length === 0 && !markersOf.has(cell)) {
      return;
    }
    markersFor(cell, trans).setMarkers(role, diagnostics, index, goToCell(notebook));
  });
}
