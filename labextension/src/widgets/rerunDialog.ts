/**
 * The body of the "Re-run" confirmation: what will run again, and an "ignore cache" switch.
 */
import { Widget } from '@lumino/widgets';

import { element } from '../format';

export class RerunForm extends Widget {
  constructor(runName: string) {
    super();
    this.addClass('jp-kfjupyter-rerun-form');
    const note = element(
      'div',
      'jp-kfjupyter-form-note',
      `Start ${runName} again with its recorded parameters. Pipeline steps whose code and ` +
        'inputs did not change reuse their cached outputs.'
    );
    const row = element('label', 'jp-kfjupyter-form-check');
    this._noCache = element('input', '');
    this._noCache.type = 'checkbox';
    this._noCache.name = 'no_cache';
    row.append(this._noCache, document.createTextNode(' Ignore cache (run every step)'));
    this.node.append(note, row);
  }

  /** Whether the user asked to run every step again. */
  getValue(): boolean {
    return this._noCache.checked;
  }

  private readonly _noCache: HTMLInputElement;
}
