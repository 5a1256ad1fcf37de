/**
 * The filter bar of the runs list: a search box (name, notebook or run id) and status, kind and
 * backend selects. It owns no data: it emits the query part whenever the user changes it, the
 * search box after a short pause in typing.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { IRunQuery } from '../api';
import { element } from '../format';

/** The part of `IRunQuery` the filter bar sets. */
export type RunFilters = Pick<IRunQuery, 'q' | 'status' | 'kind' | 'backend'>;

/** Milliseconds of quiet typing before a search is sent. */
const SEARCH_DELAY_MS = 250;

const STATUSES = ['running', 'pending', 'succeeded', 'failed', 'cancelled', 'interrupted'];
const KINDS = ['pipeline', 'training'];
const BACKENDS = ['local', 'kfp'];

/** A select whose empty choice (no filter) is labelled with what it filters, e.g. `Status`. */
function select(name: string, label: string, values: string[]): HTMLSelectElement {
  const node = element('select', 'jp-kfjupyter-runs-filter');
  node.name = name;
  node.title = label;
  node.setAttribute('aria-label', label);
  const any = name.charAt(0).toUpperCase() + name.slice(1);
  node.append(new Option(any, ''), ...values.map(value => new Option(value, value)));
  return node;
}

export class RunsFilterBar {
  constructor() {
    this.node = element('div', 'jp-kfjupyter-runs-filters');
    this._search = element('input', 'jp-kfjupyter-runs-search');
    this._search.type = 'search';
    this._search.placeholder = 'Search name, notebook, run id';
    this._search.setAttribute('aria-label', 'Search runs');
    this._status = select('status', 'Filter by status', STATUSES);
    this._kind = select('kind', 'Filter by kind', KINDS);
    this._backend = select('backend', 'Filter by backend', BACKENDS);
    const selects = element('div', 'jp-kfjupyter-runs-selects');
    selects.append(this._status, this._kind, this._backend);
    this.node.append(this._search, selects);
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
    for (const node of [this._status, this._kind, this._backend]) {
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
    return filters;
  }

  /** Whether any filter is set. */
  get active(): boolean {
    return Object.keys(this.value).length > 0;
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
  private readonly _status: HTMLSelectElement;
  private readonly _kind: HTMLSelectElement;
  private readonly _backend: HTMLSelectElement;
  private readonly _changed = new Signal<this, RunFilters>(this);
  private _timer = 0;
  private _last = '{}';
}
