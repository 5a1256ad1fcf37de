/**
 * The body of the "Compile to KFP" dialog: the container image every step runs in, prefilled
 * with the server's default (`c.KfJupyterApp.kfp_image`, else `$KFJUPYTER_IMAGE`) or, when the
 * server has none, the user's own default from the settings, and a note on where else an image
 * can be set.
 */
import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { element } from '../format';

/** The image the dialog starts with, and where it comes from. */
export interface IImagePrefill {
  image: string;
  /** `server`: the server's default; `settings`: the user's preference; `none`: empty. */
  from: 'server' | 'settings' | 'none';
}

/** The compile form; `getValue()` answers the image to send ('' for the defaults). */
export class CompileForm extends Widget {
  /**
   * @param output where the YAML will be written (shown to the user)
   * @param prefill the image to start with and where it comes from
   */
  constructor(
    output: string,
    prefill: IImagePrefill,
    trans: TranslationBundle = nullTranslator.load('kfjupyter')
  ) {
    super();
    this.addClass('jp-kfjupyter-compile-form');
    this.node.dataset.prefill = prefill.from;
    const row = element('label', 'jp-kfjupyter-form-row');
    this._image = document.createElement('input');
    this._image.type = 'text';
    this._image.name = 'image';
    this._image.className = 'jp-mod-styled';
    this._image.value = prefill.image;
    this._image.placeholder = trans.__('e.g. registry.example/team/notebook:1');
    row.append(element('span', '', trans.__('Image')), this._image);
    const notes = {
      server: trans.__(
        "Every step runs in this image (it needs kfjupyter installed); a step without an image setting of its own gets it. Prefilled from the server's default."
      ),
      settings: trans.__(
        'Every step runs in this image (it needs kfjupyter installed); a step without an image setting of its own gets it. Prefilled from your Kubeflow settings (Compile to KFP: default image).'
      ),
      none: trans.__(
        'Every step runs in a container image that has kfjupyter installed. Enter one here, or give each step an image in its step settings. An administrator can set a default: c.KfJupyterApp.kfp_image or $KFJUPYTER_IMAGE on the server.'
      )
    };
    const note = element('div', 'jp-kfjupyter-form-note', notes[prefill.from]);
    this.node.append(
      row,
      note,
      element('div', 'jp-kfjupyter-form-note', trans.__('Writes %1.', output))
    );
  }

  /** The image in the form. */
  getValue(): string {
    return this._image.value.trim();
  }

  private readonly _image: HTMLInputElement;
}
