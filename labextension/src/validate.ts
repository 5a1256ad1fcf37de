/**
 * Runtime checks for the bodies the kfjupyter server returns.
 *
 * The REST client never trusts a response's shape: each body goes through a guard and a mismatch
 * becomes a clear `ApiError` instead of `undefined` deep inside a widget. The guards and types of
 * the REST models are generated from the server's schema (`generated/`, `jlpm run gen:types`);
 * this module keeps the helpers for JSON the schema leaves open (artifact previews, cell metadata)
 * and turns a guard's findings into a sentence.
 */
import type { IGuard } from './generated/restGuards';

export type { IGuard } from './generated/restGuards';

export type JsonObject = { [key: string]: unknown };

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isString(value: unknown): value is string {
  return typeof value === 'string';
}

export function isNumber(value: unknown): value is number {
  return typeof value === 'number';
}

export function isArrayOf<T>(value: unknown, guard: (item: unknown) => item is T): value is T[] {
  return Array.isArray(value) && value.every(guard);
}

/**
 * What `guard` found wrong with the last value it rejected, e.g.
 * `runs/0/status must be equal to one of the allowed values (pending, running, …)`.
 */
export function describeMismatch(guard: IGuard<unknown>): string {
  const error = guard.errors?.[0];
  if (error === undefined) {
    return 'it does not match the expected shape';
  }
  const where = error.instancePath === '' ? 'the body' : error.instancePath.slice(1);
  const params: { [key: string]: unknown } = error.params;
  let detail = '';
  if (Array.isArray(params.allowedValues)) {
    detail = ` (${params.allowedValues.map(v => JSON.stringify(v)).join(', ')})`;
  } else if (typeof params.additionalProperty === 'string') {
    detail = ` ('${params.additionalProperty}')`;
  }
  return `${where} ${error.message ?? 'is invalid'}${detail}`;
}
