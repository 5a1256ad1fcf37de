/**
 * The run detail panel (main area): the run's status, parameters, metrics and steps, and the log
 * of the step the user picks. While the run is active a Lumino `Poll` refreshes it and follows
 * the log from the last offset; it stops once the run has ended.
 */

import { getRun, getStepLog } from '../api';
import { element, elapsed, formatAgo, formatDuration, statusBadge } from '../format';
import { ILogText, IRunDetail, IStepSummary } from '../validate';
import { PollingWidget } from './pollingWidget';

const REFRESH_MS = 2000;
const ACTIVE = new Set(['pending', 'running']);

/** What the panel needs from the server; tests can pass fakes. */
export interface IRunSource {
  getRun(runId: string): Promise<IRunDetail>;
  getStepLog(runId: string, step: string, offset: number): Promise<ILogText>;
}

const SERVER: IRunSource = {
  getRun: runId => getRun(runId),
  getStepLog: (runId, step, offset) => getStepLog(runId, step, offset)
};

export class RunDetailPanel extends PollingWidget {
  constructor(
    readonly runId: string,
    private readonly _source: IRunSource = SERVER
  ) {
    super(`kfjupyter:run:${runId}`, REFRESH_MS);
    this.addClass('jp-kfjupyter-run-detail');
    this.node.dataset.runId = runId;
    this._header = element('div', 'jp-kfjupyter-run-detail-header');
    this._error = element('div', 'jp-kfjupyter-error');
    this._summary = element('div', 'jp-kfjupyter-run-detail-summary');
    this._steps = element('tbody', '');
    const table = element('table', 'jp-kfjupyter-steps');
    const head = element('thead', '');
    const headRow = element('tr', '');
    for (const label of ['Step', 'Status', 'Cached', 'Duration', 'Error']) {
      headRow.append(element('th', '', label));
    }
    head.append(headRow);
    table.append(head, this._steps);
    this._logTitle = element('h3', 'jp-kfjupyter-section-header', 'Log');
    this._log = element('pre', 'jp-kfjupyter-log', 'Click a step to see its log.');
    this.node.append(
      this._header,
      this._error,
      this._summary,
      element('h3', 'jp-kfjupyter-section-header', 'Steps'),
      table,
      this._logTitle,
      this._log
    );
  }

  /** The step whose log is shown, if any. */
  get step(): string | null {
    return this._step;
  }

  /** Show the log of `step`, from its beginning. */
  async showStep(step: string): Promise<void> {
    this._step = step;
    this._offset = 0;
    this._logTitle.textContent = `Log of ${step}`;
    this._log.textContent = '';
    this._log.dataset.step = step;
    for (const row of Array.from(
      this._steps.querySelectorAll<HTMLElement>('tr.jp-kfjupyter-step')
    )) {
      row.classList.toggle('jp-mod-selected', row.dataset.step === step);
    }
    await this._followLog();
  }

  protected async tick(): Promise<void> {
    let detail: IRunDetail;
    try {
      detail = await this._source.getRun(this.runId);
    } catch (error) {
      this._error.textContent = error instanceof Error ? error.message : String(error);
      throw error; // the poll backs off
    }
    this._error.textContent = '';
    this._render(detail);
    if (this._step !== null) {
      await this._followLog();
    }
    if (!ACTIVE.has(detail.run.status)) {
      void this.poll.stop();
    }
  }

  private async _followLog(): Promise<void> {
    const step = this._step;
    if (step === null) {
      return;
    }
    try {
      const chunk = await this._source.getStepLog(this.runId, step, this._offset);
      if (step !== this._step || chunk.next_offset < this._offset) {
        return; // the user picked another step meanwhile
      }
      this._offset = chunk.next_offset;
      if (!chunk.exists) {
        this._log.textContent = 'This step has not written a log yet.';
      } else if (chunk.text) {
        this._log.textContent = (this._log.textContent ?? '') + chunk.text;
      }
    } catch (error) {
      this._log.textContent = error instanceof Error ? error.message : String(error);
    }
  }

  private _render(detail: IRunDetail): void {
    const { run } = detail;
    this.title.label = `Run ${run.name}`;
    this.title.caption = `${run.name} (${run.id}): ${run.status}`;
    this.node.dataset.status = run.status;
    const name = element('h2', 'jp-kfjupyter-run-detail-name', run.name);
    this._header.replaceChildren(name, statusBadge(run.status));
    const now = Date.now();
    const facts: [string, string][] = [
      ['Run id', run.id],
      ['Notebook', run.notebook ?? '—'],
      ['Started', formatAgo(run.created_at, now)],
      ['Duration', formatDuration(elapsed(run.started_at, run.finished_at, run.duration_s, now))]
    ];
    const params = Object.entries(detail.parameters);
    if (params.length) {
      facts.push(['Parameters', params.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')]);
    }
    const metrics = Object.entries(detail.metrics);
    if (metrics.length) {
      facts.push(['Metrics', metrics.map(([k, v]) => `${k}=${v}`).join(', ')]);
    }
    if (run.error) {
      facts.push(['Error', run.error]);
    }
    const list = element('dl', 'jp-kfjupyter-facts');
    for (const [label, value] of facts) {
      list.append(element('dt', '', label), element('dd', '', value));
    }
    this._summary.replaceChildren(list);
    this._steps.replaceChildren(...detail.steps.map(step => this._stepRow(step, now)));
  }

  private _stepRow(step: IStepSummary, now: number): HTMLElement {
    const row = element('tr', 'jp-kfjupyter-step');
    row.dataset.step = step.name;
    row.dataset.status = step.status;
    row.classList.toggle('jp-mod-selected', step.name === this._step);
    row.tabIndex = 0;
    const status = element('td', '');
    status.append(statusBadge(step.status));
    const duration = elapsed(step.started_at, step.finished_at, step.duration_s, now);
    row.append(
      element('td', 'jp-kfjupyter-step-name', step.name),
      status,
      element('td', '', step.cached ? 'yes' : 'no'),
      element('td', '', formatDuration(duration)),
      element('td', 'jp-kfjupyter-step-error', step.error ?? '')
    );
    const open = (): void => void this.showStep(step.name);
    row.addEventListener('click', open);
    row.addEventListener('keydown', event => {
      if (event.key === 'Enter') {
        open();
      }
    });
    return row;
  }

  private readonly _header: HTMLElement;
  private readonly _error: HTMLElement;
  private readonly _summary: HTMLElement;
  private readonly _steps: HTMLTableSectionElement;
  private readonly _logTitle: HTMLElement;
  private readonly _log: HTMLPreElement;
  private _step: string | null = null;
  private _offset = 0;
}
