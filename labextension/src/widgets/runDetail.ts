/**
 * The run detail panel (main area): the run's status with its actions (Open notebook, or Open
 * script for a training job, when the server can serve it; Cancel while it is active, Re-run and
 * Delete once it has ended), parameters, step graph, steps, the log of the step the
 * user picks (in the table or the graph) with that step's actions (Re-run from here on local
 * pipeline runs, Load inputs into kernel on every pipeline run), metric charts and artifacts.
 * While the run is active a Lumino `Poll` refreshes it and the log view follows the step live;
 * the poll stops once the run has ended.
 */
import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';

import { getArtifacts, getMetrics, getRun, getStepLog } from '../api';
import { streamStepLog } from '../logStream';
import {
  element,
  elapsed,
  formatAgo,
  formatClock,
  formatDuration,
  formatNumber,
  kindBadge,
  shortRunId,
  statusBadge,
  trainingFacts
} from '../format';
import { CommandIDs } from '../tokens';
import { IArtifactList, IMetricHistory, IRunDetail, IStepSummary } from '../generated/restTypes';
import { ArtifactsView } from './artifactsView';
import { GoToCell } from './cellBadges';
import { DagView } from './dagView';
import { errorNodes } from './logLines';
import { ILogSource, StepLogView } from './logView';
import { MetricsChart } from './metricsChart';
import { PollingWidget } from './pollingWidget';

const REFRESH_MS = 2000;
const ACTIVE = new Set(['pending', 'running']);

/** Command that opens a run's notebook (or training script) in JupyterLab (`commands.ts`). */
export const OPEN_RUN_NOTEBOOK = 'kfjupyter:open-run-notebook';

/** What the panel needs from the server; tests can pass fakes. */
export interface IRunSource extends ILogSource {
  getRun(runId: string): Promise<IRunDetail>;
  getMetrics(runId: string): Promise<IMetricHistory>;
  getArtifacts(runId: string): Promise<IArtifactList>;
}

/** The part of Lumino's `CommandRegistry` the panel uses to run its actions. */
export interface ICommandRunner {
  execute(
    id: string,
    args: { runId: string; step?: string; path?: string; cell?: number }
  ): Promise<unknown>;
  notifyCommandChanged(id?: string): void;
}

const SERVER: IRunSource = {
  getRun: runId => getRun(runId),
  getStepLog: (runId, step, offset) => getStepLog(runId, step, offset),
  streamStepLog: (runId, step, offset, onLog, signal) =>
    streamStepLog(runId, step, offset, onLog, signal),
  getMetrics: runId => getMetrics(runId),
  getArtifacts: runId => getArtifacts(runId)
};

export class RunDetailPanel extends PollingWidget {
  /**
   * `commands` runs the panel's actions (Open notebook, Cancel, Re-run and Delete execute
   * `kfjupyter:open-run-notebook`, `kfjupyter:cancel-run`, `kfjupyter:rerun-run` and
   * `kfjupyter:delete-run`); without it the buttons are not shown.
   */
  constructor(
    readonly runId: string,
    private readonly _source: IRunSource = SERVER,
    private readonly _commands: ICommandRunner | null = null,
    private readonly _trans: TranslationBundle = nullTranslator.load('kfjupyter')
  ) {
    super(`kfjupyter:run:${runId}`, REFRESH_MS);
    const trans = _trans;
    this.addClass('jp-kfjupyter-run-detail');
    this.node.dataset.runId = runId;
    this._header = element('div', 'jp-kfjupyter-run-detail-header');
    this._cancel = element(
      'button',
      'jp-Button jp-mod-styled jp-mod-warn jp-kfjupyter-cancel',
      trans.__('Cancel')
    );
    this._cancel.title = trans.__('Stop this run: kills its running steps and marks it cancelled');
    this._cancel.hidden = true;
    this._cancel.addEventListener('click', () => {
      void this._commands?.execute(CommandIDs.cancelRun, { runId: this.runId });
    });
    this._open = this._action(
      'jp-kfjupyter-open-notebook',
      trans.__('Open notebook'),
      OPEN_RUN_NOTEBOOK
    );
    this._rerun = this._action('jp-kfjupyter-rerun', trans.__('Re-run'), CommandIDs.rerunRun);
    this._rerun.title = trans.__('Start this run again with the same parameters');
    this._delete = this._action('jp-kfjupyter-delete', trans.__('Delete'), CommandIDs.deleteRun);
    this._delete.classList.add('jp-mod-warn');
    this._delete.title = trans.__('Delete this run, its logs and its files');
    this._dag = new DagView(trans);
    this._dag.stepSelected.connect((_, step) => void this.showStep(step));
    this._stepBar = element('div', 'jp-kfjupyter-step-actions');
    this._stepBar.hidden = true;
    this._stepLabel = element('span', 'jp-kfjupyter-step-actions-label');
    this._rerunFrom = this._stepAction(
      'jp-kfjupyter-rerun-from',
      trans.__('Re-run from here'),
      CommandIDs.rerunFromStep
    );
    this._rerunFrom.title = trans.__(
      'Run this step and every step below it again; the steps above are taken from this run'
    );
    this._loadInputs = this._stepAction(
      'jp-kfjupyter-load-inputs',
      trans.__('Load inputs into kernel'),
      CommandIDs.loadStepInputs
    );
    this._loadInputs.title = trans.__(
      "Define this step's recorded inputs and parameters in the notebook's kernel (%kf load)"
    );
    this._stepBar.append(this._stepLabel, this._rerunFrom, this._loadInputs);
    this._metrics = new MetricsChart(trans);
    this._artifacts = new ArtifactsView(runId, undefined, undefined, trans);
    this._error = element('div', 'jp-kfjupyter-error');
    this._summary = element('div', 'jp-kfjupyter-run-detail-summary');
    this._steps = element('tbody', '');
    const table = element('table', 'jp-kfjupyter-steps');
    const head = element('thead', '');
    const headRow = element('tr', '');
    const columns = [
      trans.__('Step'),
      trans.__('Status'),
      trans.__('Cached'),
      trans.__('Duration'),
      trans.__('Error')
    ];
    for (const label of columns) {
      headRow.append(element('th', '', label));
    }
    head.append(headRow);
    table.append(head, this._steps);
    this._logView = new StepLogView(runId, _source, trans);
    this._logView.goToCell = this._goToCell;
    this.node.append(
      this._header,
      this._error,
      this._summary,
      element('h3', 'jp-kfjupyter-section-header', trans.__('Graph')),
      this._dag.node,
      this._stepBar,
      element('h3', 'jp-kfjupyter-section-header', trans.__('Steps')),
      table,
      this._logView.node,
      element('h3', 'jp-kfjupyter-section-header', trans.__('Metrics')),
      this._metrics.node,
      element('h3', 'jp-kfjupyter-section-header', trans.__('Artifacts')),
      this._artifacts.node
    );
  }

  /** Status of the run as last fetched; null before the first answer. */
  get status(): string | null {
    return this._status;
  }

  /** The run's name with its short id (`train #1a2b3c`); null before the first answer. */
  get runName(): string | null {
    return this._runName;
  }

  /** Kind of the run (`pipeline` or `training`) as last fetched; null before the first answer. */
  get kind(): string | null {
    return this._kind;
  }

  /**
   * The run's notebook (a training job's script) relative to the server root, as last fetched;
   * null when the server cannot serve it (outside the root, gone) or before the first answer.
   */
  get notebookPath(): string | null {
    return this._notebookPath;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._dag.dispose();
    this._metrics.dispose();
    this._artifacts.dispose();
    this._logView.dispose();
    super.dispose();
  }

  /** The step whose log is shown, if any. */
  get step(): string | null {
    return this._logView.step;
  }

  /** The log viewer of the panel. */
  get logView(): StepLogView {
    return this._logView;
  }

  /** Show the log of `step`, from its beginning (live while the run is active). */
  async showStep(step: string): Promise<void> {
    for (const row of Array.from(
      this._steps.querySelectorAll<HTMLElement>('tr.jp-kfjupyter-step')
    )) {
      row.classList.toggle('jp-mod-selected', row.dataset.step === step);
    }
    this._dag.select(step);
    this._selected = step;
    this._updateStepBar();
    await this._logView.showStep(step, this._status === null || ACTIVE.has(this._status));
  }

  protected async tick(): Promise<void> {
    let detail: IRunDetail;
    let metrics: IMetricHistory;
    let artifacts: IArtifactList;
    try {
      detail = await this._source.getRun(this.runId);
      // Asked after the run: a run that has ended has recorded all its metrics and files.
      [metrics, artifacts] = await Promise.all([
        this._source.getMetrics(this.runId),
        this._source.getArtifacts(this.runId)
      ]);
    } catch (error) {
      this._error.textContent = error instanceof Error ? error.message : String(error);
      throw error; // the poll backs off
    }
    this._error.textContent = '';
    this._render(detail);
    this._metrics.render(metrics);
    this._artifacts.render(artifacts.artifacts);
    const active = ACTIVE.has(detail.run.status);
    await this._logView.catchUp(active);
    if (!active) {
      void this.poll.stop();
    }
  }

  /** Opens the run's notebook at a cell (0-based); null when the panel has no commands. */
  private get _goToCell(): GoToCell | null {
    const commands = this._commands;
    return commands === null
      ? null
      : cell => void commands.execute(OPEN_RUN_NOTEBOOK, { runId: this.runId, cell });
  }

  /** A step's error, with the cell it names as a link to it. */
  private _errorCell(error: string | null): HTMLElement {
    const cell = element('td', 'jp-kfjupyter-step-error');
    cell.append(...errorNodes(error ?? '', this._goToCell, this._trans));
    return cell;
  }

  private _action(className: string, label: string, command: string): HTMLButtonElement {
    const button = element('button', `jp-Button jp-mod-styled ${className}`, label);
    button.hidden = true;
    button.addEventListener('click', () => {
      void this._commands?.execute(command, { runId: this.runId });
    });
    return button;
  }

  private _stepAction(className: string, label: string, command: string): HTMLButtonElement {
    const button = element('button', `jp-Button jp-mod-styled ${className}`, label);
    button.addEventListener('click', () => {
      const step = this._selected;
      if (step !== null) {
        const path = this._notebookPath ?? '';
        void this._commands?.execute(command, { runId: this.runId, step, path });
      }
    });
    return button;
  }

  /**
   * The selected step's actions: a local pipeline run that has ended can be re-run from a step,
   * and any step of a pipeline run can have its inputs loaded into a kernel (a Kubeflow Pipelines
   * run's from its pipeline root, where this machine can read it).
   */
  private _updateStepBar(): void {
    const step = this._selected;
    const pipeline = this._kind === 'pipeline';
    this._stepBar.hidden = this._commands === null || step === null || !pipeline;
    this._rerunFrom.hidden = this._backend !== 'local';
    if (step === null) {
      return;
    }
    const trans = this._trans;
    this._stepLabel.textContent = trans.__('Step %1:', step);
    const ended = this._status !== null && !ACTIVE.has(this._status);
    this._rerunFrom.disabled = !ended;
    this._rerunFrom.title = ended
      ? trans.__(
          'Run %1 and every step below it again; the steps above are taken from this run',
          step
        )
      : trans.__('The run is still going: wait for it to end');
    this._loadInputs.disabled = false;
  }

  private _render(detail: IRunDetail): void {
    const { run } = detail;
    const trans = this._trans;
    this._runName = `${run.name} #${shortRunId(run.id)}`;
    this.title.label = trans.__('Run %1', this._runName);
    this.title.caption = trans.__(
      '%1 (%2, started %3): %4',
      run.name,
      run.id,
      formatClock(run.created_at),
      run.status
    );
    this.node.dataset.status = run.status;
    const changed = this._status !== run.status || this._notebookPath !== detail.notebook_path;
    this._status = run.status;
    this._kind = run.kind;
    this._backend = run.backend;
    this._notebookPath = detail.notebook_path;
    this._updateStepBar();
    const name = element('h2', 'jp-kfjupyter-run-detail-name', run.name);
    name.title = run.name;
    const active = ACTIVE.has(run.status);
    this._open.hidden = this._commands === null || detail.notebook_path === null;
    this._open.textContent =
      run.kind === 'training' ? trans.__('Open script') : trans.__('Open notebook');
    this._open.title = trans.__('Open %1 in JupyterLab', detail.notebook_path ?? '');
    this._cancel.hidden = this._commands === null || !active;
    this._rerun.hidden = this._commands === null || active;
    this._delete.hidden = this._commands === null || active;
    const actions = element('span', 'jp-kfjupyter-run-actions');
    actions.append(this._open, this._cancel, this._rerun, this._delete);
    this._header.replaceChildren(
      name,
      kindBadge(run.kind, this._trans),
      statusBadge(run.status, this._trans),
      actions
    );
    if (changed && this._commands !== null) {
      const commands = [
        OPEN_RUN_NOTEBOOK,
        CommandIDs.cancelRun,
        CommandIDs.rerunRun,
        CommandIDs.deleteRun
      ];
      for (const command of commands) {
        this._commands.notifyCommandChanged(command);
      }
    }
    const now = Date.now();
    const facts: [string, string | HTMLElement][] = [
      [trans.__('Run id'), run.id],
      ...(run.kind === 'training'
        ? trainingFacts(detail.parameters, this._trans)
        : [[trans.__('Notebook'), run.notebook ?? '—'] as [string, string]]),
      [trans.__('Backend'), run.backend],
      [
        trans.__('Started'),
        `${formatAgo(run.created_at, now)} (${formatClock(run.created_at, now)})`
      ],
      [
        trans.__('Duration'),
        formatDuration(elapsed(run.started_at, run.finished_at, run.duration_s, now))
      ]
    ];
    const params = Object.entries(detail.parameters);
    if (params.length && run.kind !== 'training') {
      const text = params.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ');
      facts.push([trans.__('Parameters'), text]);
    }
    const metrics = Object.entries(detail.metrics);
    if (metrics.length) {
      const text = metrics.map(([k, v]) => `${k}=${formatNumber(v)}`).join(', ');
      facts.push([trans.__('Metrics'), text]);
    }
    if (detail.external_id) {
      const label = run.backend === 'kfp' ? trans.__('KFP run') : trans.__('External id');
      facts.push([label, externalLink(detail, trans)]);
    }
    if (run.error) {
      facts.push([trans.__('Error'), run.error]);
    }
    const list = element('dl', 'jp-kfjupyter-facts');
    for (const [label, value] of facts) {
      const dd = element('dd', '');
      dd.append(value);
      list.append(element('dt', '', label), dd);
    }
    this._summary.replaceChildren(list);
    this._steps.replaceChildren(...detail.steps.map(step => this._stepRow(step, now)));
    this._dag.render(detail.steps, this.step);
  }

  private _stepRow(step: IStepSummary, now: number): HTMLElement {
    const row = element('tr', 'jp-kfjupyter-step');
    row.dataset.step = step.name;
    row.dataset.status = step.status;
    row.classList.toggle('jp-mod-selected', step.name === this.step);
    row.tabIndex = 0;
    const status = element('td', '');
    status.append(statusBadge(step.status, this._trans));
    const duration = elapsed(step.started_at, step.finished_at, step.duration_s, now);
    row.append(
      element('td', 'jp-kfjupyter-step-name', step.name),
      status,
      element('td', '', step.cached ? this._trans.__('yes') : this._trans.__('no')),
      element('td', '', formatDuration(duration)),
      this._errorCell(step.error)
    );
    const open = (): void => void this.showStep(step.name);
    row.addEventListener('click', open);
    row.addEventListener('keydown', event => {
      if (event.key === 'Enter') {
        open();
      }
    });
    return row;
  }

  private readonly _header: HTMLElement;
  private readonly _open: HTMLButtonElement;
  private readonly _cancel: HTMLButtonElement;
  private readonly _rerun: HTMLButtonElement;
  private readonly _delete: HTMLButtonElement;
  private readonly _dag: DagView;
  private readonly _metrics: MetricsChart;
  private readonly _artifacts: ArtifactsView;
  private _status: string | null = null;
  private _runName: string | null = null;
  private _kind: string | null = null;
  private _backend: string | null = null;
  /** The step picked in the graph or the table (its actions are shown). */
  private _selected: string | null = null;
  private readonly _stepBar: HTMLElement;
  private readonly _stepLabel: HTMLElement;
  private readonly _rerunFrom: HTMLButtonElement;
  private readonly _loadInputs: HTMLButtonElement;
  private _notebookPath: string | null = null;
  private readonly _error: HTMLElement;
  private readonly _summary: HTMLElement;
  private readonly _steps: HTMLTableSectionElement;
  private readonly _logView: StepLogView;
}

/** The external run id, as a link to the engine's UI when the server gave an http(s) one. */
function externalLink(detail: IRunDetail, trans: TranslationBundle): string | HTMLElement {
  const id = detail.external_id ?? '';
  const url = detail.external_url ?? '';
  if (!/^https?:\/\//.test(url)) {
    return id;
  }
  const link = element('a', 'jp-kfjupyter-external-link', `${id} ↗`);
  link.href = url;
  link.target = '_blank';
  link.rel = 'noopener noreferrer';
  link.title = trans.__('Open this run in Kubeflow Pipelines: %1', url);
  return link;
}
