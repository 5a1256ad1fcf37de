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
    isArrayOf(value.backends, isBackend)
  );
}
