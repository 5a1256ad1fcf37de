/**
 * Live lint of one open notebook: after each edit (debounced) the notebook as the editor holds it
 * is posted to `notebooks/lint`, and the latest answer is published through `changed`.
 *
 * Only what lint reads is sent (cell types, sources, metadata; no outputs), and an unchanged
 * document (e.g. only outputs changed while cells ran) is not linted again.
 */
import { NotebookPanel } from '@jupyterlab/notebook';
import { Debouncer } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { lintNotebook } from '../api';
import { ILintResult } from '../generated/restTypes';
import { isObject } from '../validate';

/** How long the notebook must stay unchanged before it is linted again. */
export const LINT_DELAY_MS = 600;

/** The parts of an nbformat document that lint reads: no outputs, attachments or counts. */
export function lintView(notebook: unknown): unknown {
  if (!isObject(notebook) || !Array.isArray(notebook.cells)) {
    return notebook;
  }
  const cells = notebook.cells.map(cell =>
    isObject(cell)
      ? { cell_type: cell.cell_type, source: cell.source, metadata: cell.metadata ?? {} }
      : cell
  );
  return { ...notebook, cells };
}

/**
 * Posts a notebook model, with where it is saved (its notebook steps are found next to it), and
 * answers its lint result (the REST call, replaceable in tests).
 */
export type LintFunction = (notebook: unknown, path: string) => Promise<ILintResult>;

export class NotebookLinter {
  constructor(
    readonly panel: NotebookPanel,
    private readonly _lint: LintFunction = (notebook, path) =>
      lintNotebook(notebook, 'local', undefined, path)
  ) {
    this._debouncer = new Debouncer(() => this.lintNow(false), LINT_DELAY_MS);
    void panel.context.ready.then(() => {
      if (this._disposed) {
        return;
      }
      const model = panel.context.model;
      model.contentChanged.connect(this._schedule, this);
      model.sharedModel.changed.connect(this._schedule, this);
      void this.lintNow(true);
    });
    panel.disposed.connect(() => this.dispose());
  }

  /** Emits after every answered lint, with the result (null when the server could not lint). */
  get changed(): ISignal<this, ILintResult | null> {
    return this._changed;
  }

  /** The latest answer; null before the first one or when the last request failed. */
  get result(): ILintResult | null {
    return this._result;
  }

  /** The message of the last failed request, '' when it succeeded. */
  get error(): string {
    return this._error;
  }

  /**
   * Lint the notebook now, unless `force` is false and lint already answered for this very
   * document; answers of requests overtaken by newer ones are dropped.
   */
  async lintNow(force = true): Promise<ILintResult | null> {
    const view = lintView(this.panel.context.model.toJSON());
    const path = this.panel.context.path;
    const text = `${path}\n${JSON.stringify(view)}`; // a renamed notebook finds its steps elsewhere
    if (!force && text === this._linted && this._result !== null) {
      return this._result;
    }
    this._linted = text;
    const sequence = ++this._sequence;
    let result: ILintResult | null = null;
    let error = '';
    try {
      result = await this._lint(view, path);
    } catch (reason) {
      error = reason instanceof Error ? reason.message : String(reason);
    }
    if (this._disposed || sequence !== this._sequence) {
      return this._result;
    }
    this._result = result;
    this._error = error;
    this._changed.emit(result);
    return result;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._debouncer.dispose();
    Signal.clearData(this);
  }

  private _schedule(): void {
    if (!this._disposed) {
      void this._debouncer.invoke();
    }
  }

  private readonly _debouncer: Debouncer;
  private readonly _changed = new Signal<this, ILintResult | null>(this);
  private _result: ILintResult | null = null;
  private _error = '';
  private _sequence = 0;
  private _linted = '';
  private _disposed = false;
}
