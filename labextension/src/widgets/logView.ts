/**
 * The log viewer of the run detail: the log of one step, followed live while the run is active.
 *
 * A running step's log comes through the server-sent events stream; when the stream cannot be
 * opened or breaks, the view falls back to polling `logs/{step}?offset=N` on its owner's ticks.
 * A "Follow" toggle keeps the newest line in sight (scrolling up pauses it), and a search box
 * highlights matches (Enter / Shift+Enter move between them).
 */
import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { element } from '../format';
import { ILogEvent, ILogText } from '../generated/restTypes';
import { GoToCell } from './cellBadges';
import { ILogState, freshLogState, logNodes } from './logLines';

/** Where the view gets a step's log; `streamStepLog` is optional (polling only without it). */
export interface ILogSource {
  getStepLog(runId: string, step: string, offset: number): Promise<ILogText>;
  streamStepLog?(
    runId: string,
    step: string,
    offset: number,
    onLog: (chunk: ILogEvent) => void,
    signal: AbortSignal
  ): Promise<string | null>;
}

/** How the log is being read: `stream` (live push), `poll` (fallback) or `idle`. */
export type LogMode = 'stream' | 'poll' | 'idle';

export class StepLogView extends Widget {
  constructor(
    readonly runId: string,
    private readonly _source: ILogSource,
    private readonly _trans: TranslationBundle = nullTranslator.load('kfjupyter')
  ) {
    super();
    const trans = _trans;
    this.addClass('jp-kfjupyter-log-view');
    this._title = element('h3', 'jp-kfjupyter-section-header', trans.__('Log'));
    this._live = element('span', 'jp-kfjupyter-log-live', trans.__('live'));
    this._live.title = trans.__('Following the log as the step writes it');
    this._follow = element(
      'button',
      'jp-Button jp-mod-styled jp-kfjupyter-log-follow',
      trans.__('Follow')
    );
    this._follow.title = trans.__('Keep the newest line in sight');
    this._follow.addEventListener('click', () => this.setFollowing(!this._following));
    this._search = element('input', 'jp-mod-styled jp-kfjupyter-log-search');
    this._search.type = 'search';
    this._search.placeholder = trans.__('Search log');
    this._search.setAttribute('aria-label', trans.__('Search the log'));
    this._search.addEventListener('input', () => {
      this._current = -1;
      this._render();
    });
    this._search.addEventListener('keydown', event => {
      if (event.key === 'Enter') {
        event.preventDefault();
        this._jump(event.shiftKey ? -1 : 1);
      } else if (event.key === 'Escape' && this._search.value !== '') {
        event.stopPropagation();
        this._search.value = '';
        this._render();
      }
    });
    this._count = element('span', 'jp-kfjupyter-log-count');
    this._tools = element('div', 'jp-kfjupyter-log-tools');
    this._tools.append(this._live, this._follow, this._search, this._count);
    this._tools.hidden = true; // until a step is picked
    const head = element('div', 'jp-kfjupyter-log-head');
    head.append(this._title, this._tools);
    this._log = element(
      'pre',
      'jp-kfjupyter-log',
      'Click a step in the graph or the table to see its log.'
    );
    this._log.tabIndex = 0;
    this._log.addEventListener('wheel', event => {
      if (event.deltaY < 0 && this._following) {
        this.setFollowing(false);
      }
    });
    this.node.append(head, this._log);
    this.setFollowing(true);
    this._setMode('idle');
  }

  /** What a click on a cell the log names does (open the run's notebook at it); null: no links. */
  set goToCell(go: GoToCell | null) {
    this._go = go;
  }

  /** The step whose log is shown, if any. */
  get step(): string | null {
    return this._step;
  }

  /** How the log is being read now. */
  get mode(): LogMode {
    return this._mode;
  }

  /** Whether new lines scroll into view. */
  get following(): boolean {
    return this._following;
  }

  setFollowing(follow: boolean): void {
    this._following = follow;
    this._follow.setAttribute('aria-pressed', String(follow));
    this._follow.classList.toggle('jp-mod-active', follow);
    this._follow.textContent = follow ? this._trans.__('Following') : this._trans.__('Follow');
    if (follow) {
      this._scrollToEnd();
    }
  }

  /** Show the log of `step` from its beginning; `live` streams it (the run is still active). */
  async showStep(step: string, live: boolean): Promise<void> {
    this._stopStream();
    this._step = step;
    this._offset = 0;
    this._complete = false;
    this._text = '';
    this._placeholder = '';
    this._current = -1;
    this._title.textContent = this._trans.__('Log of %1', step);
    this._tools.hidden = false;
    this._log.dataset.step = step;
    this._render();
    if (live && this._canStream()) {
      this._placeholder = 'Waiting for output…';
      this._render();
      this._openStream(step);
    } else {
      await this._poll();
    }
  }

  /**
   * Catch up on the owner's refresh tick: nothing while streaming or once the stream said the step
   * ended; otherwise read from the last offset, or reopen the stream while the run is `active`.
   */
  async catchUp(active: boolean): Promise<void> {
    if (this._step === null || this._controller !== null || this._complete) {
      return;
    }
    if (active && this._canStream()) {
      this._openStream(this._step);
      return;
    }
    await this._poll();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._stopStream();
    super.dispose();
  }

  private _canStream(): boolean {
    return this._source.streamStepLog !== undefined && !this._streamFailed;
  }

  private _openStream(step: string): void {
    const stream = this._source.streamStepLog;
    if (stream === undefined) {
      return;
    }
    const controller = new AbortController();
    this._controller = controller;
    this._setMode('stream');
    const onLog = (chunk: ILogEvent): void => {
      if (this._step === step && !controller.signal.aborted) {
        this._append(chunk.text, chunk.next_offset);
      }
    };
    void stream(this.runId, step, this._offset, onLog, controller.signal)
      .then(async status => {
        if (this._controller !== controller) {
          return; // replaced or stopped meanwhile
        }
        this._controller = null;
        this._setMode('idle');
        if (status !== null) {
          this._complete = true; // the step ended and the stream sent all of its log
        }
      })
      .catch(async () => {
        if (this._controller !== controller) {
          return;
        }
        this._controller = null;
        this._streamFailed = true;
        await this._poll();
      });
  }

  private _stopStream(): void {
    this._controller?.abort();
    this._controller = null;
    this._setMode('idle');
  }

  private async _poll(): Promise<void> {
    const step = this._step;
    if (step === null) {
      return;
    }
    if (this._streamFailed) {
      this._setMode('poll');
    }
    try {
      const chunk = await this._source.getStepLog(this.runId, step, this._offset);
      if (step !== this._step || this._controller !== null) {
        return; // the user picked another step, or a stream took over
      }
      if (!chunk.exists && this._text === '') {
        this._placeholder = 'This step has not written a log yet.';
        this._render();
      }
      this._append(chunk.text, chunk.next_offset);
    } catch (error) {
      this._placeholder = error instanceof Error ? error.message : String(error);
      this._render();
    }
  }

  private _append(text: string, nextOffset: number): void {
    if (nextOffset < this._offset) {
      return; // an answer about an older part of the log
    }
    this._offset = nextOffset;
    if (text === '') {
      return;
    }
    const first = this._text === '';
    this._text += text;
    if (first || this._search.value !== '') {
      this._render();
    } else {
      this._log.append(...logNodes(text, this._state, this._go, this._trans));
      this._scrollToEnd();
    }
  }

  /** Redraw the log, with the search matches marked. */
  private _render(): void {
    const query = this._search.value;
    const text = this._text || this._placeholder;
    this._log.classList.toggle('jp-mod-placeholder', this._text === '');
    if (query === '' || this._text === '') {
      this._state = freshLogState();
      if (this._text === '') {
        this._log.textContent = text;
      } else {
        this._log.replaceChildren(...logNodes(text, this._state, this._go, this._trans));
      }
      this._count.textContent = '';
      this._matches = [];
      this._scrollToEnd();
      return;
    }
    const parts: Node[] = [];
    const lower = text.toLowerCase();
    const needle = query.toLowerCase();
    this._matches = [];
    let at = 0;
    for (let hit = lower.indexOf(needle); hit >= 0; hit = lower.indexOf(needle, at)) {
      parts.push(document.createTextNode(text.slice(at, hit)));
      const mark = element('mark', 'jp-kfjupyter-log-match', text.slice(hit, hit + query.length));
      parts.push(mark);
      this._matches.push(mark);
      at = hit + query.length;
    }
    parts.push(document.createTextNode(text.slice(at)));
    this._log.replaceChildren(...parts);
    const count = this._matches.length;
    this._count.textContent = count === 1 ? '1 match' : `${count} matches`;
    if (this._current >= count) {
      this._current = count - 1;
    }
    if (this._current >= 0) {
      this._matches[this._current].classList.add('jp-mod-current');
    }
    this._scrollToEnd();
  }

  /** Move to the next (`1`) or previous (`-1`) match; pauses following. */
  private _jump(direction: 1 | -1): void {
    const count = this._matches.length;
    if (count === 0) {
      return;
    }
    this.setFollowing(false);
    const from = this._current < 0 ? (direction === 1 ? -1 : 0) : this._current;
    if (this._current >= 0) {
      this._matches[this._current].classList.remove('jp-mod-current');
    }
    this._current = (from + direction + count) % count;
    const mark = this._matches[this._current];
    mark.classList.add('jp-mod-current');
    mark.scrollIntoView({ block: 'nearest' });
    this._count.textContent = `${this._current + 1} of ${count}`;
  }

  private _scrollToEnd(): void {
    if (this._following) {
      this._log.scrollTop = this._log.scrollHeight;
    }
  }

  private _setMode(mode: LogMode): void {
    this._mode = mode;
    this.node.dataset.mode = mode;
    this._live.hidden = mode !== 'stream';
  }

  private readonly _title: HTMLElement;
  private readonly _tools: HTMLElement;
  private readonly _live: HTMLElement;
  private readonly _follow: HTMLButtonElement;
  private readonly _search: HTMLInputElement;
  private readonly _count: HTMLElement;
  private readonly _log: HTMLPreElement;
  private _step: string | null = null;
  private _offset = 0;
  private _text = '';
  private _placeholder = '';
  private _following = true;
  private _mode: LogMode = 'idle';
  private _controller: AbortController | null = null;
  private _streamFailed = false;
  /** Whether the stream said the step has ended: its whole log is shown. */
  private _complete = false;
  private _matches: HTMLElement[] = [];
  private _current = -1;
  private _state: ILogState = freshLogState();
  private _go: GoToCell | null = null;
}
