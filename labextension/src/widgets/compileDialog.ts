/**
 * The body of the "Compile to KFP" dialog: the container image every step runs in, prefilled
 * with the server's default (`c.KfJupyterApp.kfp_image`, else `$KFJUPYTER_IMAGE`), and a note on
 * where else an image can be set.
 */
import { Widget } from '@lumino/widgets';

import { element } from '../format';

/** The compile form; `getValue()` answers the image to send ('' for the defaults). */
export class CompileForm extends Widget {
  /**
   * @param output where the YAML will be written (shown to the user)
   * @param image the server's default image, '' when it has none
   */
  constructor(output: string, image: string) {
    super();
    this.addClass('jp-kfjupyter-compile-form');
    const row = element('label', 'jp-kfjupyter-form-row');
    this._image = document.createElement('input');
    this._image.type = 'text';
    this._image.name = 'image';
    this._image.className = 'jp-mod-styled';
    this._image.value = image;
    this._image.placeholder = 'e.g. registry.example/team/notebook:1';
    row.append(element('span', '', 'Image'), this._image);
    const note = element(
      'div',
      'jp-kfjupyter-form-note',
      image
        ? 'Every step runs in this image (it needs kfjupyter installed); a step without an image ' +
            "setting of its own gets it. Prefilled from the server's default."
        : 'Every step runs in a container image that has kfjupyter installed. Enter one here, or ' +
            'give each step an image in its step settings. An administrator can set a default: ' +
            'c.KfJupyterApp.kfp_image or $KFJUPYTER_IMAGE on the server.'
    );
    this.node.append(row, note, element('div', 'jp-kfjupyter-form-note', `Writes ${output}.`));
  }

  /** The image in the form. */
  getValue(): string {
    return this._image.value.trim();
  }

  private readonly _image: HTMLInputElement;
}
