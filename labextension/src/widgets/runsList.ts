/**
 * The runs list of the Kubeflow sidebar: newest runs first, kept fresh by a Lumino `Poll`.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { IRunQuery, listRuns } from '../api';
import { element, elapsed, formatAgo, formatDuration, statusBadge } from '../format';
import { IRunList, IRunSummary } from '../validate';
import { PollingWidget } from './pollingWidget';

/** How often the list asks the server for runs (ms); the poll backs off on errors. */
const REFRESH_MS = 3000;

export class RunsList extends PollingWidget {
  constructor(
    private readonly _load: (query: IRunQuery) => Promise<IRunList> = listRuns,
    private readonly _limit = 50
  ) {
    super('kfjupyter:runs', REFRESH_MS);
    this.addClass('jp-kfjupyter-runs');
    this._list = element('ul', 'jp-kfjupyter-runs-list');
    this._message = element('div', 'jp-kfjupyter-runs-message', 'Loading runs…');
    this.node.append(
      element('h3', 'jp-kfjupyter-section-header', 'Runs'),
      this._message,
      this._list
    );
  }

  /** Emitted with the run the user clicked. */
  get selected(): ISignal<this, IRunSummary> {
    return this._selected;
  }

  protected async tick(): Promise<void> {
    let page: IRunList;
    try {
      page = await this._load({ limit: this._limit });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this._message.className = 'jp-kfjupyter-runs-message jp-kfjupyter-error';
      this._message.textContent = `Cannot list runs: ${message}`;
      throw error; // the poll backs off
    }
    this._render(page.runs);
  }

  private _render(runs: IRunSummary[]): void {
    this._message.className = 'jp-kfjupyter-runs-message';
    this._message.textContent = runs.length
      ? ''
      : 'No runs yet. Open a notebook and use "Kubeflow: Run notebook".';
    this._message.hidden = runs.length > 0;
    const now = Date.now();
    this._list.replaceChildren(...runs.map(run => this._item(run, now)));
  }

  private _item(run: IRunSummary, now: number): HTMLElement {
    const item = element('li', 'jp-kfjupyter-run');
    item.dataset.runId = run.id;
    item.dataset.status = run.status;
    item.tabIndex = 0;
    item.title = [run.id, run.notebook ?? '', run.error ?? ''].filter(Boolean).join('\n');
    const top = element('div', 'jp-kfjupyter-run-top');
    top.append(element('span', 'jp-kfjupyter-run-name', run.name), statusBadge(run.status));
    const duration = elapsed(run.started_at, run.finished_at, run.duration_s, now);
    const meta = element(
      'div',
      'jp-kfjupyter-run-meta',
      `${formatDuration(duration)} · ${formatAgo(run.created_at, now)}`
    );
    item.append(top, meta);
    const open = (): void => this._selected.emit(run);
    item.addEventListener('click', open);
    item.addEventListener('keydown', event => {
      if (event.key === 'Enter') {
        open();
      }
    });
    return item;
  }

  private readonly _list: HTMLUListElement;
  private readonly _message: HTMLElement;
  private readonly _selected = new Signal<this, IRunSummary>(this);
}
