/**
 * REST client for the kfjupyter server extension.
 *
 * Every call goes through `requestAPI`, which adds the server's auth (token / XSRF) through
 * `ServerConnection`, checks the status code, and validates the body with a guard generated from
 * the server's REST schema (`generated/restGuards.ts`).
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import {
  isArtifactList,
  isCancelRequested,
  isCompileResult,
  isHealth,
  isLintResult,
  isLogText,
  isMetricHistory,
  isPlanResult,
  isRunComparison,
  isRunDetail,
  isRunList,
  isRunStarted,
  isStepValues,
  isSubmitResult,
  isTrainingStarted
} from './generated/restGuards';
import {
  IArtifactList,
  ICancelRequested,
  ICompileRequest,
  ICompileResult,
  IHealth,
  ILintRequest,
  ILintResult,
  ILogText,
  IMetricHistory,
  IPlanRequest,
  IPlanResult,
  IRunComparison,
  IRunDetail,
  IRerunRequest,
  IRunList,
  IRunListQuery,
  IRunNotebookRequest,
  IRunStarted,
  IStepValues,
  ISubmitRequest,
  ISubmitResult,
  ITrainingRequest,
  ITrainingStarted
} from './generated/restTypes';
import { IGuard, describeMismatch, isObject } from './validate';

/** An error from the kfjupyter API, carrying the server's user-facing message. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The URL of `path` under `<base>/kfjupyter/api/`. */
export function apiUrl(path: string, settings: ServerConnection.ISettings): string {
  return URLExt.join(settings.baseUrl, 'kfjupyter', 'api', path);
}

/** The server's `message` from an error response, else its status line. */
export async function readError(response: Response): Promise<string> {
  try {
    const body: unknown = response.status === 204 ? null : await response.json();
    if (isObject(body) && typeof body.message === 'string' && body.message !== '') {
      return body.message;
    }
  } catch {
    // Not JSON: fall through to the status text.
  }
  return `${response.status} ${response.statusText}`;
}

/** Call `path` under `<base>/kfjupyter/api/` and validate the JSON body with `guard`. */
export async function requestAPI<T>(
  path: string,
  guard: IGuard<T>,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = apiUrl(path, settings);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ApiError(`Cannot reach the Jupyter server: ${String(error)}`, 0);
  }
  if (!response.ok) {
    throw new ApiError(await readError(response), response.status);
  }
  const body: unknown = response.status === 204 ? null : await response.json();
  if (!guard(body)) {
    throw new ApiError(
      `Unexpected response from ${path}: ${describeMismatch(guard)}; ` +
        'the server and extension versions may differ',
      response.status
    );
  }
  return body;
}

/** `GET /kfjupyter/api/health`: version, current user and configured backends. */
export function getHealth(settings?: ServerConnection.ISettings): Promise<IHealth> {
  return requestAPI('health', isHealth, {}, settings);
}

/** An order of `GET /kfjupyter/api/runs` (the server's `RunListQuery.sort` says what each means). */
export type RunSort = NonNullable<IRunListQuery['sort']>;
/** Every order, in the order the filter bar offers them. */
export const RUN_SORTS: readonly RunSort[] = ['newest', 'oldest', 'name', 'status', 'duration'];

/** Filters, order and page of `GET /kfjupyter/api/runs`. */
export interface IRunQuery {
  kind?: 'pipeline' | 'training';
  status?: string;
  /** Backend name: `local`, `kfp`, ... */
  backend?: string;
  /** Exact notebook path. */
  notebook?: string;
  /** Substring of the name, notebook or id, any case. */
  q?: string;
  /** Order of the list; the server's default is `newest`. */
  sort?: RunSort;
  limit?: number;
  offset?: number;
}

/** `GET /kfjupyter/api/runs`: one page of runs, newest first unless `query.sort` says otherwise. */
export function listRuns(
  query: IRunQuery = {},
  settings?: ServerConnection.ISettings
): Promise<IRunList> {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) {
      params.set(name, String(value));
    }
  }
  const search = params.toString();
  return requestAPI(search ? `runs?${search}` : 'runs', isRunList, {}, settings);
}

/** Most runs one comparison takes (the server refuses more). */
export const MAX_COMPARED = 50;

/** `GET /kfjupyter/api/runs/compare?ids=a,b,c`: 2 to 50 runs side by side. */
export function compareRuns(
  runIds: readonly string[],
  settings?: ServerConnection.ISettings
): Promise<IRunComparison> {
  const ids = runIds.map(encodeURIComponent).join(',');
  return requestAPI(`runs/compare?ids=${ids}`, isRunComparison, {}, settings);
}

/** `GET /kfjupyter/api/runs/{id}`: the run with its steps and last metrics. */
export function getRun(runId: string, settings?: ServerConnection.ISettings): Promise<IRunDetail> {
  return requestAPI(`runs/${encodeURIComponent(runId)}`, isRunDetail, {}, settings);
}

/** `GET /kfjupyter/api/runs/{id}/logs/{step}?offset=N`: whole log lines from byte `offset`. */
export function getStepLog(
  runId: string,
  step: string,
  offset = 0,
  settings?: ServerConnection.ISettings
): Promise<ILogText> {
  const path = `runs/${encodeURIComponent(runId)}/logs/${encodeURIComponent(step)}?offset=${offset}`;
  return requestAPI(path, isLogText, {}, settings);
}

const isNull: IGuard<null> = (value: unknown): value is null => value === null;

/** `DELETE /kfjupyter/api/runs/{id}`: delete a finished run and its files. */
export async function deleteRun(
  runId: string,
  settings?: ServerConnection.ISettings
): Promise<void> {
  await requestAPI(`runs/${encodeURIComponent(runId)}`, isNull, { method: 'DELETE' }, settings);
}

/** `POST /kfjupyter/api/notebooks/run`: start the notebook at `path` (relative to the root). */
export function runNotebook(
  path: string,
  parameters: { [name: string]: string } = {},
  noCache = false,
  settings?: ServerConnection.ISettings
): Promise<IRunStarted> {
  const request: IRunNotebookRequest = { path, parameters, no_cache: noCache };
  const body = JSON.stringify(request);
  return requestAPI('notebooks/run', isRunStarted, { method: 'POST', body }, settings);
}

/** `POST /kfjupyter/api/notebooks/lint`: diagnostics and step graph of an (unsaved) notebook. */
export function lintNotebook(
  notebook: unknown,
  target: ILintRequest['target'] = 'local',
  settings?: ServerConnection.ISettings,
  path?: string
): Promise<ILintResult> {
  const request: ILintRequest = { notebook: notebook as ILintRequest['notebook'], target };
  if (path !== undefined) {
    request.path = path;
  }
  const body = JSON.stringify(request);
  return requestAPI('notebooks/lint', isLintResult, { method: 'POST', body }, settings);
}

/** `GET /kfjupyter/api/runs/{id}/metrics`: every value the run logged. */
export function getMetrics(
  runId: string,
  settings?: ServerConnection.ISettings
): Promise<IMetricHistory> {
  return requestAPI(`runs/${encodeURIComponent(runId)}/metrics`, isMetricHistory, {}, settings);
}

/** `GET /kfjupyter/api/runs/{id}/artifacts`: the files the run's steps produced. */
export function getArtifacts(
  runId: string,
  settings?: ServerConnection.ISettings
): Promise<IArtifactList> {
  return requestAPI(`runs/${encodeURIComponent(runId)}/artifacts`, isArtifactList, {}, settings);
}

/** `POST /kfjupyter/api/runs/{id}/cancel`: interrupt the process driving a running run. */
export function cancelRun(
  runId: string,
  settings?: ServerConnection.ISettings
): Promise<ICancelRequested> {
  const path = `runs/${encodeURIComponent(runId)}/cancel`;
  return requestAPI(path, isCancelRequested, { method: 'POST' }, settings);
}

/** The download path of an artifact under `<base>/kfjupyter/api/`. */
function artifactPath(runId: string, step: string, name: string): string {
  const parts = [runId, step, name].map(encodeURIComponent);
  return `runs/${parts[0]}/artifacts/${parts[1]}/${parts[2]}/download`;
}

/**
 * The URL a download link points at: the server sends the file as an attachment. A plain
 * navigation is authenticated like the Lab's own page (its login cookie).
 */
export function artifactDownloadUrl(
  runId: string,
  step: string,
  name: string,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): string {
  return `${apiUrl(artifactPath(runId, step, name), settings)}?attachment=1`;
}

/**
 * `GET /kfjupyter/api/runs/{id}/artifacts/{step}/{name}/download`: the artifact's bytes.
 *
 * Fetched with the server's auth (not a bare `<img src>`), so it works behind token headers too.
 */
export async function downloadArtifact(
  runId: string,
  step: string,
  name: string,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<Blob> {
  const path = artifactPath(runId, step, name);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(apiUrl(path, settings), {}, settings);
  } catch (error) {
    throw new ApiError(`Cannot reach the Jupyter server: ${String(error)}`, 0);
  }
  if (!response.ok) {
    throw new ApiError(await readError(response), response.status);
  }
  return response.blob();
}

/** `POST /kfjupyter/api/runs/{id}/rerun`: start the run again, optionally ignoring the cache. */
export function rerunRun(
  runId: string,
  noCache = false,
  settings?: ServerConnection.ISettings
): Promise<IRunStarted> {
  const path = `runs/${encodeURIComponent(runId)}/rerun`;
  const request: IRerunRequest = { no_cache: noCache };
  const body = JSON.stringify(request);
  return requestAPI(path, isRunStarted, { method: 'POST', body }, settings);
}

/** `POST /kfjupyter/api/notebooks/compile`: write `<stem>.pipeline.yaml` next to the notebook. */
export function compileNotebook(
  path: string,
  parameters: { [name: string]: string } = {},
  image = '',
  settings?: ServerConnection.ISettings
): Promise<ICompileResult> {
  const request: ICompileRequest = { path, parameters };
  if (image.trim() !== '') {
    request.image = image.trim();
  }
  const body = JSON.stringify(request);
  return requestAPI('notebooks/compile', isCompileResult, { method: 'POST', body }, settings);
}

/** `POST /kfjupyter/api/notebooks/submit`: run the notebook on Kubeflow Pipelines (tracked). */
export function submitNotebook(
  path: string,
  parameters: { [name: string]: string } = {},
  experiment = '',
  settings?: ServerConnection.ISettings
): Promise<ISubmitResult> {
  const request: ISubmitRequest = { path, parameters };
  if (experiment !== '') {
    request.experiment = experiment;
  }
  const body = JSON.stringify(request);
  return requestAPI('notebooks/submit', isSubmitResult, { method: 'POST', body }, settings);
}

/** `POST /kfjupyter/api/training`: start a training job on a script. */
export function startTraining(
  request: ITrainingRequest,
  settings?: ServerConnection.ISettings
): Promise<ITrainingStarted> {
  const body = JSON.stringify(request);
  return requestAPI('training', isTrainingStarted, { method: 'POST', body }, settings);
}

/** `POST /kfjupyter/api/notebooks/plan`: what a local run of the saved notebook would do, and why. */
export function planNotebook(
  path: string,
  parameters: { [name: string]: string } = {},
  noCache = false,
  settings?: ServerConnection.ISettings
): Promise<IPlanResult> {
  const request: IPlanRequest = { path, parameters, no_cache: noCache };
  const body = JSON.stringify(request);
  return requestAPI('notebooks/plan', isPlanResult, { method: 'POST', body }, settings);
}

/**
 * `GET /kfjupyter/api/runs/{id}/steps/{step}/values`: the names `%kf load` of the step defines
 * and the code that loads them in a kernel.
 */
export function getStepValues(
  runId: string,
  step: string,
  outputs = false,
  settings?: ServerConnection.ISettings
): Promise<IStepValues> {
  const path = `runs/${encodeURIComponent(runId)}/steps/${encodeURIComponent(step)}/values`;
  return requestAPI(outputs ? `${path}?outputs=true` : path, isStepValues, {}, settings);
}

/**
 * `POST /kfjupyter/api/runs/{id}/rerun {from_step}`: run `step` and the steps below it again, the
 * steps above taken from this run.
 */
export function rerunFromStep(
  runId: string,
  step: string,
  settings?: ServerConnection.ISettings
): Promise<IRunStarted> {
  const path = `runs/${encodeURIComponent(runId)}/rerun`;
  const request: IRerunRequest = { from_step: step };
  const body = JSON.stringify(request);
  return requestAPI(path, isRunStarted, { method: 'POST', body }, settings);
}
