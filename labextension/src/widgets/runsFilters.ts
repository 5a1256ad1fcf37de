/**
 * The filter bar of the runs list: a search box (name, notebook or run id), the sort order, and
 * status, kind and backend selects. It owns no data: it emits the query part whenever the user
 * changes it, the search box after a short pause in typing.
 */
import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';
import { ISignal, Signal } from '@lumino/signaling';

import { IRunQuery, RUN_SORTS, RunSort } from '../api';
import { element } from '../format';

/** The part of `IRunQuery` the filter bar sets; `sort` only when it is not the default. */
export type RunFilters = Pick<IRunQuery, 'q' | 'status' | 'kind' | 'backend' | 'sort'>;

/** How each order is offered; the server's default, `newest`, comes first. */
function sortLabels(trans: TranslationBundle): { [sort in RunSort]: string } {
  return {
    newest: trans.__('Newest first'),
    oldest: trans.__('Oldest first'),
    name: trans.__('Name (A–Z)'),
    status: trans.__('Status'),
    duration: trans.__('Longest first')
  };
}

function isRunSort(value: string): value is RunSort {
  return (RUN_SORTS as readonly string[]).includes(value);
}

/** Milliseconds of quiet typing before a search is sent. */
const SEARCH_DELAY_MS = 250;

const STATUSES = ['running', 'pending', 'succeeded', 'failed', 'cancelled', 'interrupted'];
const KINDS = ['pipeline', 'training'];
const BACKENDS = ['local', 'kfp'];

/** A select whose empty choice (no filter) is labelled with what it filters (`any`, e.g. `Status`). */
function select(name: string, any: string, label: string, values: string[]): HTMLSelectElement {
  const node = element('select', 'jp-kfjupyter-runs-filter');
  node.name = name;
  node.title = label;
  node.setAttribute('aria-label', label);
  node.append(new Option(any, ''), ...values.map(value => new Option(value, value)));
  return node;
}

export class RunsFilterBar {
  constructor(trans: TranslationBundle = nullTranslator.load('kfjupyter')) {
    this.node = element('div', 'jp-kfjupyter-runs-filters');
    this._search = element('input', 'jp-kfjupyter-runs-search');
    this._search.type = 'search';
    this._search.placeholder = trans.__('Search runs');
    this._search.title = trans.__('Search by name, notebook or run id');
    this._search.setAttribute('aria-label', trans.__('Search runs by name, notebook or run id'));
    this._sort = element('select', 'jp-kfjupyter-runs-filter jp-kfjupyter-runs-sort');
    this._sort.name = 'sort';
    this._sort.title = trans.__('Sort runs (longest first: running runs last)');
    this._sort.setAttribute('aria-label', trans.__('Sort runs'));
    const labels = sortLabels(trans);
    this._sort.append(...RUN_SORTS.map(sort => new Option(labels[sort], sort)));
    this._status = select('status', trans.__('Status'), trans.__('Filter by status'), STATUSES);
    this._kind = select('kind', trans.__('Kind'), trans.__('Filter by kind'), KINDS);
    this._backend = select('backend', trans.__('Backend'), trans.__('Filter by backend'), BACKENDS);
    const selects = element('div', 'jp-kfjupyter-runs-selects');
    selects.append(this._status, this._kind, this._backend);
    const searchRow = element('div', 'jp-kfjupyter-runs-search-row');
    searchRow.append(this._search, this._sort);
    this.node.append(searchRow, selects);
    this._search.addEventListener('input', () => {
      window.clearTimeout(this._timer);
      this._timer = window.setTimeout(() => this._emit(), SEARCH_DELAY_MS);
    });
    this._search.addEventListener('keydown', event => {
      if (event.key === 'Enter') {
        window.clearTimeout(this._timer);
        this._emit();
      }
    });
    for (const node of [this._sort, this._status, this._kind, this._backend]) {
      node.addEventListener('change', () => this._emit());
    }
  }

  /** The filters as currently set; empty fields are left out. */
  get value(): RunFilters {
    const filters: RunFilters = {};
    const q = this._search.value.trim();
    if (q) {
      filters.q = q;
    }
    if (this._status.value) {
      filters.status = this._status.value;
    }
    if (this._kind.value === 'pipeline' || this._kind.value === 'training') {
      filters.kind = this._kind.value;
    }
    if (this._backend.value) {
      filters.backend = this._backend.value;
    }
    if (isRunSort(this._sort.value) && this._sort.value !== 'newest') {
      filters.sort = this._sort.value;
    }
    return filters;
  }

  /** Whether any filter is set (the sort order narrows nothing, so it does not count). */
  get active(): boolean {
    return Object.keys(this.value).some(key => key !== 'sort');
  }

  /** Emitted with the new filters when the user changes one. */
  get changed(): ISignal<this, RunFilters> {
    return this._changed;
  }

  /** Stop the pending search timer. */
  dispose(): void {
    window.clearTimeout(this._timer);
    Signal.clearData(this);
  }

  private _emit(): void {
    const value = this.value;
    const key = JSON.stringify(value);
    if (key !== this._last) {
      this._last = key;
      this._changed.emit(value);
    }
  }

  readonly node: HTMLElement;
  private readonly _search: HTMLInputElement;
  private readonly _sort: HTMLSelectElement;
  private readonly _status: HTMLSelectElement;
  private readonly _kind: HTMLSelectElement;
  private readonly _backend: HTMLSelectElement;
  private readonly _changed = new Signal<this, RunFilters>(this);
  private _timer = 0;
  private _last = '{}';
}
