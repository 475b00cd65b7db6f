import type { Clock } from '../domain/clock.ts';
import { Backoff } from '../domain/backoff.ts';
import { WakeSignal } from './wake-signal.ts';

/**
 * The loop that keeps a worker's slots fed, always in one mode:
 * - STARTING: before the first round.
 * - CLAIMING: claiming due deliveries (retries, rows no worker took at their fan-out). First in every round.
 * - DISPATCHING: turning new events' fan-outs into delivery rows, the ones that fit leased to this worker.
 * - FULL: the slots held are near the limit; waits for one to free.
 * - IDLE: nothing more is due for this worker; waits for a notification, a freed slot or the next due time.
 * - STOPPED: stop() was called; the loop has ended or ends after the statement it is in.
 * Every change goes through setMode, which refuses a transition not in TRANSITIONS.
 */
export type FetchMode = 'STARTING' | 'CLAIMING' | 'DISPATCHING' | 'FULL' | 'IDLE' | 'STOPPED';

const TRANSITIONS: Record<FetchMode, readonly FetchMode[]> = {
  // Nothing is held at the start, so the first round cannot be FULL.
  STARTING: ['CLAIMING', 'DISPATCHING', 'IDLE', 'STOPPED'],
  CLAIMING: ['CLAIMING', 'DISPATCHING', 'FULL', 'IDLE', 'STOPPED'],
  DISPATCHING: ['CLAIMING', 'DISPATCHING', 'FULL', 'IDLE', 'STOPPED'],
  FULL: ['CLAIMING', 'DISPATCHING', 'FULL', 'IDLE', 'STOPPED'],
  IDLE: ['CLAIMING', 'DISPATCHING', 'FULL', 'IDLE', 'STOPPED'],
  STOPPED: [],
};

/** What the loop drives: the worker's room and the storage statements that fill it. Each may throw. */
export interface WorkSource {
  /** Claims worth asking for now, and the endpoints that have no room. */
  room(): { free: number; fullEndpoints: string[] };
  /** Claims up to `limit` due deliveries; `again`: more may be due right now (a full batch, a round not finished). */
  claim(limit: number, fullEndpoints: string[]): Promise<{ again: boolean }>;
  /** Creates new events' deliveries, taking up to `limit`; `more`: fan-outs may still be waiting. */
  dispatch(limit: number, fullEndpoints: string[]): Promise<{ more: boolean }>;
  /** When the earliest delivery of the endpoints with room comes due; null if none. */
  nextDueAt(fullEndpoints: string[]): Promise<Date | null>;
  /** A statement failed (the loop pauses and tries again). */
  failed(what: 'claim' | 'dispatch' | 'nextDueAt', error: unknown): void;
}

export interface FetchLoopOptions {
  clock: Clock;
  /** Below this much free room (and with something held) the loop waits in FULL. */
  lowWater: number;
  /** Without any wake-up, look for due work at least this often (retries of workers that died). */
  idlePollMs: number;
  /** While busy with new events, claim at least this often even when nothing said there is due work. */
  recheckDueMs: number;
  /** Held claims now (FULL is entered only with something held: it would never free otherwise). */
  held(): number;
  /** The loop has just parked: it waits in IDLE with nothing due now (see `parkedAfter`). */
  onParked?(): void;
}

export class FetchLoop {
  private current: FetchMode = 'STARTING';
  private readonly signal = new WakeSignal();
  /** Deliveries may have come due since the last claim came back short. */
  private claimWanted = true;
  /** New events may be waiting for their delivery rows. */
  private fanoutWanted = true;
  private lastClaimAt = -Infinity;
  private readonly claimBackoff: Backoff;
  private readonly dispatchBackoff: Backoff;
  /** Endpoints that were full when the loop went idle: a slot of theirs freeing wakes it. */
  private idleFull = new Set<string>();
  private running: Promise<void> | undefined;
  private dueTimer: NodeJS.Timeout | undefined;
  private dueTimerAt = Infinity;
  /** How many times the loop has parked; a round asked for by `requestRound` ends in a park numbered above it. */
  private parks = 0;
  /** The current idle wait is a park: nothing was due at the clock's now and no failed statement waits to retry. */
  private parked = false;

  constructor(
    private readonly source: WorkSource,
    private readonly options: FetchLoopOptions,
  ) {
    this.claimBackoff = new Backoff(options.clock);
    this.dispatchBackoff = new Backoff(options.clock);
  }

  get mode(): FetchMode {
    return this.current;
  }

  start(): Promise<void> {
    this.running ??= this.run();
    return this.running;
  }

  /** Ends the loop; resolves when the statement it was in has returned. */
  async stop(): Promise<void> {
    this.setMode('STOPPED');
    clearTimeout(this.dueTimer);
    this.signal.wake();
    await this.running;
  }

  /** Something may be due (a notification, a retry timer, released leases). */
  wantClaim(): void {
    this.claimWanted = true;
    this.signal.wake();
  }

  /** Something comes due at `at` (a retry this worker scheduled): claim then; only the earliest such time is kept. */
  wantClaimAt(at: Date): void {
    const delay = at.getTime() - this.options.clock.now().getTime();
    if (delay <= 0) return this.wantClaim();
    if (at.getTime() >= this.dueTimerAt || this.stopped) return;
    clearTimeout(this.dueTimer);
    this.dueTimerAt = at.getTime();
    this.dueTimer = setTimeout(() => {
      this.dueTimer = undefined;
      this.dueTimerAt = Infinity;
      this.wantClaim();
    }, delay);
    this.dueTimer.unref();
  }

  /**
   * Asks for a full round (a claim and a fan-out) and returns a ticket for `parkedAfter`. A round that began before
   * this call leaves the wake-up pending, so the first park after it belongs to a round begun after this call.
   */
  requestRound(): number {
    this.wantClaim();
    this.wantFanout();
    return this.parks;
  }

  /**
   * Parked now, in a round begun after `requestRound` returned `ticket`: it waits in IDLE for a wake-up, found
   * nothing due at the clock's now, and no failed statement is waiting to be tried again.
   */
  parkedAfter(ticket: number): boolean {
    return this.parks > ticket && this.parked && this.current === 'IDLE' && this.signal.waiting;
  }

  /** Ends an idle wait without asking for anything: the wait's end itself looks for both kinds of work. */
  nudge(): void {
    this.signal.wake();
  }

  /** New events may be waiting for their fan-out. */
  wantFanout(): void {
    this.fanoutWanted = true;
    this.signal.wake();
  }

  /** A slot of `webhookId` freed; `endpointHasRoom`: that endpoint may take more claims now. */
  slotFreed(webhookId: string, endpointHasRoom: boolean): void {
    if (this.current === 'IDLE' && this.idleFull.has(webhookId) && endpointHasRoom) return this.signal.wake();
    if (this.current === 'FULL' && this.source.room().free >= this.options.lowWater) this.signal.wake();
  }

  private setMode(next: FetchMode): void {
    if (this.current === 'STOPPED' && next === 'STOPPED') return;
    if (!TRANSITIONS[this.current].includes(next)) throw new Error(`FetchLoop: no transition from ${this.current} to ${next}`);
    // FULL waits for a held claim to finish: with none held it would wait for nothing.
    if (next === 'FULL' && this.options.held() === 0) throw new Error('FetchLoop: FULL with nothing held');
    this.current = next;
  }

  private get stopped(): boolean {
    return this.current === 'STOPPED';
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const { free, fullEndpoints } = this.source.room();
      if (free < this.options.lowWater && this.options.held() > 0) {
        this.setMode('FULL');
        await this.signal.wait(this.options.idlePollMs);
        continue;
      }
      const limit = free;
      this.signal.clear();
      const now = this.options.clock.now().getTime();
      // A claim that came back short found everything due: until something says otherwise (or a moment passes:
      // other workers' retries and lapsed leases say nothing), asking again is a wasted round trip.
      let claimed = false;
      if ((this.claimWanted || now - this.lastClaimAt >= this.options.recheckDueMs) && this.claimBackoff.ready()) {
        this.setMode('CLAIMING');
        this.claimWanted = false; // cleared first: a wake-up during the statement asks for another claim
        this.lastClaimAt = now;
        try {
          const { again } = await this.source.claim(limit, fullEndpoints);
          this.claimBackoff.succeeded();
          claimed = true;
          if (again) {
            this.claimWanted = true;
            continue;
          }
        } catch (error) {
          this.claimWanted = true;
          if (this.stopped) break;
          this.claimBackoff.failed();
          this.source.failed('claim', error);
        }
      }
      if (this.stopped) break;
      if (this.fanoutWanted && this.dispatchBackoff.ready()) {
        this.setMode('DISPATCHING');
        this.fanoutWanted = false; // cleared first: a notification during the statement asks for another round
        try {
          // Room taken by what the claim just brought is left out by asking the source again.
          const more = await this.source.dispatch(claimed ? this.source.room().free : limit, fullEndpoints);
          this.dispatchBackoff.succeeded();
          if (more.more) this.fanoutWanted = true;
          if (this.fanoutWanted) continue;
        } catch (error) {
          this.fanoutWanted = true;
          if (this.stopped) break;
          this.dispatchBackoff.failed();
          this.source.failed('dispatch', error);
        }
      }
      if (this.stopped) break;
      await this.idle(fullEndpoints);
    }
    this.setMode('STOPPED');
  }

  private async idle(fullEndpoints: string[]): Promise<void> {
    this.setMode('IDLE');
    this.idleFull = new Set(fullEndpoints);
    let wait = this.options.idlePollMs;
    // Whether anything waits to be done now is known only when nextDueAt answered.
    let dueNow = true;
    try {
      const due = await this.source.nextDueAt(fullEndpoints);
      const untilDue = due ? due.getTime() - this.options.clock.now().getTime() : Infinity;
      dueNow = untilDue <= 0;
      wait = Math.min(wait, Math.max(1, untilDue));
    } catch (error) {
      this.source.failed('nextDueAt', error);
    }
    const paused = [this.claimBackoff.remainingMs(), this.dispatchBackoff.remainingMs()].filter((ms) => ms > 0);
    if (paused.length > 0) wait = Math.min(wait, ...paused);
    if (this.stopped) return;
    const waited = this.signal.wait(wait);
    // A wait that returned at once (a wake-up came during the round) is no park either.
    this.parked = !dueNow && paused.length === 0 && this.signal.waiting;
    if (this.parked) {
      this.parks++;
      this.options.onParked?.();
    }
    await waited;
    this.parked = false;
    // Whatever woke it, look for both: a notification can be lost (a reconnect), and waiting for the fan-out's
    // own would leave events without deliveries for as long as other wake-ups keep coming.
    this.claimWanted = true;
    this.fanoutWanted = true;
    this.idleFull = new Set();
  }
}
