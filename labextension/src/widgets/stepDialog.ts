/**
 * The body of the "Mark cell as step" dialog: step name, upstream steps, resources, image,
 * retries, timeout and cache. The name is checked as it is typed, with the engine's rule.
 */
import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { IStepSettings, stepNameProblem, stepSettingsProblems } from '../models/stepMetadata';

function numberOrNull(input: HTMLInputElement): number | null {
  const raw = input.value.trim();
  return raw === '' ? null : Number(raw);
}

/** The step settings form; `getValue()` answers what it holds (checked by the caller). */
export class StepForm extends Widget {
  /**
   * @param settings the values to start with
   * @param steps names of the steps above this cell, offered for "after"
   * @param problem a message to show at once (why the last attempt was not saved)
   */
  constructor(
    settings: IStepSettings,
    steps: readonly string[],
    problem = '',
    trans: TranslationBundle = nullTranslator.load('kfjupyter')
  ) {
    super();
    this._trans = trans;
    this.addClass('jp-kfjupyter-step-form');
    this._step = this._input('step', trans.__('Step name'), settings.step, 'text');
    this._step.placeholder = trans.__('e.g. train');
    this._step.required = true;
    this._after = document.createElement('select');
    this._after.multiple = true;
    this._after.name = 'after';
    const choices = [...new Set([...steps, ...settings.after])].filter(s => s !== settings.step);
    for (const name of choices) {
      const option = new Option(name, name, false, settings.after.includes(name));
      this._after.append(option);
    }
    this._after.size = Math.min(Math.max(choices.length, 2), 5);
    this._after.disabled = choices.length === 0;
    this._row(trans.__('After (runs when these finish)'), this._after);
    const afterNote = document.createElement('div');
    afterNote.className = 'jp-kfjupyter-form-note jp-kfjupyter-after-note';
    afterNote.textContent = choices.length
      ? trans.__(
          'Steps above this cell. Ctrl-click (⌘-click on a Mac) to pick several or to clear one.'
        )
      : trans.__('No step starts above this cell, so there is nothing to run after.');
    this.node.append(afterNote);
    this._gpu = this._input(
      'gpu',
      trans.__('GPUs'),
      settings.gpu === null ? '' : String(settings.gpu),
      'number'
    );
    this._gpu.min = '0';
    this._cpu = this._input('cpu', trans.__('CPU'), settings.cpu, 'text');
    this._cpu.placeholder = trans.__('e.g. 2 or 500m');
    this._memory = this._input('memory', trans.__('Memory'), settings.memory, 'text');
    this._memory.placeholder = trans.__('e.g. 4Gi');
    this._image = this._input('image', trans.__('Image (cluster runs)'), settings.image, 'text');
    this._image.placeholder = trans.__('e.g. python:3.12');
    const retries = settings.retries === null ? '' : String(settings.retries);
    this._retries = this._input('retries', trans.__('Retries'), retries, 'number');
    this._retries.min = '0';
    const timeout = settings.timeout === null ? '' : String(settings.timeout);
    this._timeout = this._input('timeout', trans.__('Timeout (seconds)'), timeout, 'number');
    this._timeout.min = '1';
    this._cache = document.createElement('select');
    this._cache.name = 'cache';
    for (const [value, label] of [
      ['default', trans.__('Default')],
      ['on', trans.__('Reuse cached outputs')],
      ['off', trans.__('Always run')]
    ]) {
      this._cache.append(new Option(label, value));
    }
    this._cache.value = settings.cache === null ? 'default' : settings.cache ? 'on' : 'off';
    this._row(trans.__('Cache'), this._cache);
    this._problem = document.createElement('div');
    this._problem.className = 'jp-kfjupyter-form-problem';
    this._problem.setAttribute('role', 'alert');
    this._problem.textContent = problem;
    this.node.append(this._problem);
    this._step.addEventListener('input', () => {
      this._problem.textContent = stepNameProblem(this._step.value, trans);
    });
  }

  /** The values in the form. */
  getValue(): IStepSettings {
    return {
      step: this._step.value.trim(),
      after: Array.from(this._after.selectedOptions, option => option.value),
      gpu: numberOrNull(this._gpu),
      cpu: this._cpu.value,
      memory: this._memory.value,
      image: this._image.value,
      retries: numberOrNull(this._retries),
      timeout: numberOrNull(this._timeout),
      cache: this._cache.value === 'default' ? null : this._cache.value === 'on'
    };
  }

  /** Problems of the current values, '' when they can be saved. */
  get problems(): string {
    return stepSettingsProblems(this.getValue(), this._trans);
  }

  private _input(name: string, label: string, value: string, type: string): HTMLInputElement {
    const input = document.createElement('input');
    input.type = type;
    input.name = name;
    input.value = value;
    input.className = 'jp-mod-styled';
    this._row(label, input);
    return input;
  }

  private _row(label: string, control: HTMLElement): void {
    const row = document.createElement('label');
    row.className = 'jp-kfjupyter-form-row';
    const caption = document.createElement('span');
    caption.textContent = label;
    row.append(caption, control);
    this.node.append(row);
  }

  private readonly _step: HTMLInputElement;
  private readonly _after: HTMLSelectElement;
  private readonly _gpu: HTMLInputElement;
  private readonly _cpu: HTMLInputElement;
  private readonly _memory: HTMLInputElement;
  private readonly _image: HTMLInputElement;
  private readonly _retries: HTMLInputElement;
  private readonly _timeout: HTMLInputElement;
  private readonly _cache: HTMLSelectElement;
  private readonly _problem: HTMLElement;
  private readonly _trans: TranslationBundle;
}
