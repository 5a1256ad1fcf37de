/**
 * Live step logs over server-sent events: `GET runs/{id}/logs/{step}/stream?offset=N`.
 *
 * The stream is read with `ServerConnection.makeRequest` (so the server's auth header is sent)
 * and `response.body.getReader()`; `log` events carry `{text, next_offset}`, the `end` event
 * `{status}` once the step has finished; `: keepalive` comments are skipped. An
 * `AbortController` stops it when the view closes.
 */
import { ServerConnection } from '@jupyterlab/services';

import { ApiError, apiUrl, readError } from './api';
import { isLogEnd, isLogEvent } from './generated/restGuards';
import { ILogEvent } from './generated/restTypes';

/** One event of a server-sent events stream. */
export interface IServerEvent {
  event: string;
  data: string;
}

/**
 * Splits a server-sent events byte stream (decoded to text, in arbitrary pieces) into events.
 *
 * Follows the EventSource parsing rules that matter here: events end at a blank line, `data`
 * lines join with newlines, lines starting with `:` are comments, the event name defaults to
 * `message`.
 */
export class ServerEventParser {
  /** Feed the next piece of text; answers the events it completed. */
  push(text: string): IServerEvent[] {
    this._buffer += text;
    const events: IServerEvent[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this._buffer);
      if (match === null) {
        break;
      }
      const line = this._buffer.slice(0, match.index);
      this._buffer = this._buffer.slice(match.index + match[0].length);
      if (line === '') {
        if (this._data.length > 0) {
          events.push({ event: this._event || 'message', data: this._data.join('\n') });
        }
        this._event = '';
        this._data = [];
      } else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) {
          value = value.slice(1);
        }
        if (field === 'event') {
          this._event = value;
        } else if (field === 'data') {
          this._data.push(value);
        }
      }
    }
    return events;
  }

  private _buffer = '';
  private _event = '';
  private _data: string[] = [];
}

/**
 * Follow the log of `step` from byte `offset`, calling `onLog` for every chunk.
 *
 * Resolves with the step's final status when the server sends `end`, or null when the stream
 * closed without it (or was aborted through `signal`). Rejects with an `ApiError` when the stream
 * cannot be opened or sends something unexpected, so that the caller can fall back to polling.
 */
export async function streamStepLog(
  runId: string,
  step: string,
  offset: number,
  onLog: (chunk: ILogEvent) => void,
  signal: AbortSignal,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<string | null> {
  const path = `runs/${encodeURIComponent(runId)}/logs/${encodeURIComponent(step)}/stream?offset=${offset}`;
  const init: RequestInit = {
    signal,
    cache: 'no-cache',
    headers: { Accept: 'text/event-stream' }
  };
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(apiUrl(path, settings), init, settings);
  } catch (error) {
    if (signal.aborted) {
      return null;
    }
    throw new ApiError(`Cannot reach the Jupyter server: ${String(error)}`, 0);
  }
  if (!response.ok) {
    throw new ApiError(await readError(response), response.status);
  }
  const type = response.headers.get('Content-Type') ?? '';
  if (!type.startsWith('text/event-stream') || response.body === null) {
    throw new ApiError(`The log stream answered ${type || 'no content type'}`, response.status);
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const parser = new ServerEventParser();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        return null;
      }
      for (const event of parser.push(decoder.decode(value, { stream: true }))) {
        const data: unknown = JSON.parse(event.data);
        if (event.event === 'log' && isLogEvent(data)) {
          onLog(data);
        } else if (event.event === 'end') {
          return isLogEnd(data) ? data.status : '';
        }
      }
    }
  } catch (error) {
    if (signal.aborted) {
      return null;
    }
    throw new ApiError(`The log stream broke: ${String(error)}`, 0);
  } finally {
    void reader.cancel().catch(() => undefined);
  }
}
