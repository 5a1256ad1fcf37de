/**
 * Runtime checks for the bodies the kfjupyter server returns.
 *
 * The REST client never trusts a response's shape: each body goes through a guard here and a
 * mismatch becomes a clear `ApiError` instead of `undefined` deep inside a widget.
 */

export type JsonObject = { [key: string]: unknown };

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isString(value: unknown): value is string {
  return typeof value === 'string';
}

export function isBoolean(value: unknown): value is boolean {
  return typeof value === 'boolean';
}

export function isArrayOf<T>(value: unknown, guard: (item: unknown) => item is T): value is T[] {
  return Array.isArray(value) && value.every(guard);
}

/** One execution backend the server is configured with. */
export interface IBackend {
  name: string;
  kind: string;
  available: boolean;
  detail: string;
}

/** Body of `GET /kfjupyter/api/health`. */
export interface IHealth {
  version: string;
  user: string;
  backends: IBackend[];
  /** The image compiled steps get by default (server setting or $KFJUPYTER_IMAGE), if any. */
  kfp_image?: string | null;
}

export function isBackend(value: unknown): value is IBackend {
  return (
    isObject(value) &&
    isString(value.name) &&
    isString(value.kind) &&
    isBoolean(value.available) &&
    isString(value.detail)
  );
}

export function isHealth(value: unknown): value is IHealth {
  return (
    isObject(value) &&
    isString(value.version) &&
    isString(value.user) &&
    isArrayOf(value.backends, isBackend) &&
    (value.kfp_image === undefined || value.kfp_image === null || isString(value.kfp_image))
  );
}

export function isNumber(value: unknown): value is number {
  return typeof value === 'number';
}

function isOptional<T>(value: unknown, guard: (item: unknown) => item is T): value is T | null {
  return value === null || guard(value);
}

/** Statuses of a run. */
export type RunStatus =
  'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';

const RUN_STATUSES: readonly string[] = [
  'pending',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'interrupted'
];

export function isRunStatus(value: unknown): value is RunStatus {
  return isString(value) && RUN_STATUSES.includes(value);
}

/** One run as the runs list shows it. */
export interface IRunSummary {
  id: string;
  kind: string;
  name: string;
  notebook: string | null;
  backend: string;
  status: RunStatus;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  duration_s: number | null;
  error: string | null;
}

/** Body of `GET /kfjupyter/api/runs`. */
export interface IRunList {
  runs: IRunSummary[];
  limit: number;
  offset: number;
  /** Whether more runs match after this page. */
  has_more: boolean;
}

/** One step of a run. */
export interface IStepSummary {
  name: string;
  status: string;
  cached: boolean;
  started_at: number | null;
  finished_at: number | null;
  duration_s: number | null;
  error: string | null;
  /** Names of the steps this one waits for: the edges of the run's DAG. */
  upstream: string[];
}

/** Body of `GET /kfjupyter/api/runs/{id}`. */
export interface IRunDetail {
  run: IRunSummary;
  parameters: JsonObject;
  steps: IStepSummary[];
  metrics: { [name: string]: number };
  /** The notebook (or training script) to open, relative to the server root; null when none can be. */
  notebook_path: string | null;
  /** The run's id in the engine it was submitted to (a Kubeflow Pipelines run id). */
  external_id?: string | null;
  /** An http(s) link to the run in that engine's UI. */
  external_url?: string | null;
}

/** Body of `GET /kfjupyter/api/runs/{id}/logs/{step}`. */
export interface ILogText {
  run_id: string;
  step: string;
  text: string;
  next_offset: number;
  exists: boolean;
}

/** Body of `POST /kfjupyter/api/notebooks/run`. */
export interface IRunStarted {
  run_id: string;
  notebook: string;
}

export function isRunSummary(value: unknown): value is IRunSummary {
  return (
    isObject(value) &&
    isString(value.id) &&
    isString(value.kind) &&
    isString(value.name) &&
    isOptional(value.notebook, isString) &&
    isString(value.backend) &&
    isRunStatus(value.status) &&
    isNumber(value.created_at) &&
    isOptional(value.started_at, isNumber) &&
    isOptional(value.finished_at, isNumber) &&
    isOptional(value.duration_s, isNumber) &&
    isOptional(value.error, isString)
  );
}

export function isRunList(value: unknown): value is IRunList {
  return (
    isObject(value) &&
    isArrayOf(value.runs, isRunSummary) &&
    isNumber(value.limit) &&
    isNumber(value.offset) &&
    isBoolean(value.has_more)
  );
}

export function isStepSummary(value: unknown): value is IStepSummary {
  return (
    isObject(value) &&
    isString(value.name) &&
    isString(value.status) &&
    isBoolean(value.cached) &&
    isOptional(value.started_at, isNumber) &&
    isOptional(value.finished_at, isNumber) &&
    isOptional(value.duration_s, isNumber) &&
    isOptional(value.error, isString) &&
    isArrayOf(value.upstream, isString)
  );
}

export function isRunDetail(value: unknown): value is IRunDetail {
  return (
    isObject(value) &&
    isRunSummary(value.run) &&
    isObject(value.parameters) &&
    isArrayOf(value.steps, isStepSummary) &&
    isObject(value.metrics) &&
    Object.values(value.metrics).every(isNumber) &&
    isOptional(value.notebook_path, isString) &&
    (value.external_id === undefined || isOptional(value.external_id, isString)) &&
    (value.external_url === undefined || isOptional(value.external_url, isString))
  );
}

export function isLogText(value: unknown): value is ILogText {
  return (
    isObject(value) &&
    isString(value.run_id) &&
    isString(value.step) &&
    isString(value.text) &&
    isNumber(value.next_offset) &&
    isBoolean(value.exists)
  );
}

export function isRunStarted(value: unknown): value is IRunStarted {
  return isObject(value) && isString(value.run_id) && isString(value.notebook);
}

/** One logged metric value. */
export interface IMetricPoint {
  step: string | null;
  name: string;
  value: number;
  index: number;
  ts: number;
}

/** Body of `GET /kfjupyter/api/runs/{id}/metrics`: every value, by name then index. */
export interface IMetricHistory {
  run_id: string;
  metrics: IMetricPoint[];
}

export function isMetricPoint(value: unknown): value is IMetricPoint {
  return (
    isObject(value) &&
    isOptional(value.step, isString) &&
    isString(value.name) &&
    isNumber(value.value) &&
    isNumber(value.index) &&
    isNumber(value.ts)
  );
}

export function isMetricHistory(value: unknown): value is IMetricHistory {
  return isObject(value) && isString(value.run_id) && isArrayOf(value.metrics, isMetricPoint);
}

/** One file a step produced. */
export interface IArtifactSummary {
  step: string;
  name: string;
  kind: string;
  path: string;
  media_type: string;
  size: number;
  created_at: number;
  /** Small summary of a saved value: type, shape, dtype, a DataFrame's first rows. */
  preview: JsonObject;
}

/** Body of `GET /kfjupyter/api/runs/{id}/artifacts`. */
export interface IArtifactList {
  run_id: string;
  artifacts: IArtifactSummary[];
}

export function isArtifactSummary(value: unknown): value is IArtifactSummary {
  return (
    isObject(value) &&
    isString(value.step) &&
    isString(value.name) &&
    isString(value.kind) &&
    isString(value.path) &&
    isString(value.media_type) &&
    isNumber(value.size) &&
    isNumber(value.created_at) &&
    isObject(value.preview)
  );
}

export function isArtifactList(value: unknown): value is IArtifactList {
  return isObject(value) && isString(value.run_id) && isArrayOf(value.artifacts, isArtifactSummary);
}

/** Body of `POST /kfjupyter/api/runs/{id}/cancel` (202). */
export interface ICancelRequested {
  run_id: string;
  pid: number;
}

export function isCancelRequested(value: unknown): value is ICancelRequested {
  return isObject(value) && isString(value.run_id) && isNumber(value.pid);
}
