/**
 * The body of the "Train with kfjupyter" dialog: the script and its arguments, how many nodes,
 * processes and GPUs, the backend and an optional job name. `getValue` answers the request body
 * of `POST training`; `trainingProblems` says what is wrong with one before it is sent.
 */
import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { element } from '../format';
import { ITrainingRequest } from '../generated/restTypes';
import { TRAINING_BACKENDS, TrainingBackend } from '../launchTypes';

/** A Kubernetes object name (RFC 1035 label), as the server requires for job names. */
const NAME_PATTERN = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

function backendLabels(trans: TranslationBundle): { [backend in TrainingBackend]: string } {
  return {
    local: trans.__('Local processes (this server)'),
    kubernetes: trans.__('Kubernetes (TrainJob / PyTorchJob)'),
    auto: trans.__('Auto (Kubernetes when available)')
  };
}

const NULL_BUNDLE = nullTranslator.load('kfjupyter');

/**
 * Split a command line into arguments like a POSIX shell would for plain words and quotes:
 * whitespace separates, '…' and "…" group, a backslash escapes the next character. Throws on an
 * unbalanced quote, with a message in `trans`.
 */
export function splitArgs(line: string, trans: TranslationBundle = NULL_BUNDLE): string[] {
  const args: string[] = [];
  let current = '';
  let started = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (quote !== null) {
      if (char === quote) {
        quote = null;
      } else if (char === '\\' && quote === '"' && i + 1 < line.length) {
        current += line[++i];
      } else {
        current += char;
      }
    } else if (char === '"' || char === "'") {
      quote = char;
      started = true;
    } else if (char === '\\' && i + 1 < line.length) {
      current += line[++i];
      started = true;
    } else if (/\s/.test(char)) {
      if (started) {
        args.push(current);
      }
      current = '';
      started = false;
    } else {
      current += char;
      started = true;
    }
  }
  if (quote !== null) {
    throw new Error(trans.__('unbalanced %1 quote in the arguments', quote));
  }
  if (started) {
    args.push(current);
  }
  return args;
}

/** What is wrong with `request` ('' when nothing); the server checks again. */
export function trainingProblems(
  request: Required<ITrainingRequest>,
  trans: TranslationBundle = NULL_BUNDLE
): string {
  if (!request.script.endsWith('.py')) {
    return trans.__('The script must be a .py file.');
  }
  const counts: [string, number | null, number][] = [
    [trans.__('Nodes'), request.num_nodes, 1],
    [trans.__('Processes per node'), request.procs_per_node, 1],
    [trans.__('GPUs per node'), request.gpus_per_node, 0]
  ];
  for (const [label, value, least] of counts) {
    if (value === null || !Number.isInteger(value) || value < least) {
      return trans.__('%1 must be a whole number of at least %2.', label, least);
    }
  }
  if (request.name !== null && !NAME_PATTERN.test(request.name)) {
    return trans.__('The name must be lowercase letters, digits and "-", starting with a letter.');
  }
  return '';
}

/** What the form holds; `args` is the text as typed. */
export interface ITrainValues {
  script: string;
  args: string;
  numNodes: number;
  procsPerNode: number;
  gpusPerNode: number;
  backend: TrainingBackend;
  name: string;
}

export class TrainForm extends Widget {
  /** `problem` is shown above the fields (the previous attempt's mistake). */
  constructor(values: Partial<ITrainValues>, problem = '', trans: TranslationBundle = NULL_BUNDLE) {
    super();
    this.addClass('jp-kfjupyter-train-form');
    if (problem) {
      this.node.append(element('div', 'jp-kfjupyter-form-problem', problem));
    }
    this._script = this._input('script', trans.__('Script'), 'text', values.script ?? '');
    this._script.placeholder = 'path/to/train.py';
    this._args = this._input('args', trans.__('Arguments'), 'text', values.args ?? '');
    this._args.placeholder = '--epochs 3 --lr 0.01';
    this._nodes = this._input(
      'num_nodes',
      trans.__('Nodes'),
      'number',
      String(values.numNodes ?? 1)
    );
    this._nodes.min = '1';
    this._procs = this._input(
      'procs_per_node',
      trans.__('Processes per node'),
      'number',
      String(values.procsPerNode ?? 1)
    );
    this._procs.min = '1';
    this._gpus = this._input(
      'gpus_per_node',
      trans.__('GPUs per node'),
      'number',
      String(values.gpusPerNode ?? 0)
    );
    this._gpus.min = '0';
    this._backend = element('select', 'jp-mod-styled');
    this._backend.name = 'backend';
    const labels = backendLabels(trans);
    for (const backend of TRAINING_BACKENDS) {
      const option = element('option', '', labels[backend]);
      option.value = backend;
      this._backend.append(option);
    }
    this._backend.value = values.backend ?? 'local';
    this._row(trans.__('Backend'), this._backend);
    this._name = this._input('name', trans.__('Name (optional)'), 'text', values.name ?? '');
    this._name.placeholder = trans.__('derived from the script');
  }

  /** The values as typed. */
  getValue(): ITrainValues {
    return {
      script: this._script.value.trim(),
      args: this._args.value,
      numNodes: Number(this._nodes.value),
      procsPerNode: Number(this._procs.value),
      gpusPerNode: Number(this._gpus.value),
      backend: this._backend.value as TrainingBackend,
      name: this._name.value.trim()
    };
  }

  private _input(name: string, label: string, type: string, value: string): HTMLInputElement {
    const input = element('input', 'jp-mod-styled');
    input.type = type;
    input.name = name;
    input.value = value;
    this._row(label, input);
    return input;
  }

  private _row(label: string, field: HTMLElement): void {
    const row = element('label', 'jp-kfjupyter-form-row');
    row.append(element('span', '', label), field);
    this.node.append(row);
  }

  private readonly _script: HTMLInputElement;
  private readonly _args: HTMLInputElement;
  private readonly _nodes: HTMLInputElement;
  private readonly _procs: HTMLInputElement;
  private readonly _gpus: HTMLInputElement;
  private readonly _backend: HTMLSelectElement;
  private readonly _name: HTMLInputElement;
}

/** The request body for `values`; throws when the arguments do not parse. */
export function trainingRequest(
  values: ITrainValues,
  trans: TranslationBundle = NULL_BUNDLE
): Required<ITrainingRequest> {
  return {
    script: values.script,
    args: splitArgs(values.args, trans),
    num_nodes: values.numNodes,
    procs_per_node: values.procsPerNode,
    gpus_per_node: values.gpusPerNode,
    cpu: null,
    memory: null,
    image: null,
    env: {},
    backend: values.backend,
    name: values.name === '' ? null : values.name
  };
}
