/**
 * Types and runtime guards of `POST /kfjupyter/api/notebooks/lint`: diagnostics and step graph.
 *
 * Kept apart from `validate.ts` (the runs API) so that the notebook-steps feature owns its shapes.
 */
import { JsonObject, isArrayOf, isNumber, isObject, isString } from './validate';

/** Severity of a finding; only errors block a run. */
export type Severity = 'error' | 'warning' | 'info';

/** One finding about a notebook, located by cell (0-based over all cells) and line (1-based). */
export interface IDiagnostic {
  severity: Severity;
  code: string;
  cell: number | null;
  line: number | null;
  message: string;
  hint: string;
  step: string | null;
}

/** A pipeline parameter with its type and default, from the pipeline-parameters cells. */
export interface IGraphParameter {
  name: string;
  type: string;
  default: unknown;
}

/** One step of the graph and the cells (0-based) it is made of; the first one starts it. */
export interface IGraphNode {
  name: string;
  kind: string;
  cells: number[];
  inputs: { [variable: string]: string };
  outputs: string[];
  parameters: string[];
  settings: JsonObject;
}

/** An edge `from` -> `to` with the variables passed along it. */
export interface IGraphEdge {
  from: string;
  to: string;
  variables: string[];
  explicit: boolean;
}

/** The pipeline graph of a notebook. */
export interface ILintGraph {
  name: string;
  parameters: IGraphParameter[];
  setup_cells: number[];
  /** Cells that define pipeline parameters. */
  parameter_cells: number[];
  /** Code cells left out by a `skip` marker. */
  skipped_cells: number[];
  nodes: IGraphNode[];
  edges: IGraphEdge[];
}

/** Body of `POST /kfjupyter/api/notebooks/lint`. */
export interface ILintResult {
  diagnostics: IDiagnostic[];
  graph: ILintGraph;
}

const SEVERITIES: readonly string[] = ['error', 'warning', 'info'];

function isNullable<T>(value: unknown, guard: (item: unknown) => item is T): value is T | null {
  return value === null || guard(value);
}

export function isDiagnostic(value: unknown): value is IDiagnostic {
  return (
    isObject(value) &&
    isString(value.severity) &&
    SEVERITIES.includes(value.severity) &&
    isString(value.code) &&
    isNullable(value.cell, isNumber) &&
    isNullable(value.line, isNumber) &&
    isString(value.message) &&
    isString(value.hint) &&
    isNullable(value.step, isString)
  );
}

export function isGraphParameter(value: unknown): value is IGraphParameter {
  return isObject(value) && isString(value.name) && isString(value.type) && 'default' in value;
}

export function isGraphNode(value: unknown): value is IGraphNode {
  return (
    isObject(value) &&
    isString(value.name) &&
    isString(value.kind) &&
    isArrayOf(value.cells, isNumber) &&
    isObject(value.inputs) &&
    Object.values(value.inputs).every(isString) &&
    isArrayOf(value.outputs, isString) &&
    isArrayOf(value.parameters, isString) &&
    isObject(value.settings)
  );
}

export function isGraphEdge(value: unknown): value is IGraphEdge {
  return (
    isObject(value) &&
    isString(value.from) &&
    isString(value.to) &&
    isArrayOf(value.variables, isString) &&
    typeof value.explicit === 'boolean'
  );
}

export function isLintGraph(value: unknown): value is ILintGraph {
  return (
    isObject(value) &&
    isString(value.name) &&
    isArrayOf(value.parameters, isGraphParameter) &&
    isArrayOf(value.setup_cells, isNumber) &&
    isArrayOf(value.parameter_cells, isNumber) &&
    isArrayOf(value.skipped_cells, isNumber) &&
    isArrayOf(value.nodes, isGraphNode) &&
    isArrayOf(value.edges, isGraphEdge)
  );
}

export function isLintResult(value: unknown): value is ILintResult {
  return isObject(value) && isArrayOf(value.diagnostics, isDiagnostic) && isLintGraph(value.graph);
}
