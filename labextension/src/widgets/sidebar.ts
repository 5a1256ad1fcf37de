/**
 * The left-panel "Kubeflow" sidebar: what the server extension reports, then the runs list.
 */
import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';
import { Panel, Widget } from '@lumino/widgets';

import { getHealth, listRuns } from '../api';
import { kubeflowIcon } from '../icons';
import { IHealth } from '../generated/restTypes';
import { KubeflowSettings } from '../settings';
import { RunsList } from './runsList';

export const SIDEBAR_ID = 'jp-kfjupyter-sidebar';

export class KubeflowSidebar extends Panel {
  constructor(
    private readonly _trans: TranslationBundle = nullTranslator.load('kfjupyter'),
    settings: KubeflowSettings = new KubeflowSettings(),
    private readonly _load: () => Promise<IHealth> = getHealth,
    readonly runs: RunsList = new RunsList(listRuns, 50, _trans, settings)
  ) {
    super();
    this.id = SIDEBAR_ID;
    this.addClass('jp-kfjupyter-sidebar');
    this.title.icon = kubeflowIcon;
    this.title.caption = _trans.__('Kubeflow');
    this.title.label = _trans.__('Kubeflow');
    const header = document.createElement('h2');
    header.className = 'jp-kfjupyter-sidebar-header';
    header.textContent = _trans.__('Kubeflow');
    this._body = document.createElement('div');
    this._body.className = 'jp-kfjupyter-sidebar-body';
    const health = new Widget();
    health.addClass('jp-kfjupyter-health');
    health.node.append(header, this._body);
    this.addWidget(health);
    this.addWidget(runs);
  }

  /** Fetch the server's health and render it; errors are shown in the panel, not thrown. */
  async refresh(): Promise<void> {
    this._body.replaceChildren(this._line('jp-kfjupyter-status', this._trans.__('Connecting…')));
    try {
      this._render(await this._load());
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this._body.replaceChildren(this._line('jp-kfjupyter-error', message));
    }
  }

  private _render(health: IHealth): void {
    const status = this._line('jp-kfjupyter-status', `kfjupyter ${health.version}`);
    status.dataset.version = health.version;
    const trans = this._trans;
    const user = this._line('jp-kfjupyter-user', trans.__('Signed in as %1', health.user));
    const list = document.createElement('ul');
    list.className = 'jp-kfjupyter-backends';
    for (const backend of health.backends) {
      const item = document.createElement('li');
      item.className = 'jp-kfjupyter-backend';
      item.dataset.backend = backend.name;
      item.dataset.available = String(backend.available);
      const state = backend.available ? trans.__('ready') : trans.__('unavailable');
      item.textContent = `${backend.kind}: ${backend.name} — ${state}`;
      item.title = backend.detail;
      list.append(item);
    }
    this._body.replaceChildren(status, user, list);
  }

  private _line(className: string, text: string): HTMLElement {
    const element = document.createElement('div');
    element.className = className;
    element.textContent = text;
    element.title = text; // the line is cut with an ellipsis when the sidebar is narrow
    return element;
  }

  private readonly _body: HTMLElement;
}
