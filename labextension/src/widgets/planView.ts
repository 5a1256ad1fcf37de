/**
 * The plan of a run, as `kfjupyter run --plan` says it: one row per step with "runs" or "cached"
 * and why (the changed cell, as JupyterLab counts cells; the input and its step, parameter or
 * environment). The Run dialog shows it before Start and asks again when a parameter or the cache
 * switch changes.
 */
import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { IPlanResult } from '../generated/restTypes';
import { linkCells } from './cellBadges';

export class PlanView extends Widget {
  constructor(private readonly _trans: TranslationBundle = nullTranslator.load('kfjupyter')) {
    super();
    this.addClass('jp-kfjupyter-plan');
    this._status = document.createElement('div');
    this._status.className = 'jp-kfjupyter-plan-status';
    this._rows = document.createElement('tbody');
    const table = document.createElement('table');
    table.className = 'jp-kfjupyter-plan-steps';
    table.append(this._rows);
    this.node.append(this._status, table);
    this.showNote(_trans.__('Working out the plan…'));
  }

  /** Show `plan`: a summary line and one row per step. */
  render(plan: IPlanResult): void {
    const running = plan.steps.filter(s => s.action === 'run').length;
    const cached = plan.steps.length - running;
    const trans = this._trans;
    this._status.textContent =
      trans._n('%1 step will run', '%1 steps will run', running) +
      ', ' +
      trans._n('%1 comes from the cache', '%1 come from the cache', cached);
    this._status.dataset.kind = 'summary';
    this._rows.replaceChildren(
      ...plan.steps.map(step => {
        const row = document.createElement('tr');
        row.className = 'jp-kfjupyter-plan-step';
        row.dataset.step = step.name;
        row.dataset.action = step.action;
        const name = document.createElement('td');
        name.className = 'jp-kfjupyter-plan-name';
        name.textContent = step.name;
        const action = document.createElement('td');
        const badge = document.createElement('span');
        badge.className = 'jp-kfjupyter-plan-action';
        badge.dataset.action = step.action;
        badge.textContent = step.action === 'run' ? trans.__('runs') : trans.__('cached');
        action.append(badge);
        const reasons = document.createElement('td');
        reasons.className = 'jp-kfjupyter-plan-reasons';
        // The server counts cells from 0; "cell N" is written as JupyterLab counts (from 1).
        reasons.append(...linkCells(step.reasons.join('; '), null, null, trans));
        row.append(name, action, reasons);
        return row;
      })
    );
  }

  /** Show a line instead of the plan (working, not applicable). */
  showNote(text: string): void {
    this._status.textContent = text;
    this._status.dataset.kind = 'note';
    this._rows.replaceChildren();
  }

  /** Show why there is no plan (the server's message). */
  showProblem(text: string): void {
    this._status.textContent = this._trans.__('No plan: %1', text);
    this._status.dataset.kind = 'problem';
    this._rows.replaceChildren();
  }

  private readonly _status: HTMLElement;
  private readonly _rows: HTMLTableSectionElement;
}
