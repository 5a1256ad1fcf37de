/**
 * REST client for the kfjupyter server extension.
 *
 * Every call goes through `requestAPI`, which adds the server's auth (token / XSRF) through
 * `ServerConnection`, checks the status code, and validates the body with a guard from
 * `validate.ts`.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { IHealth, isHealth, isObject } from './validate';

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

async function readError(response: Response): Promise<string> {
  try {
    const body: unknown = await response.json();
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
  guard: (value: unknown) => value is T,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, 'kfjupyter', 'api', path);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ApiError(`Cannot reach the Jupyter server: ${String(error)}`, 0);
  }
  if (!response.ok) {
    throw new ApiError(await readError(response), response.status);
  }
  const body: unknown = await response.json();
  if (!guard(body)) {
    throw new ApiError(
      `Unexpected response from ${path}: the server and extension versions may differ`,
      response.status
    );
  }
  return body;
}

/** `GET /kfjupyter/api/health`: version, current user and configured backends. */
export function getHealth(settings?: ServerConnection.ISettings): Promise<IHealth> {
  return requestAPI('health', isHealth, {}, settings);
}
