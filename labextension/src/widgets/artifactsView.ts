/**
 * What a run's steps produced: one row per artifact (step, name, kind, size) with a preview:
 * a figure's image, a saved value's type/shape/dtype and a DataFrame's first rows as a small
 * table. Images are fetched with the server's auth and shown from object URLs, revoked on dispose.
 * Each row's name is a download link to the server's artifact route (sent as an attachment).
 */
import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { artifactDownloadUrl, downloadArtifact } from '../api';
import { element, formatBytes } from '../format';
import { IArtifactSummary } from '../generated/restTypes';
import { isArrayOf, isObject, isString, JsonObject } from '../validate';

/** Fetches one artifact's bytes; tests can pass a fake. */
export type ArtifactLoader = (runId: string, step: string, name: string) => Promise<Blob>;
/** The URL a row's download link points at. */
export type ArtifactLink = (runId: string, step: string, name: string) => string;

/** Short text for a cell value of a preview table. */
function cellText(value: unknown): string {
  if (value === null || value === undefined) {
    return '';
  }
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** One line summing up a preview: `DataFrame · 3 × 2 · x: int64, y: float64`. */
export function previewSummary(preview: JsonObject): string {
  const parts: string[] = [];
  if (isString(preview.type)) {
    parts.push(preview.type);
  }
  if (Array.isArray(preview.shape)) {
    parts.push(preview.shape.map(cellText).join(' × '));
  }
  if (isString(preview.dtype)) {
    parts.push(preview.dtype);
  }
  if (isObject(preview.dtypes)) {
    parts.push(
      Object.entries(preview.dtypes)
        .map(([column, dtype]) => `${column}: ${cellText(dtype)}`)
        .join(', ')
    );
  }
  if (typeof preview.len === 'number') {
    parts.push(`len ${preview.len}`);
  }
  if (isString(preview.repr) && !Array.isArray(preview.shape)) {
    parts.push(preview.repr);
  }
  return parts.join(' · ');
}

/** A preview's `head` (records) as a small table; null when there is none. */
export function headTable(preview: JsonObject): HTMLTableElement | null {
  const rows = preview.head;
  if (!isArrayOf(rows, isObject) || !rows.length) {
    return null;
  }
  const columns = Array.from(new Set(rows.flatMap(row => Object.keys(row))));
  const table = element('table', 'jp-kfjupyter-table jp-kfjupyter-head');
  const head = element('tr', '');
  columns.forEach(column => head.append(element('th', '', column)));
  const thead = element('thead', '');
  thead.append(head);
  const body = element('tbody', '');
  for (const row of rows) {
    const tr = element('tr', '');
    columns.forEach(column => tr.append(element('td', '', cellText(row[column]))));
    body.append(tr);
  }
  table.append(thead, body);
  return table;
}

export class ArtifactsView extends Widget {
  constructor(
    readonly runId: string,
    private readonly _load: ArtifactLoader = downloadArtifact,
    private readonly _link: ArtifactLink = (run, step, name) =>
      artifactDownloadUrl(run, step, name),
    private readonly _trans: TranslationBundle = nullTranslator.load('kfjupyter')
  ) {
    super();
    this.addClass('jp-kfjupyter-artifacts');
  }

  /** Show `artifacts`; redraws only when the set of files changed. */
  render(artifacts: readonly IArtifactSummary[]): void {
    const key = JSON.stringify(artifacts.map(a => [a.step, a.name, a.size, a.created_at]));
    if (key === this._key) {
      return;
    }
    this._key = key;
    if (!artifacts.length) {
      this.node.replaceChildren(
        element(
          'div',
          'jp-kfjupyter-empty',
          this._trans.__(
            'No artifacts. Values, data frames and figures a step leaves are listed here when it ends.'
          )
        )
      );
      return;
    }
    const table = element('table', 'jp-kfjupyter-table jp-kfjupyter-artifacts-table');
    const head = element('tr', '');
    const trans = this._trans;
    const labels = [
      trans.__('Step'),
      trans.__('Name (download)'),
      trans.__('Kind'),
      trans.__('Size'),
      trans.__('Preview')
    ];
    for (const label of labels) {
      head.append(element('th', '', label));
    }
    const thead = element('thead', '');
    thead.append(head);
    const body = element('tbody', '');
    artifacts.forEach(artifact => body.append(this._row(artifact)));
    table.append(thead, body);
    this.node.replaceChildren(table);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    for (const url of this._urls.values()) {
      void url.then(value => value && URL.revokeObjectURL(value));
    }
    this._urls.clear();
    super.dispose();
  }

  private _row(artifact: IArtifactSummary): HTMLTableRowElement {
    const row = element('tr', 'jp-kfjupyter-artifact');
    row.dataset.step = artifact.step;
    row.dataset.name = artifact.name;
    row.dataset.kind = artifact.kind;
    const preview = element('td', 'jp-kfjupyter-artifact-preview');
    if (artifact.kind === 'figure' && artifact.media_type.startsWith('image/')) {
      preview.append(this._image(artifact));
    } else {
      preview.append(
        element('div', 'jp-kfjupyter-preview-summary', previewSummary(artifact.preview))
      );
      const table = headTable(artifact.preview);
      if (table) {
        preview.append(table);
      }
    }
    const name = element('td', 'jp-kfjupyter-artifact-name');
    const link = element('a', 'jp-kfjupyter-artifact-download', artifact.name);
    link.href = this._link(this.runId, artifact.step, artifact.name);
    link.download = ''; // the server's Content-Disposition names the file
    link.title = this._trans.__(
      'Download %1 of step %2 (%3)',
      artifact.name,
      artifact.step,
      artifact.media_type
    );
    name.append(link);
    row.append(
      element('td', '', artifact.step),
      name,
      element('td', '', artifact.kind),
      element('td', '', formatBytes(artifact.size)),
      preview
    );
    return row;
  }

  private _image(artifact: IArtifactSummary): HTMLElement {
    const image = element('img', 'jp-kfjupyter-figure');
    image.alt = `${artifact.name} (${artifact.step})`;
    const key = `${artifact.step}/${artifact.name}@${artifact.created_at}`;
    let url = this._urls.get(key);
    if (url === undefined) {
      url = this._load(this.runId, artifact.step, artifact.name).then(
        blob => URL.createObjectURL(blob),
        () => null
      );
      this._urls.set(key, url);
    }
    void url.then(value => {
      if (value === null) {
        image.replaceWith(
          element('div', 'jp-kfjupyter-error', this._trans.__('Cannot load this figure.'))
        );
      } else {
        image.src = value;
      }
    });
    return image;
  }

  private _key = '';
  private readonly _urls = new Map<string, Promise<string | null>>();
}
