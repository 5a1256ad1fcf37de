/**
 * The runs list of the Kubeflow sidebar: newest runs first (or in the order picked in the filter
 * bar), narrowed by the filter bar and the search box (server-side), one page at a time with "Load more" (also triggered by scrolling to
 * the end), kept fresh by a Lumino `Poll`. Runs can be selected (checkbox or Ctrl/Cmd-click) to
 * be compared; a plain click opens one. From the keyboard: arrow keys (and Home/End) move between
 * runs, Enter opens one, Space selects it; the focused run keeps its focus across refreshes.
 */
import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';
import { ISignal, Signal } from '@lumino/signaling';

import { IRunQuery, MAX_COMPARED, listRuns } from '../api';
import {
  element,
  elapsed,
  formatAgo,
  formatClock,
  formatDuration,
  kindBadge,
  shortPath,
  shortRunId,
  statusBadge
} from '../format';
import { IRunList, IRunSummary } from '../generated/restTypes';
import { KubeflowSettings } from '../settings';
import { PollingWidget } from './pollingWidget';
import { RunFilters, RunsFilterBar } from './runsFilters';

/** Largest page the server serves. */
const MAX_PAGE = 200;

/** Milliseconds between two refreshes, as the user's "Runs list refresh" preference says. */
function intervalOf(settings: KubeflowSettings): number {
  return settings.values.runsRefreshSeconds * 1000;
}

export class RunsList extends PollingWidget {
  /**
   * `settings` sets how often the list asks the server for runs (the poll backs off on errors);
   * a change applies at once.
   */
  constructor(
    private readonly _load: (query: IRunQuery) => Promise<IRunList> = listRuns,
    private readonly _pageSize = 50,
    private readonly _trans: TranslationBundle = nullTranslator.load('kfjupyter'),
    settings: KubeflowSettings = new KubeflowSettings()
  ) {
    super('kfjupyter:runs', intervalOf(settings));
    const trans = _trans;
    this.addClass('jp-kfjupyter-runs');
    this.node.dataset.refreshMs = String(intervalOf(settings));
    settings.changed.connect(() => {
      this.setInterval(intervalOf(settings));
      this.node.dataset.refreshMs = String(intervalOf(settings));
    }, this);
    this._wanted = _pageSize;
    this._filters = new RunsFilterBar(trans);
    this._filters.changed.connect(() => {
      this._wanted = this._pageSize;
      this._generation += 1;
      this._list.replaceChildren();
      this._message.hidden = false;
      this._message.textContent = trans.__('Searching…');
      void this.refresh();
    });
    this._list = element('ul', 'jp-kfjupyter-runs-list');
    this._message = element('div', 'jp-kfjupyter-runs-message', trans.__('Loading runs…'));
    this._more = element(
      'button',
      'jp-Button jp-mod-styled jp-kfjupyter-runs-more',
      trans.__('Load more')
    );
    this._more.hidden = true;
    this._more.addEventListener('click', () => void this.loadMore());
    this._observer = new IntersectionObserver(entries => {
      if (entries.some(entry => entry.isIntersecting)) {
        void this.loadMore();
      }
    });
    this._observer.observe(this._more);
    this._selectionBar = element('div', 'jp-kfjupyter-runs-selection');
    this._selectionText = element('span', 'jp-kfjupyter-runs-selection-count');
    this._compare = element('button', 'jp-Button jp-mod-styled jp-mod-accept', trans.__('Compare'));
    this._compare.classList.add('jp-kfjupyter-compare-button');
    this._compare.addEventListener('click', () => this._compareRequested.emit(this.selection));
    const clear = element(
      'button',
      'jp-Button jp-mod-styled jp-kfjupyter-runs-clear',
      trans.__('Clear')
    );
    clear.addEventListener('click', () => this.clearSelection());
    this._selectionBar.append(this._selectionText, this._compare, clear);
    this._selectionBar.hidden = true;
    this.node.append(
      element('h3', 'jp-kfjupyter-section-header', trans.__('Runs')),
      this._filters.node,
      this._selectionBar,
      this._message,
      this._list,
      this._more
    );
  }

  /** Emitted with the run the user clicked. */
  get selected(): ISignal<this, IRunSummary> {
    return this._selected;
  }

  /** Ids of the runs picked for comparison, in the order they were picked. */
  get selection(): string[] {
    return Array.from(this._selection);
  }

  /** Emitted with the new selection whenever a run is picked or dropped. */
  get selectionChanged(): ISignal<this, string[]> {
    return this._selectionChanged;
  }

  /** Emitted with the selection when the user presses "Compare". */
  get compareRequested(): ISignal<this, string[]> {
    return this._compareRequested;
  }

  /** Move the keyboard focus to the first run (or the message when there are none). */
  focusList(): void {
    const first = this._list.querySelector<HTMLElement>('li.jp-kfjupyter-run');
    first?.focus();
  }

  /** Drop every picked run. */
  clearSelection(): void {
    this._selection.clear();
    this._selectionUpdated();
  }

  /** Show the next page of runs. */
  async loadMore(): Promise<void> {
    if (this._more.hidden || this._loading) {
      return;
    }
    this._wanted += this._pageSize;
    await this.refresh();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._observer.disconnect();
    this._filters.dispose();
    super.dispose();
  }

  protected async tick(): Promise<void> {
    const generation = this._generation;
    const filters = this._filters.value;
    const runs: IRunSummary[] = [];
    let hasMore = false;
    this._loading = true;
    try {
      // Re-read every shown page, so statuses and durations stay live further down too.
      while (runs.length < this._wanted) {
        const limit = Math.min(MAX_PAGE, this._wanted - runs.length);
        const page = await this._load({ ...filters, limit, offset: runs.length });
        runs.push(...page.runs);
        hasMore = page.has_more;
        if (!page.has_more || page.runs.length === 0) {
          break;
        }
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this._message.className = 'jp-kfjupyter-runs-message jp-kfjupyter-error';
      this._message.textContent = this._trans.__('Cannot list runs: %1', message);
      this._message.hidden = false;
      throw error; // the poll backs off
    } finally {
      this._loading = false;
    }
    if (generation === this._generation) {
      this._render(runs, hasMore, filters);
    }
  }

  private _render(runs: IRunSummary[], hasMore: boolean, filters: RunFilters): void {
    this._message.className = 'jp-kfjupyter-runs-message';
    const filtered = Object.keys(filters).some(key => key !== 'sort');
    this._message.textContent = filtered
      ? this._trans.__('No runs match these filters.')
      : this._trans.__('No runs yet. Open a notebook and use "Run as Pipeline" in its toolbar.');
    this._message.hidden = runs.length > 0;
    const now = Date.now();
    const active = document.activeElement;
    const focused =
      active instanceof HTMLElement && this._list.contains(active) ? active.dataset.runId : null;
    this._list.replaceChildren(...runs.map(run => this._item(run, now)));
    if (focused) {
      this._list.querySelector<HTMLElement>(`li[data-run-id="${CSS.escape(focused)}"]`)?.focus();
    }
    this._more.hidden = !hasMore;
  }

  private _item(run: IRunSummary, now: number): HTMLElement {
    const item = element('li', 'jp-kfjupyter-run');
    item.dataset.runId = run.id;
    item.dataset.status = run.status;
    item.dataset.kind = run.kind;
    item.tabIndex = 0;
    item.title = [run.id, run.notebook ?? '', run.error ?? ''].filter(Boolean).join('\n');
    const picked = this._selection.has(run.id);
    item.classList.toggle('jp-mod-selected', picked);
    const box = element('input', 'jp-kfjupyter-run-select');
    box.type = 'checkbox';
    box.checked = picked;
    box.title = this._trans.__('Select to compare');
    box.setAttribute('aria-label', this._trans.__('Select %1 to compare', run.name));
    box.addEventListener('click', event => {
      event.stopPropagation();
      this._toggle(run.id, item, box);
    });
    const top = element('div', 'jp-kfjupyter-run-top');
    const short = element('span', 'jp-kfjupyter-run-short-id', `#${shortRunId(run.id)}`);
    short.title = this._trans.__('Run id %1', run.id);
    top.append(
      box,
      element('span', 'jp-kfjupyter-run-name', run.name),
      short,
      statusBadge(run.status, this._trans)
    );
    const duration = elapsed(run.started_at, run.finished_at, run.duration_s, now);
    const where = run.notebook === null ? run.id : shortPath(run.notebook);
    const meta = element('div', 'jp-kfjupyter-run-meta');
    const text = element(
      'span',
      'jp-kfjupyter-run-meta-text',
      `${formatDuration(duration)} · ${formatAgo(run.created_at, now)} (${formatClock(run.created_at, now)}) · ${where} · ${run.backend}`
    );
    meta.append(kindBadge(run.kind, this._trans), text);
    item.append(top, meta);
    item.addEventListener('click', event => {
      if (event.ctrlKey || event.metaKey) {
        this._toggle(run.id, item, box);
      } else {
        this._selected.emit(run);
      }
    });
    item.addEventListener('keydown', event => {
      if (event.key === 'Enter') {
        this._selected.emit(run);
      } else if (event.key === ' ' && event.target === item) {
        event.preventDefault();
        this._toggle(run.id, item, box);
      } else if (this._moveFocus(item, event.key)) {
        event.preventDefault();
      }
    });
    return item;
  }

  /** Focus the run that `key` (arrows, Home, End) leads to from `item`; false for other keys. */
  private _moveFocus(item: HTMLElement, key: string): boolean {
    const items = Array.from(this._list.querySelectorAll<HTMLElement>('li.jp-kfjupyter-run'));
    const index = items.indexOf(item);
    const targets: { [key: string]: number } = {
      ArrowDown: Math.min(items.length - 1, index + 1),
      ArrowUp: Math.max(0, index - 1),
      Home: 0,
      End: items.length - 1
    };
    if (!(key in targets) || index < 0) {
      return false;
    }
    items[targets[key]].focus();
    if (key === 'ArrowDown' && index === items.length - 1) {
      void this.loadMore();
    }
    return true;
  }

  private _toggle(runId: string, item: HTMLElement, box: HTMLInputElement): void {
    if (this._selection.has(runId)) {
      this._selection.delete(runId);
    } else if (this._selection.size < MAX_COMPARED) {
      this._selection.add(runId);
    }
    const picked = this._selection.has(runId);
    box.checked = picked;
    item.classList.toggle('jp-mod-selected', picked);
    this._selectionUpdated();
  }

  private _selectionUpdated(): void {
    const count = this._selection.size;
    const trans = this._trans;
    this._selectionBar.hidden = count === 0;
    this._selectionText.textContent =
      count >= MAX_COMPARED ? trans.__('%1 selected (max)', count) : trans.__('%1 selected', count);
    this._compare.disabled = count < 2;
    this._compare.title =
      count < 2 ? trans.__('Select at least two runs') : trans.__('Compare %1 runs', count);
    for (const item of Array.from(this._list.querySelectorAll<HTMLElement>('li'))) {
      const picked = this._selection.has(item.dataset.runId ?? '');
      item.classList.toggle('jp-mod-selected', picked);
      const box = item.querySelector<HTMLInputElement>('input.jp-kfjupyter-run-select');
      if (box) {
        box.checked = picked;
      }
    }
    this._selectionChanged.emit(this.selection);
  }

  private readonly _filters: RunsFilterBar;
  private readonly _list: HTMLUListElement;
  private readonly _message: HTMLElement;
  private readonly _more: HTMLButtonElement;
  private readonly _observer: IntersectionObserver;
  private readonly _selectionBar: HTMLElement;
  private readonly _selectionText: HTMLElement;
  private readonly _compare: HTMLButtonElement;
  private readonly _selection = new Set<string>();
  private readonly _selected = new Signal<this, IRunSummary>(this);
  private readonly _selectionChanged = new Signal<this, string[]>(this);
  private readonly _compareRequested = new Signal<this, string[]>(this);
  private _wanted: number;
  private _generation = 0;
  private _loading = false;
}
