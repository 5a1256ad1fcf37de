/**
 * kfjupyter JupyterLab plugins. This file only wires plugins; features live in their modules.
 */
import { ILabShell, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';

import { KubeflowSidebar } from './widgets/sidebar';

const sidebarPlugin: JupyterFrontEndPlugin<void> = {
  id: 'kfjupyter:sidebar',
  description: 'Kubeflow sidebar with runs, pipelines and training.',
  autoStart: true,
  requires: [ILabShell],
  activate: (app: JupyterFrontEnd, labShell: ILabShell): void => {
    const sidebar = new KubeflowSidebar();
    labShell.add(sidebar, 'left', { rank: 900 });
    app.commands.addCommand('kfjupyter:refresh', {
      label: 'Kubeflow: Refresh',
      execute: () => sidebar.refresh()
    });
    void sidebar.refresh();
  }
};

export default [sidebarPlugin];
