/**
 * The `metadata.kfjupyter` object of a step cell and the Kale tags that also mark cells.
 *
 * Pure functions: read a cell's current marking into form values, validate them like the engine
 * (`kfjupyter/notebook/cell_metadata.py`, `marks.py`), and write them back as metadata or tags.
 * The problems they find are told in the `kfjupyter` translation bundle given (English without).
 */
import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';

import { JsonObject, isObject } from '../validate';

const NULL_BUNDLE = nullTranslator.load('kfjupyter');

/** The metadata key the engine reads (`metadata.kfjupyter`). */
export const METADATA_KEY = 'kfjupyter';

/** The step-name rule of the engine. */
export const STEP_NAME_RE = /^[a-z_][a-z0-9_]*$/;

/** Kale cell kinds that are set as tags, in menu order. */
export const CELL_KINDS = [
  'imports',
  'functions',
  'pipeline-parameters',
  'pipeline-metrics',
  'skip'
] as const;
export type CellKind = (typeof CELL_KINDS)[number];

const MARK_TAG_PREFIXES = ['step', 'block', 'prev', 'limit', 'image', 'cache'];

/** Values of the "Mark cell as step" form. */
export interface IStepSettings {
  step: string;
  after: string[];
  gpu: number | null;
  cpu: string;
  memory: string;
  image: string;
  retries: number | null;
  timeout: number | null;
  cache: boolean | null;
}

/** True for a tag that marks a cell in Kale's language (role or step setting). */
export function isMarkTag(tag: string): boolean {
  const [prefix, ...rest] = tag.trim().split(':');
  return (
    (CELL_KINDS as readonly string[]).includes(tag.trim()) ||
    (rest.length > 0 && MARK_TAG_PREFIXES.includes(prefix))
  );
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

function count(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** The form values a cell starts with, from its `metadata.kfjupyter` or else its Kale tags. */
export function readStepSettings(metadata: unknown, tags: readonly string[]): IStepSettings {
  const meta = isObject(metadata) ? metadata : {};
  const resources = isObject(meta.resources) ? meta.resources : {};
  const after = Array.isArray(meta.after) ? meta.after.filter(a => typeof a === 'string') : [];
  const settings: IStepSettings = {
    step: text(meta.step),
    after,
    gpu: count(resources.gpu),
    cpu: text(resources.cpu),
    memory: text(resources.memory),
    image: text(meta.image),
    retries: count(meta.retries),
    timeout: count(meta.timeout),
    cache: typeof meta.cache === 'boolean' ? meta.cache : null
  };
  for (const tag of tags.map(t => t.trim())) {
    const [prefix, ...rest] = tag.split(':');
    const value = rest.join(':').trim();
    if ((prefix === 'step' || prefix === 'block') && value && !settings.step) {
      settings.step = value;
    } else if (prefix === 'prev' && value && !settings.after.includes(value)) {
      settings.after.push(value);
    } else if (prefix === 'image' && value && !settings.image) {
      settings.image = value;
    }
  }
  return settings;
}

/** A valid step name close to `name` (the engine's `suggest_step_name`). */
export function suggestStepName(name: string): string {
  let candidate =
    name
      .trim()
      .toLowerCase()
      .replace(/[^a-z0-9_]+/g, '_')
      .replace(/^_+|_+$/g, '') || 'step';
  if (/^[0-9]/.test(candidate)) {
    candidate = `step_${candidate}`;
  }
  return candidate;
}

/** Why `name` is not a valid step name, or '' when it is. */
export function stepNameProblem(name: string, trans: TranslationBundle = NULL_BUNDLE): string {
  if (name.trim() === '') {
    return trans.__('Give the step a name, e.g. "train".');
  }
  if (!STEP_NAME_RE.test(name)) {
    return trans.__(
      '"%1" is not a valid step name: use lower-case letters, digits and "_", not starting with a digit (try "%2").',
      name,
      suggestStepName(name)
    );
  }
  return '';
}

/** Every problem of the form values, one per line; '' when they can be saved. */
export function stepSettingsProblems(
  settings: IStepSettings,
  trans: TranslationBundle = NULL_BUNDLE
): string {
  const problems = [stepNameProblem(settings.step, trans)];
  if (settings.after.includes(settings.step)) {
    problems.push(trans.__('A step cannot run after itself: remove it from "after".'));
  }
  const whole = (value: number | null, what: string): void => {
    if (value !== null && (!Number.isInteger(value) || value < 0)) {
      problems.push(trans.__('%1 must be a whole number of 0 or more.', what));
    }
  };
  whole(settings.gpu, trans.__('GPU count'));
  whole(settings.retries, trans.__('Retries'));
  if (settings.timeout !== null && !(settings.timeout > 0)) {
    problems.push(trans.__('Timeout must be a number of seconds above 0.'));
  }
  return problems.filter(p => p !== '').join('\n');
}

/** Fields of `metadata.kfjupyter` the step form sets; every other field is kept as it was. */
const FORM_FIELDS = ['step', 'after', 'image', 'retries', 'timeout', 'cache', 'role'];
const FORM_RESOURCES = ['cpu', 'memory', 'gpu'];

/**
 * The `metadata.kfjupyter` object for valid form values; unset fields are left out. Fields the
 * form does not show (`notebook`, `outputs`, `parameters`, `pure`, `depends_on`, a GPU type...)
 * are kept from `existing`, so editing a step never drops what it was told elsewhere.
 */
export function stepMetadata(settings: IStepSettings, existing?: unknown): JsonObject {
  const kept: JsonObject = {};
  const before = isObject(existing) ? existing : {};
  for (const [key, value] of Object.entries(before)) {
    if (!FORM_FIELDS.includes(key) && key !== 'resources' && value !== undefined) {
      kept[key] = value;
    }
  }
  const meta: JsonObject = { step: settings.step, ...kept };
  if (settings.after.length > 0) {
    meta.after = [...settings.after];
  }
  const resources: JsonObject = {};
  const oldResources = isObject(before.resources) ? before.resources : {};
  for (const [key, value] of Object.entries(oldResources)) {
    if (!FORM_RESOURCES.includes(key) && value !== undefined) {
      resources[key] = value;
    }
  }
  if (settings.cpu.trim()) {
    resources.cpu = settings.cpu.trim();
  }
  if (settings.memory.trim()) {
    resources.memory = settings.memory.trim();
  }
  if (settings.gpu !== null && settings.gpu > 0) {
    resources.gpu = settings.gpu;
  }
  if (Object.keys(resources).length > 0) {
    meta.resources = resources;
  }
  if (settings.image.trim()) {
    meta.image = settings.image.trim();
  }
  if (settings.retries !== null) {
    meta.retries = settings.retries;
  }
  if (settings.timeout !== null) {
    meta.timeout = settings.timeout;
  }
  if (settings.cache !== null) {
    meta.cache = settings.cache;
  }
  return meta;
}

/** `tags` without Kale's marking tags, plus `kind` when one is given. */
export function tagsWithKind(tags: readonly string[], kind: CellKind | null): string[] {
  const kept = tags.filter(tag => !isMarkTag(tag));
  return kind === null ? kept : [...kept, kind];
}
