/**
 * Notebook steps: live lint markers and step badges on the cells of open notebooks (with the
 * notebook-wide findings in a banner above the cells), and the commands that mark cells (step settings as `metadata.kfjupyter`, Kale kinds as tags) and run
 * the notebook as a pipeline with parameter overrides.
 *
 * Toolbar buttons (notebook and cell toolbars) and the keyboard shortcut are declared in
 * `labextension/schema/notebook-steps.json`.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  InputDialog,
  showDialog,
  showErrorMessage
} from '@jupyterlab/apputils';
import { Cell, ICellModel } from '@jupyterlab/cells';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';

import { ILintResult } from './generated/restTypes';
import { JsonObject, isObject } from './validate';

import { planNotebook } from './api';
import { kubeflowIcon } from './icons';
import { launchPipeline, pipelineBackends } from './launchCommands';
import { NotebookLinter } from './models/notebookLinter';
import {
  CELL_KINDS,
  CellKind,
  IStepSettings,
  METADATA_KEY,
  readStepSettings,
  stepMetadata,
  stepSettingsProblems,
  tagsWithKind
} from './models/stepMetadata';
import { KubeflowSettings } from './settings';
import { CommandIDs } from './tokens';
import { goToCell, renderCellMarkers } from './widgets/cellBadges';
import { LintBanner } from './widgets/lintBanner';
import { IRunChoice, Planner, RunForm } from './widgets/runDialog';
import { StepForm } from './widgets/stepDialog';

/**
 * What the notebook shows of `result`. Until a cell is marked as a step the notebook is not a
 * pipeline yet: only errors are shown on cells, no set-up badges, and "no steps" (KF001) is a
 * neutral hint rather than a warning.
 */
export function quietUntilMarked(result: ILintResult | null): ILintResult | null {
  if (result === null || result.graph.nodes.length > 0) {
    return result;
  }
  const diagnostics = result.diagnostics
    .filter(d => d.severity === 'error' || d.code === 'KF001')
    .map(d => (d.code === 'KF001' ? { ...d, severity: 'info' as const } : d));
  return { diagnostics, graph: { ...result.graph, setup_cells: [] } };
}

/**
 * The property inspector's "Kubeflow step" form fills in empty lists ("after", "outputs") as soon
 * as it shows a cell, which would write `"kfjupyter": {"after": []}` into every cell looked at. An
 * empty list says nothing: it is removed again (and `metadata.kfjupyter` with it when nothing is
 * left).
 */
export function withoutEmptyAfter(value: unknown): JsonObject | null | undefined {
  if (!isObject(value)) {
    return undefined;
  }
  const empty = ['after', 'outputs'].filter(
    key => Array.isArray(value[key]) && (value[key] as unknown[]).length === 0
  );
  if (empty.length === 0) {
    return undefined; // nothing to change
  }
  const rest: JsonObject = Object.fromEntries(
    Object.entries(value).filter(([key]) => !empty.includes(key))
  );
  return Object.keys(rest).length > 0 ? rest : null;
}

function dropEmptyDefaults(panel: NotebookPanel): void {
  const watch = (cell: ICellModel): void => {
    cell.metadataChanged.connect((model, change) => {
      if (change.key !== METADATA_KEY) {
        return;
      }
      const cleaned = withoutEmptyAfter(model.getMetadata(METADATA_KEY));
      if (cleaned === null) {
        model.deleteMetadata(METADATA_KEY);
      } else if (cleaned !== undefined) {
        model.setMetadata(METADATA_KEY, cleaned);
      }
    });
  };
  const model = panel.content.model;
  if (model === null) {
    return;
  }
  for (const cell of model.cells) {
    watch(cell);
  }
  model.cells.changed.connect((_, change) => {
    if (change.type === 'add') {
      change.newValues.forEach(watch);
    }
  });
}

/** The notebook linters, one per open notebook panel. */
export class NotebookLinters {
  constructor(
    tracker: INotebookTracker,
    private readonly _trans: TranslationBundle = nullTranslator.load('kfjupyter')
  ) {
    tracker.widgetAdded.connect((_, panel) => this._track(panel));
    tracker.forEach(panel => this._track(panel));
  }

  /** The linter of `panel`, if it is tracked. */
  get(panel: NotebookPanel): NotebookLinter | undefined {
    return this._linters.get(panel);
  }

  private _track(panel: NotebookPanel): void {
    if (this._linters.has(panel)) {
      return;
    }
    panel.addClass('jp-kfjupyter-linted');
    dropEmptyDefaults(panel);
    const linter = new NotebookLinter(panel);
    const banner = new LintBanner(goToCell(panel.content), this._trans);
    panel.contentHeader.addWidget(banner);
    linter.changed.connect((_, result) => {
      const shown = quietUntilMarked(result);
      renderCellMarkers(panel.content, shown, this._trans);
      banner.setResult(shown);
    });
    this._linters.set(panel, linter);
    panel.disposed.connect(() => this._linters.delete(panel));
  }

  private readonly _linters = new Map<NotebookPanel, NotebookLinter>();
}

function tagsOf(cell: Cell): string[] {
  const tags = cell.model.getMetadata('tags');
  return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [];
}

function setTags(cell: Cell, tags: string[]): void {
  const before = tagsOf(cell);
  if (before.length === tags.length && before.every((tag, i) => tag === tags[i])) {
    return;
  }
  if (tags.length === 0) {
    cell.model.deleteMetadata('tags');
  } else {
    cell.model.setMetadata('tags', tags);
  }
}

/** Show the step dialog until its values are valid; null when cancelled. */
async function askStepSettings(
  initial: IStepSettings,
  steps: readonly string[],
  trans: TranslationBundle
): Promise<IStepSettings | null> {
  let values = initial;
  let problem = '';
  for (;;) {
    const result = await showDialog<IStepSettings>({
      title: trans.__('Mark cell as pipeline step'),
      body: new StepForm(values, steps, problem, trans),
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.okButton({ label: trans.__('Save step') })
      ],
      focusNodeSelector: 'input[name="step"]'
    });
    if (!result.button.accept || result.value === null) {
      return null;
    }
    values = result.value;
    problem = stepSettingsProblems(values, trans);
    if (problem === '') {
      return values;
    }
  }
}

/** The notebook in the main area's current tab, else the tracker's last focused one. */
function currentPanel(app: JupyterFrontEnd, tracker: INotebookTracker): NotebookPanel | null {
  const current = app.shell.currentWidget;
  if (current instanceof NotebookPanel && tracker.has(current)) {
    return current;
  }
  return tracker.currentWidget;
}

/** Register the notebook-steps commands (and their palette entries when there is a palette). */
export function addStepCommands(
  app: JupyterFrontEnd,
  tracker: INotebookTracker,
  linters: NotebookLinters,
  palette: ICommandPalette | null,
  settings: KubeflowSettings = new KubeflowSettings(),
  trans: TranslationBundle = nullTranslator.load('kfjupyter')
): void {
  const panelOf = (): NotebookPanel | null => currentPanel(app, tracker);
  const hasCell = (): boolean => (panelOf()?.content.activeCell ?? null) !== null;

  app.commands.addCommand(CommandIDs.markStep, {
    label: args => (args.toolbar ? '' : trans.__('Kubeflow: Mark Cell as Step…')),
    caption: trans.__('Make this cell start a pipeline step: name, upstream steps, resources'),
    icon: kubeflowIcon,
    isEnabled: hasCell,
    execute: async () => {
      const panel = panelOf();
      const cell = panel?.content.activeCell ?? null;
      if (panel === null || cell === null) {
        return;
      }
      const linter = linters.get(panel);
      const result = linter?.result ?? (await linter?.lintNow()) ?? null;
      // Only steps that start above this cell: a later one would make a cycle.
      const here = panel.content.activeCellIndex;
      const steps = (result?.graph.nodes ?? [])
        .filter(n => n.kind === 'step' && n.cells.length > 0 && n.cells[0] < here)
        .map(n => n.name);
      const current = readStepSettings(cell.model.getMetadata(METADATA_KEY), tagsOf(cell));
      const chosen = await askStepSettings(current, steps, trans);
      if (chosen === null || cell.isDisposed) {
        return;
      }
      cell.model.setMetadata(
        METADATA_KEY,
        stepMetadata(chosen, cell.model.getMetadata(METADATA_KEY))
      );
      setTags(cell, tagsWithKind(tagsOf(cell), null));
    }
  });

  app.commands.addCommand(CommandIDs.setCellKind, {
    label: args =>
      typeof args.kind === 'string'
        ? trans.__('Kubeflow: Mark Cell as %1', args.kind)
        : trans.__('Kubeflow: Set Cell Kind…'),
    caption: trans.__('Set the Kale kind of the selected cells as a tag'),
    isEnabled: hasCell,
    execute: async args => {
      const notebook = panelOf()?.content;
      if (!notebook) {
        return;
      }
      let kind = typeof args.kind === 'string' ? args.kind : null;
      if (kind === null) {
        const answer = await InputDialog.getItem({
          title: trans.__('Kubeflow cell kind'),
          items: [...CELL_KINDS, 'none'],
          current: 0
        });
        if (!answer.button.accept || answer.value === null) {
          return;
        }
        kind = answer.value;
      }
      const chosen = (CELL_KINDS as readonly string[]).includes(kind) ? (kind as CellKind) : null;
      for (const cell of notebook.widgets.filter(c => notebook.isSelectedOrActive(c))) {
        setTags(cell, tagsWithKind(tagsOf(cell), chosen));
        cell.model.deleteMetadata(METADATA_KEY);
      }
    }
  });

  app.commands.addCommand(CommandIDs.runAsPipeline, {
    label: args =>
      args.menu ? trans.__('Run as Pipeline…') : trans.__('Kubeflow: Run as Pipeline…'),
    caption: trans.__('Run this notebook as a pipeline, choosing parameter values'),
    icon: kubeflowIcon,
    isEnabled: () => panelOf() !== null,
    execute: async () => {
      const panel = panelOf();
      if (panel === null) {
        return;
      }
      if (panel.context.model.dirty) {
        await panel.context.save(); // the plan in the dialog is of the saved notebook
      }
      const [result, backends] = await Promise.all([
        linters.get(panel)?.lintNow(),
        pipelineBackends()
      ]);
      const path = panel.context.path;
      const planner: Planner = choice => planNotebook(path, choice.parameters, choice.noCache);
      const errors = (result?.diagnostics ?? []).filter(d => d.severity === 'error').length;
      const warning = errors
        ? trans._n(
            'Lint found %1 error; the run will refuse to start.',
            'Lint found %1 errors; the run will refuse to start.',
            errors
          )
        : '';
      const { defaultBackend, runEveryStep } = settings.values;
      const answer = await showDialog<IRunChoice>({
        title: trans.__('Run %1 as a pipeline', panel.context.path),
        body: new RunForm(
          result?.graph.parameters ?? [],
          warning,
          backends,
          planner,
          { backend: defaultBackend, runEveryStep },
          trans
        ),
        buttons: [
          Dialog.cancelButton({ label: trans.__('Cancel') }),
          Dialog.okButton({ label: trans.__('Run') })
        ]
      });
      if (!answer.button.accept || answer.value === null) {
        return;
      }
      try {
        if (panel.context.model.dirty) {
          await panel.context.save();
        }
        await launchPipeline(app, panel.context.path, answer.value, trans);
      } catch (error) {
        await showErrorMessage(
          trans.__('Cannot run the notebook'),
          error instanceof Error ? error.message : String(error)
        );
      }
    }
  });

  if (palette) {
    const category = trans.__('Kubeflow');
    palette.addItem({ command: CommandIDs.markStep, category });
    palette.addItem({ command: CommandIDs.setCellKind, category });
    for (const kind of CELL_KINDS) {
      palette.addItem({ command: CommandIDs.setCellKind, args: { kind }, category });
    }
    palette.addItem({ command: CommandIDs.runAsPipeline, category });
  }
}
