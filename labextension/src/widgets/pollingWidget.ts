/**
 * Base for widgets that keep themselves fresh with a Lumino `Poll`: it backs off on errors,
 * stands by while hidden, and stops with the widget.
 */
import { Poll } from '@lumino/polling';
import { Widget } from '@lumino/widgets';

export abstract class PollingWidget extends Widget {
  /** `name` identifies the poll; `intervalMs` is the normal refresh period. */
  protected constructor(name: string, intervalMs: number) {
    super();
    // The first tick runs asynchronously, after the subclass constructor has finished.
    this.poll = new Poll({
      factory: () => this.tick(),
      frequency: { interval: intervalMs, backoff: true, max: 30_000 },
      standby: 'when-hidden',
      name
    });
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
