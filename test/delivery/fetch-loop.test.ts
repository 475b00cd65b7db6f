import { describe, expect, it, vi } from 'vitest';
import { FetchLoop, type FetchMode, type WorkSource } from '../../src/delivery/fetch-loop.ts';

/** A scripted source: claims and dispatches answer from queues of results; every call is recorded with the mode. */
function scriptedSource(script: {
  claims: boolean[];
  dispatches: boolean[];
  free?: () => number;
  failClaims?: number;
  afterClaim?: () => void;
  nextDue?: () => Date | null;
}) {
  const calls: string[] = [];
  let loop: FetchLoop | undefined;
  let failClaims = script.failClaims ?? 0;
  let idleCalls = 0;
  let onIdle!: () => void;
  const idle = new Promise<void>((resolve) => (onIdle = resolve));
  const source: WorkSource = {
    room: () => ({ free: script.free?.() ?? 10, fullEndpoints: [] }),
    async claim(limit) {
      calls.push(`claim(${limit}) in ${loop!.mode}`);
      if (failClaims-- > 0) throw new Error('database away');
      script.afterClaim?.();
      return { again: script.claims.shift() ?? false };
    },
    async dispatch(limit) {
      calls.push(`dispatch(${limit}) in ${loop!.mode}`);
      return { more: script.dispatches.shift() ?? false };
    },
    async nextDueAt() {
      calls.push(`nextDueAt in ${loop!.mode}`);
      if (++idleCalls === 1) onIdle();
      return script.nextDue?.() ?? null;
    },
    failed(what) {
      calls.push(`failed ${what}`);
    },
  };
  return { source, calls, idle, attach: (created: FetchLoop) => (loop = created) };
}

const options = (held = () => 0) => ({ clock: { now: () => new Date() }, lowWater: 2, idlePollMs: 60_000, recheckDueMs: 60_000, held });

describe('FetchLoop', () => {
  it('claims first, claims again while batches come back full, then dispatches, then goes idle', async () => {
    const scripted = scriptedSource({ claims: [true, false], dispatches: [true, false] });
    const loop = scripted.attach(new FetchLoop(scripted.source, options()));
    expect(loop.mode).toBe<FetchMode>('STARTING');
    void loop.start();
    await scripted.idle;
    expect(loop.mode).toBe<FetchMode>('IDLE');
    // The second dispatch comes without a claim in between: the recheck interval has not passed.
    expect(scripted.calls).toEqual([
      'claim(10) in CLAIMING',
      'claim(10) in CLAIMING',
      'dispatch(10) in DISPATCHING',
      'dispatch(10) in DISPATCHING',
      'nextDueAt in IDLE',
    ]);
    await loop.stop();
    expect(loop.mode).toBe<FetchMode>('STOPPED');
  });

  it('waits in FULL while the room is below the low-water mark and resumes when a slot frees', async () => {
    let free = 10;
    // The first claim fills the room (a full batch: claim again), leaving less than the low-water mark.
    const scripted = scriptedSource({ claims: [true], dispatches: [], free: () => free, afterClaim: () => (free = free === 10 ? 1 : free) });
    const loop = scripted.attach(new FetchLoop(scripted.source, options(() => 5)));
    void loop.start();
    for (let i = 0; i < 10 && loop.mode !== 'FULL'; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(loop.mode).toBe<FetchMode>('FULL');
    expect(scripted.calls).toEqual(['claim(10) in CLAIMING']);
    loop.slotFreed('any', true); // still below the mark: stays FULL
    free = 3;
    loop.slotFreed('any', true);
    await scripted.idle;
    expect(scripted.calls.slice(1, 3)).toEqual(['claim(3) in CLAIMING', 'dispatch(3) in DISPATCHING']);
    await loop.stop();
  });

  it('after a failed claim, still dispatches and pauses the claims on the backoff', async () => {
    const scripted = scriptedSource({ claims: [], dispatches: [], failClaims: 1 });
    const loop = scripted.attach(new FetchLoop(scripted.source, options()));
    void loop.start();
    await scripted.idle;
    expect(scripted.calls).toEqual(['claim(10) in CLAIMING', 'failed claim', 'dispatch(10) in DISPATCHING', 'nextDueAt in IDLE']);
    await loop.stop();
  });

  it('claims again when a retry it was told about comes due, not before', async () => {
    // The retry timer is a real setTimeout: faked here, so the test moves time instead of waiting for it.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const scripted = scriptedSource({ claims: [], dispatches: [] });
      const loop = scripted.attach(new FetchLoop(scripted.source, options()));
      void loop.start();
      await scripted.idle;
      const claims = () => scripted.calls.filter((call) => call.startsWith('claim')).length;
      loop.wantClaimAt(new Date(Date.now() + 50));
      loop.wantClaimAt(new Date(Date.now() + 60_000)); // later than the one kept: ignored
      await vi.advanceTimersByTimeAsync(49);
      expect(claims()).toBe(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(claims()).toBe(2);
      await loop.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses a transition out of STOPPED and ends without another statement', async () => {
    const scripted = scriptedSource({ claims: [], dispatches: [] });
    const loop = scripted.attach(new FetchLoop(scripted.source, options()));
    await loop.stop();
    expect(loop.mode).toBe<FetchMode>('STOPPED');
    await loop.start();
    expect(scripted.calls).toEqual([]);
    expect(() => (loop as unknown as { setMode(mode: FetchMode): void }).setMode('CLAIMING')).toThrow(/no transition from STOPPED/);
  });

  describe('parking (what the worker\'s idle() waits for)', () => {
    /** Options whose onParked resolves the promise returned by nextPark(). */
    function parkingOptions() {
      let parked: (() => void) | undefined;
      return {
        options: { ...options(), onParked: () => parked?.() },
        nextPark: () => new Promise<void>((resolve) => (parked = resolve)),
      };
    }

    it('parks after a round begun after requestRound, not in the round that was running', async () => {
      const scripted = scriptedSource({ claims: [], dispatches: [] });
      const parking = parkingOptions();
      const loop = scripted.attach(new FetchLoop(scripted.source, parking.options));
      const firstPark = parking.nextPark();
      void loop.start();
      await firstPark;
      const ticket = loop.requestRound();
      // The wake-up ended the park: not parked for this ticket until a new round has looked for work.
      expect(loop.parkedAfter(ticket)).toBe(false);
      const before = scripted.calls.length;
      await parking.nextPark();
      expect(loop.parkedAfter(ticket)).toBe(true);
      expect(scripted.calls.slice(before)).toEqual(['claim(10) in CLAIMING', 'dispatch(10) in DISPATCHING', 'nextDueAt in IDLE']);
      // A wake-up that is not a round's end (a notification) unparks it.
      loop.nudge();
      expect(loop.parkedAfter(ticket)).toBe(false);
      await loop.stop();
    });

    it('does not count a wait shortened by work due now, only the park once nothing is due', async () => {
      let due: Date | null = new Date(Date.now() - 1_000);
      const scripted = scriptedSource({ claims: [], dispatches: [], nextDue: () => due });
      let parks = 0;
      const loop = scripted.attach(new FetchLoop(scripted.source, { ...options(), onParked: () => parks++ }));
      void loop.start();
      // Something is due now: the loop keeps going round without parking.
      while (scripted.calls.filter((call) => call.startsWith('nextDueAt')).length < 3) await new Promise((resolve) => setImmediate(resolve));
      expect(parks).toBe(0);
      expect(loop.parkedAfter(-1)).toBe(false);
      due = new Date(Date.now() + 60_000);
      while (parks === 0) await new Promise((resolve) => setImmediate(resolve));
      expect(loop.parkedAfter(0)).toBe(true);
      await loop.stop();
    });

    it('does not park while a failed statement waits for its backoff', async () => {
      const scripted = scriptedSource({ claims: [], dispatches: [], failClaims: 1 });
      let parks = 0;
      const loop = scripted.attach(new FetchLoop(scripted.source, { ...options(), onParked: () => parks++ }));
      void loop.start();
      await scripted.idle;
      // The claim failed: the idle wait lasts only the backoff, and that is not a park.
      await new Promise((resolve) => setImmediate(resolve));
      expect(loop.parkedAfter(-1)).toBe(false);
      while (parks === 0) await new Promise((resolve) => setImmediate(resolve));
      expect(scripted.calls.filter((call) => call.startsWith('claim'))).toHaveLength(2);
      expect(loop.parkedAfter(0)).toBe(true);
      await loop.stop();
    });
  });
});
