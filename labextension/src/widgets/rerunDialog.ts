/**
 * The body of the "Re-run" confirmation: what will run again, and an "ignore cache" switch
 * (checked at first when the user's "run every step" preference is on).
 */
import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { element } from '../format';

export class RerunForm extends Widget {
  constructor(
    runName: string,
    runEveryStep = false,
    trans: TranslationBundle = nullTranslator.load('kfjupyter')
  ) {
    super();
    this.addClass('jp-kfjupyter-rerun-form');
    const note = element(
      'div',
      'jp-kfjupyter-form-note',
      trans.__(
        'Start %1 again with its recorded parameters. Pipeline steps whose code and inputs did not change reuse their cached outputs.',
        runName
      )
    );
    const row = element('label', 'jp-kfjupyter-form-check');
    this._noCache = element('input', '');
    this._noCache.type = 'checkbox';
    this._noCache.name = 'no_cache';
    this._noCache.checked = runEveryStep;
    row.append(
      this._noCache,
      document.createTextNode(' ' + trans.__('Ignore cache (run every step)'))
    );
    this.node.append(note, row);
  }

  /** Whether the user asked to run every step again. */
  getValue(): boolean {
    return this._noCache.checked;
  }

  private readonly _noCache: HTMLInputElement;
}
