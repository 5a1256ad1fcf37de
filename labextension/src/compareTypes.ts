/**
 * Types and runtime guards of `GET /kfjupyter/api/runs/compare?ids=a,b,c`: runs side by side.
 *
 * Kept apart from `validate.ts` so that the compare feature owns its shapes.
 */
import {
  IMetricPoint,
  IRunSummary,
  JsonObject,
  isArrayOf,
  isMetricPoint,
  isNumber,
  isObject,
  isRunSummary,
  isString
} from './validate';

/** Most runs one comparison takes (the server refuses more). */
export const MAX_COMPARED = 50;

/** One compared run: what it is, its parameters, last metric values and metric history. */
export interface IComparedRun {
  run: IRunSummary;
  parameters: JsonObject;
  metrics: { [name: string]: number };
  /** Values by name then index, one per index, thinned to at most 500 per name. */
  history: IMetricPoint[];
}

/** Body of `GET /kfjupyter/api/runs/compare`. */
export interface IRunComparison {
  runs: IComparedRun[];
  /** Every parameter name any run used, sorted. */
  parameters: string[];
  /** Parameter names whose values are not all equal. */
  differing: string[];
  /** Every metric name any run logged, sorted. */
  metrics: string[];
  /** Per metric, the id of the run with the best last value. */
  best: { [metric: string]: string };
}

function isNumberMap(value: unknown): value is { [name: string]: number } {
  return isObject(value) && Object.values(value).every(isNumber);
}

function isStringMap(value: unknown): value is { [name: string]: string } {
  return isObject(value) && Object.values(value).every(isString);
}

export function isComparedRun(value: unknown): value is IComparedRun {
  return (
    isObject(value) &&
    isRunSummary(value.run) &&
    isObject(value.parameters) &&
    isNumberMap(value.metrics) &&
    isArrayOf(value.history, isMetricPoint)
  );
}

export function isRunComparison(value: unknown): value is IRunComparison {
  return (
    isObject(value) &&
    isArrayOf(value.runs, isComparedRun) &&
    isArrayOf(value.parameters, isString) &&
    isArrayOf(value.differing, isString) &&
    isArrayOf(value.metrics, isString) &&
    isStringMap(value.best)
  );
}
