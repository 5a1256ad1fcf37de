/**
 * The body of the "Run as pipeline" dialog: one input per pipeline parameter, prefilled with its
 * default, and a "run every step" switch. Only values that differ from the defaults are sent.
 */
import { Widget } from '@lumino/widgets';

import { IGraphParameter } from '../lintTypes';

/** What the dialog answers: the parameter overrides (text, as the CLI takes them) and no-cache. */
export interface IRunChoice {
  parameters: { [name: string]: string };
  noCache: boolean;
}

/** The text form of a parameter value: strings as they are, anything else as JSON. */
export function parameterText(value: unknown, type: string): string {
  return type === 'str' && typeof value === 'string' ? value : JSON.stringify(value);
}

export class RunForm extends Widget {
  /**
   * @param parameters the notebook's parameters with their defaults
   * @param warning a line shown above the form, e.g. that lint found errors
   */
  constructor(
    private readonly _parameters: readonly IGraphParameter[],
    warning = ''
  ) {
    super();
    this.addClass('jp-kfjupyter-run-form');
    if (warning) {
      const line = document.createElement('div');
      line.className = 'jp-kfjupyter-form-problem';
      line.textContent = warning;
      this.node.append(line);
    }
    if (_parameters.length === 0) {
      const none = document.createElement('div');
      none.className = 'jp-kfjupyter-form-note';
      none.textContent = 'This notebook has no pipeline parameters.';
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
    const row = document.createElement('label');
    row.className = 'jp-kfjupyter-form-check';
    this._noCache = document.createElement('input');
    this._noCache.type = 'checkbox';
    this._noCache.name = 'no_cache';
    row.append(this._noCache, document.createTextNode(' Run every step (ignore cached outputs)'));
    this.node.append(row);
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
    return { parameters, noCache: this._noCache.checked };
  }

  private readonly _inputs = new Map<string, HTMLInputElement>();
  private readonly _noCache: HTMLInputElement;
}
