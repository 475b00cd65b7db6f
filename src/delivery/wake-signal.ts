/**
 * A coalescing wake-up: any number of wake() calls while nobody waits make the next wait() return at once;
 * wait() otherwise resolves on the next wake() (true) or after timeoutMs (false).
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

  /** Forgets wake-ups that came before now (the caller is about to look for work anyway). */
  clear(): void {
    this.pending = false;
  }

  wait(timeoutMs?: number): Promise<boolean> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => done(false), Math.max(0, timeoutMs));
      const self = this;
      function done(woken: boolean) {
        clearTimeout(timer);
        if (self.waiter === wakeUp) self.waiter = undefined;
        self.pending = false;
        resolve(woken);
      }
      const wakeUp = () => done(true);
      this.waiter = wakeUp;
    });
  }
}
