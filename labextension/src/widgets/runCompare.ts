/**
 * The compare view (main area): 2 to 50 runs side by side, from one `GET runs/compare` call.
 * A parameter table (rows whose values differ are highlighted), a metric table of last values
 * (the best run per metric highlighted) and one overlaid history chart per metric (the server's
 * Vega-Lite spec, a line per run, drawn by JupyterLab's Vega renderer).
 * While any compared run is active a Lumino `Poll` refreshes it; it stops once all have ended.
 */
import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';

import { compareRuns } from '../api';
import { IComparedRun, IRunComparison } from '../generated/restTypes';
import { element, formatNumber, kindBadge, statusBadge } from '../format';
import { CommandIDs } from '../tokens';
import { PollingWidget } from './pollingWidget';
import { ICommandRunner } from './runDetail';
import { VegaCharts, seriesColour } from './vegaChart';

const REFRESH_MS = 3000;
const ACTIVE = new Set(['pending', 'running']);

/** A parameter value as the table shows it: strings bare, everything else as JSON. */
export function showValue(value: unknown): string {
  if (value === undefined) {
    return '—';
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export class RunComparePanel extends PollingWidget {
  /** `commands` lets a click on a run's column header open that run. */
  constructor(
    readonly runIds: readonly string[],
    private readonly _load: (ids: readonly string[]) => Promise<IRunComparison> = compareRuns,
    private readonly _commands: ICommandRunner | null = null,
    private readonly _trans: TranslationBundle = nullTranslator.load('kfjupyter')
  ) {
    super(`kfjupyter:compare:${runIds.join(',')}`, REFRESH_MS);
    const trans = _trans;
    this.addClass('jp-kfjupyter-compare');
    this.title.label = trans.__('Compare %1 runs', runIds.length);
    this.title.caption = trans.__('Compare runs %1', runIds.join(', '));
    this._error = element('div', 'jp-kfjupyter-error');
    this._params = element('div', 'jp-kfjupyter-compare-params');
    this._metrics = element('div', 'jp-kfjupyter-compare-metrics');
    this._charts = element('div', 'jp-kfjupyter-charts');
    this.node.append(
      element('h2', 'jp-kfjupyter-run-detail-name', trans.__('Comparing %1 runs', runIds.length)),
      this._error,
      element('h3', 'jp-kfjupyter-section-header', trans.__('Parameters')),
      this._params,
      element('h3', 'jp-kfjupyter-section-header', trans.__('Metrics (last value)')),
      this._metrics,
      element('h3', 'jp-kfjupyter-section-header', trans.__('Metric history')),
      this._charts
    );
  }

  protected async tick(): Promise<void> {
    let comparison: IRunComparison;
    try {
      comparison = await this._load(this.runIds);
    } catch (error) {
      this._error.textContent = error instanceof Error ? error.message : String(error);
      throw error; // the poll backs off
    }
    this._error.textContent = '';
    this._render(comparison);
    if (!comparison.runs.some(r => ACTIVE.has(r.run.status))) {
      void this.poll.stop();
    }
  }

  private _render(comparison: IRunComparison): void {
    const { runs } = comparison;
    const trans = this._trans;
    const differing = new Set(comparison.differing);
    const params = this._table(trans.__('Parameter'), runs);
    params.dataset.table = 'parameters';
    const paramBody = element('tbody', '');
    for (const name of comparison.parameters) {
      const row = element('tr', differing.has(name) ? 'jp-kfjupyter-diff' : '');
      row.dataset.param = name;
      row.append(element('th', '', name));
      for (const { parameters } of runs) {
        row.append(element('td', '', showValue(parameters[name])));
      }
      paramBody.append(row);
    }
    params.append(paramBody);
    const sameCount = comparison.parameters.length - differing.size;
    const paramNote = comparison.parameters.length
      ? trans.__('%1 of %2 parameters differ', differing.size, comparison.parameters.length) +
        (sameCount ? ' ' + trans.__('(%1 the same)', sameCount) : '')
      : trans.__('None of these runs has parameters.');
    this._params.replaceChildren(element('div', 'jp-kfjupyter-compare-note', paramNote), params);

    const metrics = this._table(trans.__('Metric'), runs);
    metrics.dataset.table = 'metrics';
    const metricBody = element('tbody', '');
    for (const name of comparison.metrics) {
      const row = element('tr', '');
      row.dataset.metric = name;
      row.append(element('th', '', name));
      for (const { run, metrics: last } of runs) {
        const value = last[name];
        const best = comparison.best[name] === run.id;
        const cell = element(
          'td',
          best ? 'jp-kfjupyter-best' : '',
          value === undefined ? '—' : formatNumber(value)
        );
        if (best) {
          cell.title = trans.__('Best value among the compared runs');
        }
        row.append(cell);
      }
      metricBody.append(row);
    }
    metrics.append(metricBody);
    this._metrics.replaceChildren(
      comparison.metrics.length
        ? metrics
        : element('div', 'jp-kfjupyter-empty', trans.__('None of these runs logged metrics.'))
    );

    // A metric every run logged at most once has no history: its values are in the table above.
    const histories = comparison.charts.filter(chart => !chart.single && chart.spec);
    const single = comparison.charts.length - histories.length;
    const note = single
      ? [
          element(
            'div',
            'jp-kfjupyter-compare-note',
            this._trans._n(
              '%1 metric has one value per run: see the table above.',
              '%1 metrics have one value per run: see the table above.',
              single
            )
          )
        ]
      : [];
    this._drawn.dispose();
    this._charts.replaceChildren(
      ...note,
      ...histories.map(chart => this._drawn.figure(chart.metric, chart.spec ?? {}))
    );
  }

  dispose(): void {
    this._drawn.dispose();
    super.dispose();
  }

  /** A table whose header row has one column per run (colour swatch, name, status). */
  private _table(first: string, runs: IComparedRun[]): HTMLTableElement {
    const table = element('table', 'jp-kfjupyter-table jp-kfjupyter-compare-table');
    const head = element('tr', '');
    head.append(element('th', '', first));
    runs.forEach((compared, i) => {
      const cell = element('th', 'jp-kfjupyter-compare-run');
      cell.dataset.runId = compared.run.id;
      const { name: runName, id: runId, notebook } = compared.run;
      cell.title = [runName, runId, notebook ?? ''].filter(Boolean).join('\n');
      const swatch = element('span', 'jp-kfjupyter-legend-swatch');
      swatch.style.background = seriesColour(i);
      const name = element('span', 'jp-kfjupyter-compare-run-name', compared.run.name);
      const id = element('span', 'jp-kfjupyter-compare-run-id', compared.run.id);
      cell.append(
        swatch,
        name,
        id,
        kindBadge(compared.run.kind, this._trans),
        statusBadge(compared.run.status, this._trans)
      );
      if (this._commands !== null) {
        cell.classList.add('jp-mod-clickable');
        cell.addEventListener('click', () => {
          void this._commands?.execute(CommandIDs.openRun, { runId: compared.run.id });
        });
      }
      head.append(cell);
    });
    const thead = element('thead', '');
    thead.append(head);
    table.append(thead);
    return table;
  }

  private readonly _error: HTMLElement;
  private readonly _params: HTMLElement;
  private readonly _metrics: HTMLElement;
  private readonly _charts: HTMLElement;
  private readonly _drawn = new VegaCharts();
}
