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
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, TranslationBundle, nullTranslator } from '@jupyterlab/translation';

import { nameCacheDefault } from './cacheChoice';
import { addCommands } from './commands';
import { addLaunchCommands } from './launchCommands';
import { NotebookLinters, addStepCommands } from './notebookSteps';
import { answerSaveRequests } from './saveOnRequest';
import { IKubeflowSettings, KubeflowSettings, SETTINGS_PLUGIN } from './settings';
import { addStepRunCommands } from './stepCommands';
import { KubeflowSidebar } from './widgets/sidebar';
import { useRenderMime } from './widgets/vegaChart';

/** The extension's strings in the user's language (English without a language pack). */
function bundle(translator: ITranslator | null): TranslationBundle {
  return (translator ?? nullTranslator).load('kfjupyter');
}

const settingsPlugin: JupyterFrontEndPlugin<KubeflowSettings> = {
  id: SETTINGS_PLUGIN,
  description: "The user's Kubeflow preferences, from JupyterLab's settings registry.",
  autoStart: true,
  provides: IKubeflowSettings,
  optional: [ISettingRegistry],
  activate: (_: JupyterFrontEnd, registry: ISettingRegistry | null): KubeflowSettings => {
    const settings = new KubeflowSettings();
    if (registry !== null) {
      registry
        .load(SETTINGS_PLUGIN)
        .then(loaded => settings.follow(loaded))
        .catch((reason: unknown) =>
          console.warn('kfjupyter: cannot load the settings, using the defaults', reason)
        );
    }
    return settings;
  }
};

const sidebarPlugin: JupyterFrontEndPlugin<void> = {
  id: 'kfjupyter:sidebar',
  description: 'Kubeflow sidebar with runs, pipelines and training.',
  autoStart: true,
  requires: [ILabShell],
  optional: [ICommandPalette, ILayoutRestorer, IRenderMimeRegistry, IKubeflowSettings, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    labShell: ILabShell,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    rendermime: IRenderMimeRegistry | null,
    settings: KubeflowSettings | null,
    translator: ITranslator | null
  ): void => {
    useRenderMime(rendermime); // metric charts are drawn by JupyterLab's Vega renderer
    const trans = bundle(translator);
    const preferences = settings ?? new KubeflowSettings();
    const sidebar = new KubeflowSidebar(trans, preferences);
    labShell.add(sidebar, 'left', { rank: 900 });
    addCommands(app, labShell, sidebar, palette, restorer, preferences, trans);
    void sidebar.refresh();
  }
};

const notebookStepsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'kfjupyter:notebook-steps',
  description:
    'Live pipeline lint, step badges and step commands for open notebooks; saves a notebook when its %kf run asks.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette, IKubeflowSettings, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    palette: ICommandPalette | null,
    settings: KubeflowSettings | null,
    translator: ITranslator | null
  ): void => {
    const trans = bundle(translator);
    const linters = new NotebookLinters(tracker, trans);
    addStepCommands(app, tracker, linters, palette, settings ?? new KubeflowSettings(), trans);
    answerSaveRequests(tracker);
    void nameCacheDefault(app.restored, trans.__('Default'));
  }
};

const launchPlugin: JupyterFrontEndPlugin<void> = {
  id: 'kfjupyter:launch',
  description:
    'Train a script, compile a notebook to Kubeflow Pipelines YAML, re-run from a step, load a step into a kernel; the Kubeflow menu.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [IDefaultFileBrowser, ICommandPalette, IKubeflowSettings, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    browser: IDefaultFileBrowser | null,
    palette: ICommandPalette | null,
    settings: KubeflowSettings | null,
    translator: ITranslator | null
  ): void => {
    const trans = bundle(translator);
    addLaunchCommands(app, tracker, browser, palette, settings ?? new KubeflowSettings(), trans);
    addStepRunCommands(app, tracker, trans);
  }
};

export default [settingsPlugin, sidebarPlugin, notebookStepsPlugin, launchPlugin];
