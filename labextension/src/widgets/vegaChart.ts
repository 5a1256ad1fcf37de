/**
 * A metric chart as the server built it (`kfjupyter.charts`, the same Vega-Lite spec the kernel's
 * `%kf metrics` shows), drawn by JupyterLab's own Vega renderer through the rendermime registry:
 * no charting code or Vega bundle of our own. The extension hands the registry over once, at
 * activation; without it (or without a Vega renderer) a chart says so in a line of text.
 */
import { IRenderMime, IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';

import { element } from '../format';

export const VEGALITE_MIME = 'application/vnd.vegalite.v5+json';
/** Options for the Vega renderer: SVG (themed by our CSS), no action menu. */
const EMBED_OPTIONS = { actions: false, renderer: 'svg' };

/** The series colours of `kfjupyter.charts.vegalite.PALETTE`, in the same order. */
const PALETTE = [
  '#4c78a8',
  '#f58518',
  '#54a24b',
  '#e45756',
  '#72b7b2',
  '#b279a2',
  '#eeca3b',
  '#9d755d',
  '#ff9da6',
  '#bab0ac'
];

/** The colour of the `i`-th series (run, step or rank) in a chart. */
export function seriesColour(i: number): string {
  return PALETTE[i % PALETTE.length];
}

let registry: IRenderMimeRegistry | null = null;

/** Give the charts JupyterLab's rendermime registry (called once, when the extension activates). */
export function useRenderMime(rendermime: IRenderMimeRegistry | null): void {
  registry = rendermime;
}

/** The drawn charts of one view; dispose them before drawing new ones. */
export class VegaCharts {
  /**
   * A figure holding the chart of `spec` (`caption` above it). The drawing happens
   * asynchronously; a failure is written into the figure.
   */
  figure(caption: string, spec: Record<string, unknown>): HTMLElement {
    const figure = element('figure', 'jp-kfjupyter-chart-figure jp-kfjupyter-vega');
    figure.dataset.metric = caption;
    figure.append(element('figcaption', '', caption));
    const data = { [VEGALITE_MIME]: spec } as unknown as MimeModel.IOptions['data'] & object;
    if (registry === null || registry.preferredMimeType(data, 'any') !== VEGALITE_MIME) {
      figure.append(
        element('div', 'jp-kfjupyter-empty', 'Charts need JupyterLab\u2019s Vega renderer.')
      );
      return figure;
    }
    const renderer = registry.createRenderer(VEGALITE_MIME);
    this._renderers.push(renderer);
    figure.append(renderer.node);
    const model = new MimeModel({
      data,
      metadata: { [VEGALITE_MIME]: { embed_options: EMBED_OPTIONS } }
    });
    renderer.renderModel(model).catch((reason: unknown) => {
      figure.append(
        element('div', 'jp-kfjupyter-error', `The chart could not be drawn: ${String(reason)}`)
      );
    });
    return figure;
  }

  /** Finalize every chart drawn so far. */
  dispose(): void {
    for (const renderer of this._renderers.splice(0)) {
      renderer.dispose();
    }
  }

  private _renderers: IRenderMime.IRenderer[] = [];
}
