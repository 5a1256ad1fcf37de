/**
 * Commands on one step of a run (the run detail's step bar executes them):
 * - `kfjupyter:rerun-from-step` starts the run's notebook again from that step, the steps above
 *   taken from that run (`POST runs/{id}/rerun {from_step}`), and opens the new run;
 * - `kfjupyter:load-step-inputs` asks the server what `%kf load` of the step defines
 *   (`GET runs/{id}/steps/{step}/values`) and runs the code it answers in the kernel of the run's
 *   notebook (opened if needed), so the step's real inputs land in the user's namespace.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification, showErrorMessage } from '@jupyterlab/apputils';
import { KernelMessage } from '@jupyterlab/services';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { getStepValues, rerunFromStep } from './api';
import { CommandIDs } from './tokens';

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/**
 * A step command's `execute`: does nothing without a run id and a step; what `action` throws is
 * shown in an error dialog titled `failed(step)`.
 */
function onStep(
  action: (runId: string, step: string, args: ReadonlyPartialJSONObject) => Promise<void>,
  failed: (step: string) => string
): (args: ReadonlyPartialJSONObject) => Promise<void> {
  return async args => {
    const runId = text(args.runId);
    const step = text(args.step);
    if (runId === '' || step === '') {
      return;
    }
    try {
      await action(runId, step, args);
    } catch (error) {
      await showErrorMessage(failed(step), message(error));
    }
  };
}

/** The notebook to load into: the one at `path` (opened if needed), else the current notebook. */
async function notebookFor(
  app: JupyterFrontEnd,
  tracker: INotebookTracker,
  path: string
): Promise<NotebookPanel | null> {
  if (path === '') {
    return tracker.currentWidget;
  }
  const open = tracker.find(panel => panel.context.path === path);
  if (open) {
    return open;
  }
  const widget: unknown = await app.commands.execute('docmanager:open', { path });
  return widget instanceof NotebookPanel ? widget : null;
}

/**
 * Run `code` in the panel's kernel; answers what it printed (stdout and stderr) and the error it
 * raised, if any.
 */
async function execute(panel: NotebookPanel, code: string): Promise<string> {
  await panel.sessionContext.ready;
  const kernel = panel.sessionContext.session?.kernel;
  if (!kernel) {
    throw new Error(`${panel.context.path} has no kernel: start one, then load again`);
  }
  const printed: string[] = [];
  const future = kernel.requestExecute({ code, store_history: false });
  future.onIOPub = (msg: KernelMessage.IIOPubMessage): void => {
    if (KernelMessage.isStreamMsg(msg)) {
      printed.push(msg.content.text);
    } else if (KernelMessage.isErrorMsg(msg)) {
      printed.push(`${msg.content.ename}: ${msg.content.evalue}`);
    }
  };
  await future.done;
  return printed.join('');
}

/** Register the step commands. */
export function addStepRunCommands(
  app: JupyterFrontEnd,
  tracker: INotebookTracker,
  trans: TranslationBundle = nullTranslator.load('kfjupyter')
): void {
  app.commands.addCommand(CommandIDs.rerunFromStep, {
    label: args =>
      args.step ? trans.__('Re-run from %1', text(args.step)) : trans.__('Re-run from here'),
    caption: trans.__(
      'Run this step and every step below it again; the steps above are taken from this run'
    ),
    execute: onStep(
      async (runId, step) => {
        const started = await rerunFromStep(runId, step);
        void app.commands.execute(CommandIDs.refresh);
        await app.commands.execute(CommandIDs.openRun, { runId: started.run_id, started: true });
      },
      step => trans.__('Cannot re-run from %1', step)
    )
  });

  app.commands.addCommand(CommandIDs.loadStepInputs, {
    label: trans.__('Load inputs into kernel'),
    caption: trans.__(
      "Define this step's recorded inputs and parameters in the notebook's kernel (%kf load)"
    ),
    execute: onStep(
      async (runId, step, args) => {
        const values = await getStepValues(runId, step);
        const panel = await notebookFor(app, tracker, text(args.path));
        if (panel === null) {
          throw new Error(trans.__('open a notebook to load the values into'));
        }
        const printed = await execute(panel, values.code);
        const problem = printed
          .split('\n')
          .find(line => line.startsWith('kfjupyter:') || /^\w+Error: /.test(line));
        if (problem !== undefined) {
          throw new Error(problem.replace(/^kfjupyter: /, ''));
        }
        const names = values.values.map(v => v.name).join(', ') || trans.__('nothing');
        const loaded = trans.__('Loaded into %1: %2 (step %3)', panel.context.path, names, step);
        Notification.success(loaded, { autoClose: 6000 });
        app.shell.activateById(panel.id);
      },
      step => trans.__('Cannot load the inputs of %1', step)
    )
  });
}
