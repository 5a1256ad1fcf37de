/**
 * Step logs as DOM nodes: each line the step wrote to stderr (`<time> stderr <text>`) is set
 * apart, and the cells the step runtime names ("cell 2 of step 'x' raised …", `File "cell 2"`,
 * counted from 0 as the server writes them) are shown as JupyterLab counts them, as links.
 */
import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';

import { GoToCell, linkCells } from './cellBadges';

const NULL_BUNDLE = nullTranslator.load('kfjupyter');

/** Where a log being appended to stands: inside a stderr line, at the start of a line. */
export interface ILogState {
  stderr: boolean;
  atLineStart: boolean;
}

/** A log not started yet. */
export function freshLogState(): ILogState {
  return { stderr: false, atLineStart: true };
}

const STREAM_TAG = /^\S+ (stdout|stderr) /;
/** The runtime's own mentions of a cell: its error line and the traceback's file names. */
const CELL_MENTION = /^(cell \d+ of step '|\s+File "cell \d+")/;

/**
 * `text` (one error or one stderr line without its time and tag) with the runtime's mention of
 * a cell at its start turned into a link; any other "cell N" is the user's text and kept as is.
 */
export function cellMentionNodes(
  text: string,
  go: GoToCell | null,
  trans: TranslationBundle = NULL_BUNDLE
): Node[] {
  const match = CELL_MENTION.exec(text);
  if (match === null) {
    return [document.createTextNode(text)];
  }
  return [
    ...linkCells(match[0], null, go, trans),
    document.createTextNode(text.slice(match[0].length))
  ];
}

/** A multi-line error (a message and its traceback) with the cells it names as links. */
export function errorNodes(
  text: string,
  go: GoToCell | null,
  trans: TranslationBundle = NULL_BUNDLE
): Node[] {
  return text.split(/(?<=\n)/).flatMap(line => cellMentionNodes(line, go, trans));
}

/** The nodes for `text` appended to a log in `state` (which is updated). */
export function logNodes(
  text: string,
  state: ILogState,
  go: GoToCell | null,
  trans: TranslationBundle = NULL_BUNDLE
): Node[] {
  const nodes: Node[] = [];
  for (const piece of text.split(/(?<=\n)/)) {
    if (piece === '') {
      continue;
    }
    let rest: Node[] = [document.createTextNode(piece)];
    if (state.atLineStart) {
      const tag = STREAM_TAG.exec(piece);
      state.stderr = tag !== null && tag[1] === 'stderr';
      if (state.stderr && tag !== null) {
        const head = document.createTextNode(tag[0]);
        rest = [head, ...cellMentionNodes(piece.slice(tag[0].length), go, trans)];
      }
    }
    if (state.stderr) {
      const span = document.createElement('span');
      span.className = 'jp-kfjupyter-log-stderr';
      span.append(...rest);
      nodes.push(span);
    } else {
      nodes.push(...rest);
    }
    state.atLineStart = piece.endsWith('\n');
  }
  return nodes;
}
