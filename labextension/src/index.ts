/**
 * kfjupyter JupyterLab plugins. This file only wires plugins; features live in their modules.
 */
import { ILabShell, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';

import { addCommands } from './commands';
import { KubeflowSidebar } from './widgets/sidebar';

const sidebarPlugin: JupyterFrontEndPlugin<void> = {
  id: 'kfjupyter:sidebar',
  description: 'Kubeflow sidebar with runs, pipelines and training.',
  autoStart: true,
  requires: [ILabShell],
  optional: [ICommandPalette],
  activate: (app: JupyterFrontEnd, labShell: ILabShell, palette: ICommandPalette | null): void => {
    const sidebar = new KubeflowSidebar();
    labShell.add(sidebar, 'left', { rank: 900 });
    addCommands(app, labShell, sidebar, palette);
    void sidebar.refresh();
  }
};

export default [sidebarPlugin];
