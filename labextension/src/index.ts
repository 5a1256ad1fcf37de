/**
 * kfjupyter JupyterLab plugins. This file only wires plugins; features live in their modules.
 */
import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';

import { nameCacheDefault } from './cacheChoice';
import { addCommands } from './commands';
import { addLaunchCommands } from './launchCommands';
import { NotebookLinters, addStepCommands } from './notebookSteps';
import { answerSaveRequests } from './saveOnRequest';
import { addStepRunCommands } from './stepCommands';
import { KubeflowSidebar } from './widgets/sidebar';
import { useRenderMime } from './widgets/vegaChart';

const sidebarPlugin: JupyterFrontEndPlugin<void> = {
  id: 'kfjupyter:sidebar',
  description: 'Kubeflow sidebar with runs, pipelines and training.',
  autoStart: true,
  requires: [ILabShell],
  optional: [ICommandPalette, ILayoutRestorer, IRenderMimeRegistry],
  activate: (
    app: JupyterFrontEnd,
    labShell: ILabShell,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    rendermime: IRenderMimeRegistry | null
  ): void => {
    useRenderMime(rendermime); // metric charts are drawn by JupyterLab's Vega renderer
    const sidebar = new KubeflowSidebar();
    labShell.add(sidebar, 'left', { rank: 900 });
    addCommands(app, labShell, sidebar, palette, restorer);
    void sidebar.refresh();
  }
};

const notebookStepsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'kfjupyter:notebook-steps',
  description:
    'Live pipeline lint, step badges and step commands for open notebooks; saves a notebook when its %kf run asks.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    palette: ICommandPalette | null
  ): void => {
    addStepCommands(app, tracker, new NotebookLinters(tracker), palette);
    answerSaveRequests(tracker);
    void nameCacheDefault(app.restored);
  }
};

const launchPlugin: JupyterFrontEndPlugin<void> = {
  id: 'kfjupyter:launch',
  description:
    'Train a script, compile a notebook to Kubeflow Pipelines YAML, re-run from a step, load a step into a kernel; the Kubeflow menu.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [IDefaultFileBrowser, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    browser: IDefaultFileBrowser | null,
    palette: ICommandPalette | null
  ): void => {
    addLaunchCommands(app, tracker, browser, palette);
    addStepRunCommands(app, tracker);
  }
};

export default [sidebarPlugin, notebookStepsPlugin, launchPlugin];
