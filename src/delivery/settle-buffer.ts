/**
 * Collects items and writes them in batches: at once when `maxBatch` are waiting, else after `delayMs`.
 * One write runs at a time; items that arrive meanwhile form the next batch, so batches grow with the load.
 */
export class BatchBuffer<T> {
  private items: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly write: (batch: T[]) => Promise<void>,
    private readonly maxBatch: number,
    private readonly delayMs: number,
    /** Called each time the buffer becomes empty with no write running. */
    private readonly onEmpty?: () => void,
  ) {}

  get size(): number {
    return this.items.length;
  }

  /** Nothing is waiting and no write runs. */
  get empty(): boolean {
    return this.items.length === 0 && this.running === undefined;
  }

  add(item: T): void {
    this.items.push(item);
    if (this.running) return;
    if (this.items.length >= this.maxBatch) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), this.delayMs);
  }

  /** Writes everything waiting, including items added while it runs. */
  async drain(): Promise<void> {
    this.kick();
    while (this.running) await this.running;
  }

  private kick(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running || this.items.length === 0) return;
    this.running = (async () => {
      try {
        while (this.items.length > 0) await this.write(this.items.splice(0, this.maxBatch));
      } finally {
        this.running = undefined;
        if (this.items.length === 0) this.onEmpty?.();
      }
    })();
  }
}
