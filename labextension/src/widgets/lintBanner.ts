/**
 * The banner at the top of a notebook with the lint findings about the notebook as a whole (those
 * with no cell, e.g. KF001 "the notebook has no steps"); findings about a cell are shown on the
 * cell itself. The banner is hidden when there are none, and can be dismissed until they change.
 *
 * It lives in the panel's `contentHeader` (a Lumino `BoxPanel`, which sizes children from their
 * CSS minimum height), so it sets its minimum height to the height of its content.
 */
import { Message } from '@lumino/messaging';
import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { element } from '../format';
import { IDiagnostic, ILintResult } from '../generated/restTypes';
import { GoToCell, linkCells } from './cellBadges';

const SEVERITY_ICON: { [severity: string]: string } = { error: '✖', warning: '⚠', info: 'ℹ' };

/** The findings of `result` that are about the whole notebook. */
export function notebookFindings(result: ILintResult | null): IDiagnostic[] {
  return (result?.diagnostics ?? []).filter(d => d.cell === null);
}

export class LintBanner extends Widget {
  /** `go` moves the notebook to a cell a finding names (its "cell N" links). */
  constructor(
    private readonly _go: GoToCell | null = null,
    private readonly _trans: TranslationBundle = nullTranslator.load('kfjupyter')
  ) {
    super();
    this.addClass('jp-kfjupyter-lint-banner');
    this.node.setAttribute('role', 'status');
    this._body = element('div', 'jp-kfjupyter-lint-banner-body');
    this.node.append(this._body);
    this.hide();
  }

  /** Show the notebook-level findings of `result` (hide the banner when there are none). */
  setResult(result: ILintResult | null): void {
    const findings = notebookFindings(result);
    const key = findings.map(d => `${d.severity}:${d.code}:${d.message}`).join('\n');
    if (key === this._key) {
      return;
    }
    this._key = key;
    this._dismissed = false;
    const items = findings.map(finding => this._item(finding));
    const worst = findings.some(d => d.severity === 'error')
      ? 'error'
      : findings.some(d => d.severity === 'warning')
        ? 'warning'
        : 'info';
    this._body.dataset.severity = worst;
    this.node.dataset.severity = worst;
    const list = element('ul', 'jp-kfjupyter-lint-banner-list');
    list.append(...items);
    const close = element('button', 'jp-Button jp-mod-minimal jp-kfjupyter-lint-banner-close', '×');
    close.title = this._trans.__('Hide until the findings change');
    close.setAttribute('aria-label', this._trans.__('Hide the notebook lint findings'));
    close.addEventListener('click', () => {
      this._dismissed = true;
      this.hide();
    });
    this._body.replaceChildren(list, close);
    this.setHidden(findings.length === 0 || this._dismissed);
    this._fitHeight();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._fitHeight();
  }

  protected onResize(msg: Widget.ResizeMessage): void {
    super.onResize(msg);
    this._fitHeight();
  }

  /** Ask the enclosing box layout for exactly the height of the content. */
  private _fitHeight(): void {
    if (!this.isVisible) {
      return;
    }
    const height = `${this._body.offsetHeight}px`;
    if (this._body.offsetHeight > 0 && this.node.style.minHeight !== height) {
      this.node.style.minHeight = height;
      this.parent?.fit();
    }
  }

  private _item(finding: IDiagnostic): HTMLElement {
    const item = element('li', 'jp-kfjupyter-lint-banner-item');
    item.dataset.severity = finding.severity;
    item.dataset.code = finding.code;
    const head = element(
      'span',
      'jp-kfjupyter-lint-banner-message',
      `${SEVERITY_ICON[finding.severity] ?? ''} ${finding.code}: `
    );
    head.append(...linkCells(finding.message, null, this._go, this._trans));
    item.append(head);
    if (finding.hint) {
      const hint = element('span', 'jp-kfjupyter-lint-banner-hint');
      hint.append(...linkCells(finding.hint, null, this._go, this._trans));
      item.append(hint);
    }
    return item;
  }

  private readonly _body: HTMLElement;
  private _key = '';
  private _dismissed = false;
}
