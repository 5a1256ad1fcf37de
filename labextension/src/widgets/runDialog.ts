/**
 * The body of the "Run as Pipeline" dialog: where to run it (this server, or Kubeflow Pipelines
 * when the server is configured with one), one input per pipeline parameter, prefilled with its
 * default, and a "run every step" switch (local runs). Only values that differ from the defaults
 * are sent. For a local run it shows the plan (which steps run, which come from the cache, and
 * why), asked again whenever a value or the switch changes. The backend and the switch start as
 * the user's preferences say (`IRunFormDefaults`).
 */
import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { IGraphParameter, IPlanResult } from '../generated/restTypes';
import { PlanView } from './planView';

/** Where a notebook pipeline can run. */
export type PipelineBackend = 'local' | 'kfp';

function backendLabels(trans: TranslationBundle): { [backend in PipelineBackend]: string } {
  return { local: trans.__('This server (local)'), kfp: trans.__('Kubeflow Pipelines') };
}

/** How the form starts, from the user's preferences. */
export interface IRunFormDefaults {
  /** The backend preselected when it is offered (else the first one offered). */
  backend?: PipelineBackend;
  /** Whether "Run every step" starts checked. */
  runEveryStep?: boolean;
}

/** What the dialog answers: backend, parameter overrides (text, as the CLI takes them), ... */
export interface IRunChoice {
  backend: PipelineBackend;
  parameters: { [name: string]: string };
  /** Run every step again (local runs). */
  noCache: boolean;
  /** KFP experiment; '' for the server's default. */
  experiment: string;
}

/**
 * The text form of a parameter value: strings as they are, anything else as JSON; a whole float
 * keeps its point (`2.0`, as the notebook wrote it: JSON reads it back as the number 2).
 */
export function parameterText(value: unknown, type: string): string {
  if (type === 'str' && typeof value === 'string') {
    return value;
  }
  if (type === 'float' && typeof value === 'number' && Number.isInteger(value)) {
    return value.toFixed(1);
  }
  return JSON.stringify(value);
}

/** Asks the server for the plan of a local run as the dialog stands. */
export type Planner = (choice: IRunChoice) => Promise<IPlanResult>;

/** How long the form waits after a change before it asks for the plan again. */
const PLAN_DELAY_MS = 250;

export class RunForm extends Widget {
  /**
   * @param parameters the notebook's parameters with their defaults
   * @param warning a line shown above the form, e.g. that lint found errors
   * @param backends where it can run; a choice is shown when there is more than one
   * @param planner asks for the plan of a local run; without it no plan is shown
   * @param defaults how the backend choice and the "Run every step" switch start
   */
  constructor(
    private readonly _parameters: readonly IGraphParameter[],
    warning = '',
    backends: readonly PipelineBackend[] = ['local'],
    private readonly _planner: Planner | null = null,
    defaults: IRunFormDefaults = {},
    private readonly _trans: TranslationBundle = nullTranslator.load('kfjupyter')
  ) {
    super();
    const trans = _trans;
    this._plan = new PlanView(trans);
    this.addClass('jp-kfjupyter-run-form');
    if (warning) {
      const line = document.createElement('div');
      line.className = 'jp-kfjupyter-form-problem';
      line.textContent = warning;
      this.node.append(line);
    }
    this._backend = document.createElement('select');
    this._backend.name = 'backend';
    this._backend.className = 'jp-mod-styled';
    const labels = backendLabels(trans);
    for (const backend of backends) {
      const option = document.createElement('option');
      option.value = backend;
      option.textContent = labels[backend];
      this._backend.append(option);
    }
    if (defaults.backend !== undefined && backends.includes(defaults.backend)) {
      this._backend.value = defaults.backend;
    }
    this._experiment = document.createElement('input');
    this._experiment.type = 'text';
    this._experiment.name = 'experiment';
    this._experiment.className = 'jp-mod-styled';
    this._experiment.placeholder = trans.__('Default');
    if (backends.length > 1) {
      this.node.append(this._row(trans.__('Run on'), this._backend));
      this._experimentRow = this._row(trans.__('Experiment'), this._experiment);
      this.node.append(this._experimentRow);
      this._backend.addEventListener('change', () => this._backendChanged());
    }
    if (_parameters.length === 0) {
      const none = document.createElement('div');
      none.className = 'jp-kfjupyter-form-note';
      none.textContent = trans.__('This notebook has no pipeline parameters.');
      this.node.append(none);
    }
    for (const parameter of _parameters) {
      const row = document.createElement('label');
      row.className = 'jp-kfjupyter-form-row';
      const caption = document.createElement('span');
      caption.textContent = `${parameter.name} (${parameter.type})`;
      const input = document.createElement('input');
      input.type = 'text';
      input.name = parameter.name;
      input.className = 'jp-mod-styled';
      input.value = parameterText(parameter.default, parameter.type);
      input.dataset.parameter = parameter.name;
      row.append(caption, input);
      this.node.append(row);
      this._inputs.set(parameter.name, input);
    }
    this._noCacheRow = document.createElement('label');
    this._noCacheRow.className = 'jp-kfjupyter-form-check';
    this._noCache = document.createElement('input');
    this._noCache.type = 'checkbox';
    this._noCache.name = 'no_cache';
    this._noCache.checked = defaults.runEveryStep ?? false;
    this._noCacheRow.append(
      this._noCache,
      document.createTextNode(' ' + trans.__('Run every step (ignore cached outputs)'))
    );
    this.node.append(this._noCacheRow);
    if (_planner !== null) {
      const header = document.createElement('div');
      header.className = 'jp-kfjupyter-form-section';
      header.textContent = trans.__('Plan');
      this.node.append(header, this._plan.node);
      this.node.addEventListener('input', () => this._planSoon());
      this.node.addEventListener('change', () => this._planSoon());
    }
    this._backendChanged();
  }

  /** The plan shown (for tests and the e2e checks). */
  get plan(): PlanView {
    return this._plan;
  }

  dispose(): void {
    window.clearTimeout(this._timer);
    this._plan.dispose();
    super.dispose();
  }

  /** Ask for the plan after a short pause; only the answer to the latest question is shown. */
  private _planSoon(): void {
    window.clearTimeout(this._timer);
    this._timer = window.setTimeout(() => void this._refreshPlan(), PLAN_DELAY_MS);
  }

  private async _refreshPlan(): Promise<void> {
    if (this._planner === null || this.isDisposed) {
      return;
    }
    const choice = this.getValue();
    if (choice.backend !== 'local') {
      this._plan.showNote(
        this._trans.__("On Kubeflow Pipelines, KFP's own cache decides which steps run.")
      );
      return;
    }
    const asked = ++this._asked;
    this._plan.showNote(this._trans.__('Working out the plan…'));
    try {
      const plan = await this._planner(choice);
      if (asked === this._asked && !this.isDisposed) {
        this._plan.render(plan);
      }
    } catch (error) {
      if (asked === this._asked && !this.isDisposed) {
        this._plan.showProblem(error instanceof Error ? error.message : String(error));
      }
    }
  }

  /** The overrides (values changed from the defaults) and the no-cache choice. */
  getValue(): IRunChoice {
    const parameters: { [name: string]: string } = {};
    for (const parameter of this._parameters) {
      const value = this._inputs.get(parameter.name)?.value ?? '';
      if (value !== parameterText(parameter.default, parameter.type)) {
        parameters[parameter.name] = value;
      }
    }
    const backend = (this._backend.value || 'local') as PipelineBackend;
    const experiment = this._experiment.value.trim();
    return { backend, parameters, noCache: this._noCache.checked, experiment };
  }

  private _row(label: string, field: HTMLElement): HTMLElement {
    const row = document.createElement('label');
    row.className = 'jp-kfjupyter-form-row';
    const caption = document.createElement('span');
    caption.textContent = label;
    row.append(caption, field);
    return row;
  }

  /** Show the fields that apply to the chosen backend. */
  private _backendChanged(): void {
    const kfp = this._backend.value === 'kfp';
    this._noCacheRow.hidden = kfp;
    if (this._experimentRow) {
      this._experimentRow.hidden = !kfp;
    }
    this._planSoon();
  }

  private readonly _inputs = new Map<string, HTMLInputElement>();
  private readonly _noCache: HTMLInputElement;
  private readonly _noCacheRow: HTMLElement;
  private readonly _backend: HTMLSelectElement;
  private readonly _experiment: HTMLInputElement;
  private _experimentRow: HTMLElement | null = null;
  private readonly _plan: PlanView;
  private _timer = 0;
  private _asked = 0;
}
