/**
 * Commands of the kfjupyter extension: run the current notebook, open a run, compare runs,
 * cancel, re-run or delete a run, open a run's notebook, focus the runs list, refresh.
 *
 * `kfjupyter:open-run` with `started: true` is how every launcher shows a run it just started:
 * the run's panel opens, or (with the "Open the run when it starts" preference off) a
 * notification with an Open button says it started.
 */
import { ILabShell, ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  MainAreaWidget,
  Notification,
  WidgetTracker,
  showDialog,
  showErrorMessage
} from '@jupyterlab/apputils';
import { DocumentWidget } from '@jupyterlab/docregistry';
import { NotebookPanel } from '@jupyterlab/notebook';
import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';

import { cancelRun, deleteRun, getRun, rerunRun, runNotebook } from './api';
import { kubeflowIcon } from './icons';
import { KubeflowSettings } from './settings';
import { CommandIDs } from './tokens';
import { goToCell } from './widgets/cellBadges';
import { RunComparePanel } from './widgets/runCompare';
import { OPEN_RUN_NOTEBOOK, RunDetailPanel } from './widgets/runDetail';
import { RerunForm } from './widgets/rerunDialog';
import { KubeflowSidebar } from './widgets/sidebar';

export { CommandIDs };

/** The notebook document in the main area, if the current widget is one. */
function currentNotebook(shell: ILabShell): DocumentWidget | null {
  const widget = shell.currentWidget;
  if (widget instanceof DocumentWidget && widget.context.path.endsWith('.ipynb')) {
    return widget;
  }
  return null;
}

/** Add the commands (and their palette entries when a palette is present). */
export function addCommands(
  app: JupyterFrontEnd,
  shell: ILabShell,
  sidebar: KubeflowSidebar,
  palette: ICommandPalette | null,
  restorer: ILayoutRestorer | null = null,
  settings: KubeflowSettings = new KubeflowSettings(),
  trans: TranslationBundle = nullTranslator.load('kfjupyter')
): void {
  const opened = new Map<string, MainAreaWidget<RunDetailPanel>>();
  // Open run panels are tracked, so a reload of JupyterLab opens them again where they were.
  const tracker = new WidgetTracker<MainAreaWidget<RunDetailPanel>>({ namespace: 'kfjupyter-run' });
  if (restorer !== null) {
    void restorer.restore(tracker, {
      command: CommandIDs.openRun,
      args: widget => ({ runId: widget.content.runId }),
      name: widget => widget.content.runId
    });
    restorer.add(sidebar, 'kfjupyter-sidebar');
  }

  const openRun = (runId: string): MainAreaWidget<RunDetailPanel> => {
    let widget = opened.get(runId);
    if (widget === undefined || widget.isDisposed) {
      const content = new RunDetailPanel(runId, undefined, app.commands, trans);
      const created = new MainAreaWidget({ content });
      created.id = `jp-kfjupyter-run-${runId}`;
      created.title.label = trans.__('Run %1', runId);
      created.title.icon = kubeflowIcon;
      created.title.closable = true;
      content.title.changed.connect(() => {
        created.title.label = content.title.label;
        created.title.caption = content.title.caption;
      });
      opened.set(runId, created);
      app.shell.add(created, 'main');
      void tracker.add(created);
      widget = created;
    }
    app.shell.activateById(widget.id);
    return widget;
  };

  app.commands.addCommand(CommandIDs.refresh, {
    label: args => (args.menu ? trans.__('Refresh Runs') : trans.__('Kubeflow: Refresh')),
    execute: async () => {
      await Promise.all([sidebar.refresh(), sidebar.runs.refresh()]);
    }
  });

  app.commands.addCommand(CommandIDs.openRun, {
    label: args =>
      args.runId
        ? trans.__('Kubeflow: Open Run %1', String(args.runId))
        : trans.__('Kubeflow: Open Run'),
    execute: args => {
      const runId = args.runId;
      if (typeof runId !== 'string' || runId === '') {
        throw new Error('kfjupyter:open-run needs a runId');
      }
      if (args.started === true && !settings.values.openRunOnStart) {
        Notification.info(trans.__('Run %1 started', runId), {
          autoClose: 8000,
          actions: [{ label: trans.__('Open run'), callback: () => void openRun(runId) }]
        });
        return;
      }
      openRun(runId);
    }
  });

  /** The runs to compare: the `runIds` argument (a list), else the runs selected in the list. */
  const compareTargets = (args: { [name: string]: unknown }): string[] => {
    const given = args.runIds;
    if (Array.isArray(given)) {
      return given.filter((id): id is string => typeof id === 'string' && id !== '');
    }
    return sidebar.runs.selection;
  };

  app.commands.addCommand(CommandIDs.compareRuns, {
    label: args => {
      const count = compareTargets(args).length;
      return count >= 2
        ? trans.__('Kubeflow: Compare Runs (%1)', count)
        : trans.__('Kubeflow: Compare Runs');
    },
    caption: trans.__(
      'Compare the runs selected in the Kubeflow runs list: parameters, metrics, charts'
    ),
    icon: kubeflowIcon,
    isEnabled: args => compareTargets(args).length >= 2,
    execute: args => {
      const runIds = compareTargets(args);
      if (runIds.length < 2) {
        return;
      }
      const content = new RunComparePanel(runIds, undefined, app.commands, trans);
      const widget = new MainAreaWidget({ content });
      widget.id = `jp-kfjupyter-compare-${Date.now()}`;
      widget.title.label = content.title.label;
      widget.title.caption = content.title.caption;
      widget.title.icon = kubeflowIcon;
      widget.title.closable = true;
      app.shell.add(widget, 'main');
      app.shell.activateById(widget.id);
    }
  });

  /** The run a command is about: its `runId` argument, else the run of the current panel. */
  const targetRun = (args: { [name: string]: unknown }): RunDetailPanel | null => {
    const runId = args.runId;
    if (typeof runId === 'string' && runId !== '') {
      const widget = opened.get(runId);
      return widget && !widget.isDisposed ? widget.content : null;
    }
    const current = shell.currentWidget;
    if (current instanceof MainAreaWidget && current.content instanceof RunDetailPanel) {
      return current.content;
    }
    return null;
  };

  app.commands.addCommand(CommandIDs.cancelRun, {
    label: trans.__('Kubeflow: Cancel Run'),
    caption: trans.__('Stop the run: kill its running steps and mark it cancelled'),
    isEnabled: args => {
      const status = targetRun(args)?.status;
      return status === 'running' || status === 'pending';
    },
    execute: async args => {
      const panel = targetRun(args);
      const runId = typeof args.runId === 'string' && args.runId ? args.runId : panel?.runId;
      if (!runId) {
        return;
      }
      const answer = await showDialog({
        title: trans.__('Cancel the run?'),
        body: trans.__('Run %1 stops now: its running steps are killed.', runId),
        buttons: [
          Dialog.cancelButton({ label: trans.__('Keep running') }),
          Dialog.warnButton({ label: trans.__('Cancel run') })
        ]
      });
      if (!answer.button.accept) {
        return;
      }
      try {
        await cancelRun(runId);
      } catch (error) {
        await showErrorMessage(
          trans.__('Cannot cancel the run'),
          error instanceof Error ? error.message : String(error)
        );
      }
      await panel?.refresh();
      void sidebar.runs.refresh();
    }
  });

  /** The run id a command is about: its `runId` argument, else the current panel's run. */
  const targetRunId = (args: { [name: string]: unknown }): string | null => {
    const runId = args.runId;
    if (typeof runId === 'string' && runId !== '') {
      return runId;
    }
    return targetRun(args)?.runId ?? null;
  };
  /** Whether the targeted run has ended (unknown counts as ended: the server decides). */
  const hasEnded = (args: { [name: string]: unknown }): boolean => {
    const status = targetRun(args)?.status ?? null;
    return status !== 'running' && status !== 'pending' && targetRunId(args) !== null;
  };
  const problem = (error: unknown): string =>
    error instanceof Error ? error.message : String(error);

  app.commands.addCommand(CommandIDs.rerunRun, {
    label: trans.__('Kubeflow: Re-run Run…'),
    caption: trans.__(
      'Start the run again with the same parameters (optionally ignoring the cache)'
    ),
    isEnabled: hasEnded,
    execute: async args => {
      const runId = targetRunId(args);
      if (runId === null) {
        return;
      }
      const name = targetRun(args)?.runName ?? runId;
      const answer = await showDialog<boolean>({
        title: trans.__('Re-run?'),
        body: new RerunForm(name, settings.values.runEveryStep, trans),
        buttons: [
          Dialog.cancelButton({ label: trans.__('Cancel') }),
          Dialog.okButton({ label: trans.__('Re-run') })
        ]
      });
      if (!answer.button.accept) {
        return;
      }
      try {
        const started = await rerunRun(runId, answer.value ?? false);
        void sidebar.runs.refresh();
        await app.commands.execute(CommandIDs.openRun, { runId: started.run_id, started: true });
      } catch (error) {
        await showErrorMessage(trans.__('Cannot re-run'), problem(error));
      }
    }
  });

  app.commands.addCommand(CommandIDs.deleteRun, {
    label: trans.__('Kubeflow: Delete Run…'),
    caption: trans.__('Delete the run with its logs, metrics and files'),
    isEnabled: hasEnded,
    execute: async args => {
      const runId = targetRunId(args);
      if (runId === null) {
        return;
      }
      const answer = await showDialog({
        title: trans.__('Delete the run?'),
        body: trans.__(
          'Run %1 is deleted with its logs, metrics and artifacts. This cannot be undone.',
          runId
        ),
        buttons: [
          Dialog.cancelButton({ label: trans.__('Cancel') }),
          Dialog.warnButton({ label: trans.__('Delete') })
        ]
      });
      if (!answer.button.accept) {
        return;
      }
      try {
        await deleteRun(runId);
      } catch (error) {
        await showErrorMessage(trans.__('Cannot delete the run'), problem(error));
        return;
      }
      opened.get(runId)?.dispose();
      opened.delete(runId);
      await sidebar.runs.refresh();
    }
  });

  app.commands.addCommand(OPEN_RUN_NOTEBOOK, {
    label: args =>
      targetRun(args)?.kind === 'training'
        ? trans.__('Kubeflow: Open Run Script')
        : trans.__('Kubeflow: Open Run Notebook'),
    caption: trans.__(
      "Open the notebook (or training script) the run ran, when it is in the server's root"
    ),
    isEnabled: args => {
      const panel = targetRun(args);
      return panel !== null ? panel.notebookPath !== null : targetRunId(args) !== null;
    },
    execute: async args => {
      const runId = targetRunId(args);
      if (runId === null) {
        return;
      }
      let path = targetRun(args)?.notebookPath ?? null;
      try {
        // A run without an open panel (or not yet loaded): ask the server.
        path ??= (await getRun(runId)).notebook_path;
      } catch (error) {
        await showErrorMessage(trans.__('Cannot open the notebook'), problem(error));
        return;
      }
      if (path === null) {
        await showErrorMessage(
          trans.__('Cannot open the notebook'),
          trans.__(
            "The notebook of run %1 is not in the server's root directory, or no longer exists.",
            runId
          )
        );
        return;
      }
      const opened: unknown = await app.commands.execute('docmanager:open', { path });
      const cell = typeof args.cell === 'number' ? args.cell : null;
      if (cell !== null && opened instanceof NotebookPanel) {
        await opened.context.ready;
        goToCell(opened.content)(cell);
      }
    }
  });

  app.commands.addCommand(CommandIDs.focusRuns, {
    label: args =>
      args.menu ? trans.__('Focus Runs List') : trans.__('Kubeflow: Focus Runs List'),
    caption: trans.__('Show the Kubeflow sidebar and move the keyboard focus to its runs list'),
    execute: async () => {
      app.shell.activateById(sidebar.id);
      // Fresh runs first; by then whatever opened the command (the palette) has let go of focus.
      await sidebar.runs.refresh();
      sidebar.runs.focusList();
    }
  });

  app.commands.addCommand(CommandIDs.runNotebook, {
    label: trans.__('Kubeflow: Run as Pipeline with Defaults'),
    caption: trans.__(
      'Run the current notebook as a pipeline on this server, with its default parameters (no dialog)'
    ),
    icon: kubeflowIcon,
    isEnabled: () => currentNotebook(shell) !== null,
    execute: async () => {
      const notebook = currentNotebook(shell);
      if (notebook === null) {
        return;
      }
      try {
        if (notebook.context.model.dirty) {
          await notebook.context.save();
        }
        const started = await runNotebook(notebook.context.path);
        void sidebar.runs.refresh();
        await app.commands.execute(CommandIDs.openRun, { runId: started.run_id, started: true });
      } catch (error) {
        await showErrorMessage(
          trans.__('Cannot run the notebook'),
          error instanceof Error ? error.message : String(error)
        );
      }
    }
  });

  sidebar.runs.selected.connect((_, run) => openRun(run.id));
  sidebar.runs.selectionChanged.connect(() =>
    app.commands.notifyCommandChanged(CommandIDs.compareRuns)
  );
  sidebar.runs.compareRequested.connect(
    (_, runIds) => void app.commands.execute(CommandIDs.compareRuns, { runIds })
  );

  if (palette) {
    const commands = [
      CommandIDs.runNotebook,
      CommandIDs.refresh,
      CommandIDs.compareRuns,
      CommandIDs.cancelRun,
      CommandIDs.rerunRun,
      CommandIDs.deleteRun,
      OPEN_RUN_NOTEBOOK,
      CommandIDs.focusRuns
    ];
    for (const command of commands) {
      palette.addItem({ command, category: trans.__('Kubeflow') });
    }
  }
}
