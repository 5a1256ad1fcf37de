/**
 * Commands of the kfjupyter extension: run the current notebook, open a run, refresh.
 */
import { ILabShell, JupyterFrontEnd } from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget, showErrorMessage } from '@jupyterlab/apputils';
import { DocumentWidget } from '@jupyterlab/docregistry';

import { runNotebook } from './api';
import { kubeflowIcon } from './icons';
import { RunDetailPanel } from './widgets/runDetail';
import { KubeflowSidebar } from './widgets/sidebar';

export const CommandIDs = {
  refresh: 'kfjupyter:refresh',
  runNotebook: 'kfjupyter:run-notebook',
  openRun: 'kfjupyter:open-run'
} as const;

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
  palette: ICommandPalette | null
): void {
  const opened = new Map<string, MainAreaWidget<RunDetailPanel>>();

  const openRun = (runId: string): MainAreaWidget<RunDetailPanel> => {
    let widget = opened.get(runId);
    if (widget === undefined || widget.isDisposed) {
      const content = new RunDetailPanel(runId);
      const created = new MainAreaWidget({ content });
      created.id = `jp-kfjupyter-run-${runId}`;
      created.title.label = `Run ${runId}`;
      created.title.icon = kubeflowIcon;
      created.title.closable = true;
      content.title.changed.connect(() => {
        created.title.label = content.title.label;
        created.title.caption = content.title.caption;
      });
      opened.set(runId, created);
      app.shell.add(created, 'main');
      widget = created;
    }
    app.shell.activateById(widget.id);
    return widget;
  };

  app.commands.addCommand(CommandIDs.refresh, {
    label: 'Kubeflow: Refresh',
    execute: async () => {
      await Promise.all([sidebar.refresh(), sidebar.runs.refresh()]);
    }
  });

  app.commands.addCommand(CommandIDs.openRun, {
    label: args => (args.runId ? `Kubeflow: Open Run ${String(args.runId)}` : 'Kubeflow: Open Run'),
    execute: args => {
      const runId = args.runId;
      if (typeof runId !== 'string' || runId === '') {
        throw new Error('kfjupyter:open-run needs a runId');
      }
      openRun(runId);
    }
  });

  app.commands.addCommand(CommandIDs.runNotebook, {
    label: 'Kubeflow: Run Notebook',
    caption: 'Run the current notebook as a pipeline on this server',
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
        openRun(started.run_id);
      } catch (error) {
        await showErrorMessage(
          'Cannot run the notebook',
          error instanceof Error ? error.message : String(error)
        );
      }
    }
  });

  sidebar.runs.selected.connect((_, run) => openRun(run.id));

  if (palette) {
    for (const command of [CommandIDs.runNotebook, CommandIDs.refresh]) {
      palette.addItem({ command, category: 'Kubeflow' });
    }
  }
}
