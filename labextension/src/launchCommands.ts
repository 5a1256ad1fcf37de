/**
 * Launch commands: train a script (`kfjupyter:train`), compile the current notebook to a KFP
 * pipeline YAML (`kfjupyter:compile-notebook`), and the launch half of "Run as Pipeline" (on this
 * server or, when the server is configured with one, on Kubeflow Pipelines).
 *
 * The file browser's context menu entry for `.py` files and the Kubeflow main menu are declared
 * in `labextension/schema/launch.json`.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  Notification,
  showDialog,
  showErrorMessage
} from '@jupyterlab/apputils';
import { DocumentWidget } from '@jupyterlab/docregistry';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

import { compileNotebook, getHealth, runNotebook, startTraining, submitNotebook } from './api';
import { kubeflowIcon } from './icons';
import { ITrainingRequest } from './generated/restTypes';
import { CommandIDs } from './tokens';
import { CompileForm } from './widgets/compileDialog';
import { IRunChoice, PipelineBackend } from './widgets/runDialog';
import { ITrainValues, TrainForm, trainingProblems, trainingRequest } from './widgets/trainDialog';

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Where notebook pipelines can run: always here, on KFP when the server's health lists it. */
export async function pipelineBackends(): Promise<PipelineBackend[]> {
  try {
    const health = await getHealth();
    const kfp = health.backends.some(b => b.name === 'kfp' && b.kind === 'pipelines');
    return kfp ? ['local', 'kfp'] : ['local'];
  } catch {
    return ['local'];
  }
}

/** The image compiled steps get by default on this server, null when it has none (or is away). */
async function defaultImage(): Promise<string | null> {
  try {
    return (await getHealth()).kfp_image ?? null;
  } catch {
    return null;
  }
}

/**
 * Start the (saved) notebook at `path` as `choice` says and open the run's detail: a local run,
 * or a KFP run that this server tracks, announced with a link to its page in Kubeflow Pipelines.
 */
export async function launchPipeline(
  app: JupyterFrontEnd,
  path: string,
  choice: IRunChoice
): Promise<void> {
  let runId: string;
  if (choice.backend === 'kfp') {
    const submitted = await submitNotebook(path, choice.parameters, choice.experiment);
    runId = submitted.run_id;
    Notification.success(`Submitted ${path} to Kubeflow Pipelines (run ${submitted.kfp_run_id})`, {
      autoClose: false,
      actions: [
        {
          label: 'Open in Kubeflow Pipelines',
          caption: submitted.url,
          displayType: 'link',
          callback: () => window.open(submitted.url, '_blank', 'noopener')
        }
      ]
    });
  } else {
    runId = (await runNotebook(path, choice.parameters, choice.noCache)).run_id;
  }
  void app.commands.execute(CommandIDs.refresh);
  await app.commands.execute(CommandIDs.openRun, { runId });
}

/** Show the train dialog until its values are valid; null when cancelled. */
async function askTraining(initial: Partial<ITrainValues>): Promise<ITrainingRequest | null> {
  let values = initial;
  let problem = '';
  for (;;) {
    const answer = await showDialog<ITrainValues>({
      title: 'Train with kfjupyter',
      body: new TrainForm(values, problem),
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Train' })],
      focusNodeSelector: 'input[name="script"]'
    });
    if (!answer.button.accept || answer.value === null) {
      return null;
    }
    values = answer.value;
    try {
      const request = trainingRequest(answer.value);
      problem = trainingProblems(request);
      if (problem === '') {
        return request;
      }
    } catch (error) {
      problem = `Arguments: ${message(error)}`;
    }
  }
}

/** Register the launch commands (and their palette entries when there is a palette). */
export function addLaunchCommands(
  app: JupyterFrontEnd,
  tracker: INotebookTracker,
  browser: IDefaultFileBrowser | null,
  palette: ICommandPalette | null
): void {
  /** The `.py` file selected in the file browser, if any. */
  const selectedScript = (): string | null => {
    for (const item of browser?.selectedItems() ?? []) {
      if (item.type === 'file' && item.path.endsWith('.py')) {
        return item.path;
      }
    }
    return null;
  };
  /** The `.py` editor in the main area, if the current widget is one. */
  const currentScript = (): DocumentWidget | null => {
    const widget = app.shell.currentWidget;
    return widget instanceof DocumentWidget && widget.context.path.endsWith('.py') ? widget : null;
  };
  const currentNotebook = (): NotebookPanel | null => {
    const widget = app.shell.currentWidget;
    return widget instanceof NotebookPanel && tracker.has(widget) ? widget : tracker.currentWidget;
  };

  app.commands.addCommand(CommandIDs.train, {
    label: args =>
      args.menu || args.source === 'filebrowser'
        ? 'Train with kfjupyter…'
        : 'Kubeflow: Train with kfjupyter…',
    caption: 'Start a training job on a Python script: nodes, processes, GPUs, backend',
    icon: kubeflowIcon,
    execute: async args => {
      const editor = currentScript();
      let script = typeof args.path === 'string' ? args.path : null;
      if (script === null && args.source === 'filebrowser') {
        script = selectedScript();
      }
      script = script ?? editor?.context.path ?? selectedScript() ?? '';
      const request = await askTraining({ script });
      if (request === null) {
        return;
      }
      try {
        if (
          editor !== null &&
          editor.context.path === request.script &&
          editor.context.model.dirty
        ) {
          await editor.context.save();
        }
        const started = await startTraining(request);
        void app.commands.execute(CommandIDs.refresh);
        await app.commands.execute(CommandIDs.openRun, { runId: started.run_id });
      } catch (error) {
        await showErrorMessage('Cannot start the training job', message(error));
      }
    }
  });

  app.commands.addCommand(CommandIDs.compileNotebook, {
    label: args => (args.toolbar || args.menu ? 'Compile to KFP' : 'Kubeflow: Compile to KFP'),
    caption: 'Save the notebook and write its Kubeflow Pipelines YAML next to it',
    isEnabled: () => currentNotebook() !== null,
    execute: async () => {
      const panel = currentNotebook();
      if (panel === null) {
        return;
      }
      const path = panel.context.path;
      const image = (await defaultImage()) ?? '';
      const answer = await showDialog<string>({
        title: `Compile ${path} to Kubeflow Pipelines`,
        body: new CompileForm(path.replace(/\.ipynb$/, '') + '.pipeline.yaml', image),
        buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Compile' })],
        focusNodeSelector: 'input[name="image"]'
      });
      if (!answer.button.accept || answer.value === null) {
        return;
      }
      try {
        if (panel.context.model.dirty) {
          await panel.context.save();
        }
        const compiled = await compileNotebook(path, {}, answer.value);
        const steps = Array.isArray(compiled.steps) ? compiled.steps.length : compiled.steps;
        Notification.success(`Compiled ${path} to ${compiled.path} (${steps} steps)`, {
          autoClose: 8000,
          actions: [
            {
              label: 'Open YAML',
              callback: () => void app.commands.execute('docmanager:open', { path: compiled.path })
            }
          ]
        });
      } catch (error) {
        await showErrorMessage('Cannot compile the notebook', message(error));
      }
    }
  });

  if (palette) {
    palette.addItem({ command: CommandIDs.train, category: 'Kubeflow' });
    palette.addItem({ command: CommandIDs.compileNotebook, category: 'Kubeflow' });
  }
}
