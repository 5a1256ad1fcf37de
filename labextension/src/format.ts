/**
 * Small display helpers shared by the runs widgets: durations, relative times, status badges.
 * Helpers that show words take the `kfjupyter` translation bundle (English without one).
 */
import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';

const NULL_BUNDLE = nullTranslator.load('kfjupyter');

/** `0.4s`, `12s`, `3m 05s`, `2h 10m`. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) {
    return '—';
  }
  if (seconds < 10) {
    return `${seconds.toFixed(1)}s`;
  }
  const whole = Math.round(seconds);
  if (whole < 60) {
    return `${whole}s`;
  }
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) {
    return `${minutes}m ${String(whole % 60).padStart(2, '0')}s`;
  }
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

/** `just now`, `5 min ago`, `3 h ago`, `2 d ago` for a Unix time in seconds. */
export function formatAgo(unixSeconds: number, nowMs: number = Date.now()): string {
  const seconds = Math.max(0, nowMs / 1000 - unixSeconds);
  if (seconds < 45) {
    return 'just now';
  }
  if (seconds < 3600) {
    return `${Math.max(1, Math.round(seconds / 60))} min ago`;
  }
  if (seconds < 86400) {
    return `${Math.round(seconds / 3600)} h ago`;
  }
  return `${Math.round(seconds / 86400)} d ago`;
}

/** Duration of a run or step: final when it ended, growing while it runs. */
export function elapsed(
  started: number | null,
  finished: number | null,
  duration: number | null,
  nowMs: number = Date.now()
): number | null {
  if (duration !== null) {
    return duration;
  }
  if (started !== null && finished === null) {
    return Math.max(0, nowMs / 1000 - started);
  }
  return null;
}

/** The shown words of a run or step status (`upstream_failed` -> `upstream failed`). */
export function statusLabel(status: string, trans: TranslationBundle = NULL_BUNDLE): string {
  const labels: { [status: string]: string } = {
    pending: trans._p('status', 'pending'),
    ready: trans._p('status', 'ready'),
    running: trans._p('status', 'running'),
    succeeded: trans._p('status', 'succeeded'),
    failed: trans._p('status', 'failed'),
    cached: trans._p('status', 'cached'),
    upstream_failed: trans._p('status', 'upstream failed'),
    cancelled: trans._p('status', 'cancelled'),
    skipped: trans._p('status', 'skipped'),
    interrupted: trans._p('status', 'interrupted')
  };
  return Object.hasOwn(labels, status) ? labels[status] : status.replace('_', ' ');
}

/**
 * A coloured status badge; colour comes from CSS on `data-status`, which keeps the status value
 * while the text is translated.
 */
export function statusBadge(status: string, trans: TranslationBundle = NULL_BUNDLE): HTMLElement {
  const badge = document.createElement('span');
  badge.className = 'jp-kfjupyter-badge';
  badge.dataset.status = status;
  badge.textContent = statusLabel(status, trans);
  return badge;
}

/**
 * A short form of a run id that tells runs of one notebook apart: its last dash-separated part
 * (`261202-175701-81p3` -> `81p3`), or the first 8 characters of an id without dashes.
 */
export function shortRunId(runId: string): string {
  const parts = runId.split('-').filter(Boolean);
  return parts.length > 1 ? parts[parts.length - 1] : runId.slice(0, 8);
}

/** The clock time of a Unix time in seconds, `17:57`; with the date when not today. */
export function formatClock(unixSeconds: number, nowMs: number = Date.now()): string {
  const when = new Date(unixSeconds * 1000);
  const time = when.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const today = new Date(nowMs).toDateString() === when.toDateString();
  return today
    ? time
    : `${when.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${time}`;
}

/** The last `parts` segments of a path (`/home/me/work/a/b.ipynb` -> `a/b.ipynb`). */
export function shortPath(path: string, parts = 2): string {
  const segments = path.split('/').filter(Boolean);
  return segments.length > parts ? segments.slice(-parts).join('/') : path;
}

/** A small badge naming a run's kind (`pipeline` or `training`); styled on `data-kind`. */
export function kindBadge(kind: string, trans: TranslationBundle = NULL_BUNDLE): HTMLElement {
  const badge = document.createElement('span');
  badge.className = 'jp-kfjupyter-kind-badge';
  badge.dataset.kind = kind;
  const labels: { [kind: string]: string } = {
    pipeline: trans._p('run kind', 'pipeline'),
    training: trans._p('run kind', 'training')
  };
  badge.textContent = Object.hasOwn(labels, kind) ? labels[kind] : kind;
  badge.title =
    kind === 'training'
      ? trans.__('Training job (one step per rank)')
      : trans.__('Notebook pipeline');
  return badge;
}

/** A `div`/`span`/... with a class and text. */
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text = ''
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = text;
  return node;
}

/**
 * A metric value as every view shows it (run header, tables, tooltips, single-value tiles):
 * up to 6 significant digits, at most 2 decimals from 100 000 up (`333833.5`, `3005998.67`),
 * exponent notation only for the very large and the very small (`1.2346e+15`, `3e-7`).
 */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) {
    return String(value);
  }
  const abs = Math.abs(value);
  if (Number.isInteger(value) && abs < 1e15) {
    return String(value);
  }
  if (abs >= 1e15 || (abs !== 0 && abs < 1e-4)) {
    return value.toExponential(4).replace(/\.?0+e/, 'e');
  }
  if (abs >= 1e5) {
    return String(Number(value.toFixed(2)));
  }
  return String(Number(value.toPrecision(6)));
}

/** `512 B`, `3.4 KB`, `12 MB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const shown = unit === 0 || value >= 10 ? Math.round(value) : value.toFixed(1);
  return `${shown} ${units[unit]}`;
}

/** Label/value lines of a training job's recorded spec: its script (or function) and workers. */
export function trainingFacts(
  spec: { [key: string]: unknown },
  trans: TranslationBundle = NULL_BUNDLE
): [string, string][] {
  const facts: [string, string][] = [];
  const entry = spec.entrypoint;
  if (typeof entry === 'object' && entry !== null && !Array.isArray(entry)) {
    const { kind, path, args, function: fn } = entry as { [key: string]: unknown };
    if (kind === 'script' && typeof path === 'string') {
      const words = Array.isArray(args) ? args.map(String) : [];
      facts.push([trans.__('Script'), [path, ...words].join(' ')]);
    } else if (typeof fn === 'string') {
      facts.push([trans.__('Function'), fn]);
    }
  }
  const count = (value: unknown): number | null => (typeof value === 'number' ? value : null);
  const nodes = count(spec.num_nodes) ?? 1;
  const procs = count(spec.procs_per_node);
  const gpus = count(spec.gpus_per_node) ?? 0;
  const workers = [trans._n('%1 node', '%1 nodes', nodes)];
  if (procs !== null) {
    workers.push(trans._n('%1 process per node', '%1 processes per node', procs));
  }
  if (gpus > 0) {
    workers.push(trans._n('%1 GPU per node', '%1 GPUs per node', gpus));
  }
  facts.push([trans.__('Workers'), workers.join(', ')]);
  return facts;
}
