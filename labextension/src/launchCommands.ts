/**
 * Launch commands: train a script (`kfjupyter:train`), compile the current notebook to a KFP
 * pipeline YAML (`kfjupyter:compile-notebook`), and the launch half of "Run as Pipeline" (on this
 * server or, when the server is configured with one, on Kubeflow Pipelines).
 *
 * The file browser's context menu entry for `.py` files and the Kubeflow main menu are declared
 * in `labextension/schema/launch.json`. The Compile dialog offers the server's default image,
 * else the user's "Compile to KFP: default image" preference.
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
import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';

import { compileNotebook, getHealth, runNotebook, startTraining, submitNotebook } from './api';
import { kubeflowIcon } from './icons';
import { ITrainingRequest } from './generated/restTypes';
import { KubeflowSettings } from './settings';
import { CommandIDs } from './tokens';
import { CompileForm, IImagePrefill } from './widgets/compileDialog';
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
 * Start the (saved) notebook at `path` as `choice` says and show the run (`started: true`: its
 * detail opens unless the user turned that off): a local run, or a KFP run that this server
 * tracks, announced with a link to its page in Kubeflow Pipelines.
 */
export async function launchPipeline(
  app: JupyterFrontEnd,
  path: string,
  choice: IRunChoice,
  trans: TranslationBundle = nullTranslator.load('kfjupyter')
): Promise<void> {
  let runId: string;
  if (choice.backend === 'kfp') {
    const submitted = await submitNotebook(path, choice.parameters, choice.experiment);
    runId = submitted.run_id;
    const text = trans.__(
      'Submitted %1 to Kubeflow Pipelines (run %2)',
      path,
      submitted.kfp_run_id
    );
    Notification.success(text, {
      autoClose: false,
      actions: [
        {
          label: trans.__('Open in Kubeflow Pipelines'),
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
  await app.commands.execute(CommandIDs.openRun, { runId, started: true });
}

/** Show the train dialog until its values are valid; null when cancelled. */
async function askTraining(
  initial: Partial<ITrainValues>,
  trans: TranslationBundle
): Promise<ITrainingRequest | null> {
  let values = initial;
  let problem = '';
  for (;;) {
    const answer = await showDialog<ITrainValues>({
      title: trans.__('Train with kfjupyter'),
      body: new TrainForm(values, problem, trans),
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.okButton({ label: trans.__('Train') })
      ],
      focusNodeSelector: 'input[name="script"]'
    });
    if (!answer.button.accept || answer.value === null) {
      return null;
    }
    values = answer.value;
    try {
      const request = trainingRequest(answer.value, trans);
      problem = trainingProblems(request, trans);
      if (problem === '') {
        return request;
      }
    } catch (error) {
      problem = trans.__('Arguments: %1', message(error));
    }
  }
}

/** Register the launch commands (and their palette entries when there is a palette). */
export function addLaunchCommands(
  app: JupyterFrontEnd,
  tracker: INotebookTracker,
  browser: IDefaultFileBrowser | null,
  palette: ICommandPalette | null,
  settings: KubeflowSettings = new KubeflowSettings(),
  trans: TranslationBundle = nullTranslator.load('kfjupyter')
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
        ? trans.__('Train with kfjupyter…')
        : trans.__('Kubeflow: Train with kfjupyter…'),
    caption: trans.__('Start a training job on a Python script: nodes, processes, GPUs, backend'),
    icon: kubeflowIcon,
    execute: async args => {
      const editor = currentScript();
      let script = typeof args.path === 'string' ? args.path : null;
      if (script === null && args.source === 'filebrowser') {
        script = selectedScript();
      }
      script = script ?? editor?.context.path ?? selectedScript() ?? '';
      const request = await askTraining({ script }, trans);
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
        await app.commands.execute(CommandIDs.openRun, { runId: started.run_id, started: true });
      } catch (error) {
        await showErrorMessage(trans.__('Cannot start the training job'), message(error));
      }
    }
  });

  app.commands.addCommand(CommandIDs.compileNotebook, {
    label: args =>
      args.toolbar || args.menu ? trans.__('Compile to KFP') : trans.__('Kubeflow: Compile to KFP'),
    caption: trans.__('Save the notebook and write its Kubeflow Pipelines YAML next to it'),
    isEnabled: () => currentNotebook() !== null,
    execute: async () => {
      const panel = currentNotebook();
      if (panel === null) {
        return;
      }
      const path = panel.context.path;
      const serverImage = (await defaultImage()) ?? '';
      const userImage = settings.values.compileImage;
      const prefill: IImagePrefill = serverImage
        ? { image: serverImage, from: 'server' }
        : { image: userImage, from: userImage ? 'settings' : 'none' };
      const answer = await showDialog<string>({
        title: trans.__('Compile %1 to Kubeflow Pipelines', path),
        body: new CompileForm(path.replace(/\.ipynb$/, '') + '.pipeline.yaml', prefill, trans),
        buttons: [
          Dialog.cancelButton({ label: trans.__('Cancel') }),
          Dialog.okButton({ label: trans.__('Compile') })
        ],
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
        const text = trans._n(
          'Compiled %2 to %3 (%1 step)',
          'Compiled %2 to %3 (%1 steps)',
          steps,
          path,
          compiled.path
        );
        Notification.success(text, {
          autoClose: 8000,
          actions: [
            {
              label: trans.__('Open YAML'),
              callback: () => void app.commands.execute('docmanager:open', { path: compiled.path })
            }
          ]
        });
      } catch (error) {
        await showErrorMessage(trans.__('Cannot compile the notebook'), message(error));
      }
    }
  });

  if (palette) {
    const category = trans.__('Kubeflow');
    palette.addItem({ command: CommandIDs.train, category });
    palette.addItem({ command: CommandIDs.compileNotebook, category });
  }
}
