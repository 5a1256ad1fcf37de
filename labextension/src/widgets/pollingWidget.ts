/**
 * Base for widgets that keep themselves fresh with a Lumino `Poll`: it backs off on errors,
 * stands by while hidden, and stops with the widget.
 */
import { Poll } from '@lumino/polling';
import { Widget } from '@lumino/widgets';

/** The longest wait when backing off: 30 s, or the normal period when that is longer. */
function maxBackoff(intervalMs: number): number {
  return Math.max(30_000, intervalMs);
}

export abstract class PollingWidget extends Widget {
  /** `name` identifies the poll; `intervalMs` is the normal refresh period. */
  protected constructor(name: string, intervalMs: number) {
    super();
    // The first tick runs asynchronously, after the subclass constructor has finished.
    this.poll = new Poll({
      factory: () => this.tick(),
      frequency: { interval: intervalMs, backoff: true, max: maxBackoff(intervalMs) },
      standby: 'when-hidden',
      name
    });
  }

  /**
   * Change the normal refresh period (the poll keeps its backoff and standby): it fetches now and
   * then every `intervalMs`, rather than waiting out the old period first.
   */
  setInterval(intervalMs: number): void {
    if (this.poll.frequency.interval === intervalMs) {
      return;
    }
    this.poll.frequency = {
      ...this.poll.frequency,
      interval: intervalMs,
      max: maxBackoff(intervalMs)
    };
    void this.poll.refresh();
  }

  /** Fetch now instead of at the next tick. */
  async refresh(): Promise<void> {
    await this.poll.refresh();
    await this.poll.tick;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.poll.dispose();
    super.dispose();
  }

  /** One refresh; throw to make the poll back off. */
  protected abstract tick(): Promise<void>;

  protected readonly poll: Poll;
}
