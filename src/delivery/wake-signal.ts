/**
 * A coalescing wake-up: any number of wake() calls while nobody waits make the next wait() return at once;
 * wait() otherwise resolves on the next wake() or after timeoutMs.
 */
export class WakeSignal {
  private pending = false;
  private waiter: (() => void) | undefined;

  wake(): void {
    this.pending = true;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }

  /** Someone is waiting now (a wait() that did not return at once and has not ended yet). */
  get waiting(): boolean {
    return this.waiter !== undefined;
  }

  /** Forgets wake-ups that came before now (the caller is about to look for work anyway). */
  clear(): void {
    this.pending = false;
  }

  wait(timeoutMs?: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(done, Math.max(0, timeoutMs));
      const self = this;
      function done() {
        clearTimeout(timer);
        if (self.waiter === done) self.waiter = undefined;
        self.pending = false;
        resolve();
      }
      this.waiter = done;
    });
  }
}
