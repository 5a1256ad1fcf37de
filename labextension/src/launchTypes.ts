/**
 * Types and runtime guards of the launch endpoints: re-run a run, compile a notebook to KFP
 * YAML, submit it to Kubeflow Pipelines, and start a training job.
 *
 * Kept apart from `validate.ts` (the runs API) so that the launch features own their shapes.
 */
import { isArrayOf, isNumber, isObject, isString } from './validate';

/** The training backends the server can pick from; `auto` lets it choose. */
export const TRAINING_BACKENDS = ['local', 'kubernetes', 'auto'] as const;
export type TrainingBackend = (typeof TRAINING_BACKENDS)[number];

/** Body of `POST /kfjupyter/api/training`. */
export interface ITrainingRequest {
  /** The script, relative to the server's root directory. */
  script: string;
  args: string[];
  num_nodes: number;
  procs_per_node: number;
  gpus_per_node: number;
  cpu: string | null;
  memory: string | null;
  image: string | null;
  env: { [name: string]: string };
  backend: TrainingBackend;
  name: string | null;
}

/** Answer of `POST /kfjupyter/api/training` (202). */
export interface ITrainingStarted {
  run_id: string;
  name: string;
  backend: string;
  status: string;
}

/** Answer of `POST /kfjupyter/api/notebooks/compile`: where the YAML went. */
export interface ICompiled {
  path: string;
  /** The number of steps (or their names) in the compiled pipeline. */
  steps: number | string[];
  bytes: number;
}

/** Answer of `POST /kfjupyter/api/notebooks/submit` (202): the tracked run and its KFP page. */
export interface ISubmitted {
  run_id: string;
  kfp_run_id: string;
  url: string;
}

/** Answer of `POST /kfjupyter/api/runs/{id}/rerun` (202): at least the new run's id. */
export interface IRerunStarted {
  run_id: string;
}

export function isTrainingStarted(value: unknown): value is ITrainingStarted {
  return (
    isObject(value) &&
    isString(value.run_id) &&
    isString(value.name) &&
    isString(value.backend) &&
    isString(value.status)
  );
}

export function isCompiled(value: unknown): value is ICompiled {
  return (
    isObject(value) &&
    isString(value.path) &&
    (isNumber(value.steps) || isArrayOf(value.steps, isString)) &&
    isNumber(value.bytes)
  );
}

export function isSubmitted(value: unknown): value is ISubmitted {
  return (
    isObject(value) && isString(value.run_id) && isString(value.kfp_run_id) && isString(value.url)
  );
}

export function isRerunStarted(value: unknown): value is IRerunStarted {
  return isObject(value) && isString(value.run_id);
}
