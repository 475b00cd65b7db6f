import { describe, expect, it } from 'vitest';
import { roundLatency } from '../../src/delivery-log/service.ts';
import { systemClock } from '../../src/domain/clock.ts';
import { createMetrics } from '../../src/observability/metrics.ts';

describe('GET /metrics names', () => {
  it('carry one switchboard_ prefix, the process figures included, and counters end in _total', async () => {
    const metrics = createMetrics(async () => ({ pending: 0, oldestPendingCreatedAt: null, awaitingFanout: 0 }), systemClock);
    metrics.attemptFinished(true, 12);
    const text = await metrics.render();
    const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => ({ name: name!, type: type! }));
    expect(types.length).toBeGreaterThan(10);
    for (const { name, type } of types) {
      expect(name).toMatch(/^switchboard_[a-z0-9_]+$/);
      expect(name).not.toMatch(/switchboard_.*switchboard_|process_process|nodejs_nodejs/);
      if (type === 'counter') expect(name).toMatch(/_total$/);
    }
    const names = types.map(({ name }) => name);
    expect(names).toEqual(expect.arrayContaining(['switchboard_process_cpu_seconds_total', 'switchboard_nodejs_heap_size_total_bytes', 'switchboard_delivery_attempt_duration_seconds']));
  });
});

describe('latency figures in API answers', () => {
  it('are rounded to a tenth of a millisecond, the precision whole-millisecond durations support', () => {
    expect(roundLatency(45.99999999999999)).toBe(46);
    expect(roundLatency(91.99999999999999)).toBe(92);
    expect(roundLatency(12.345)).toBe(12.3);
    expect(roundLatency(0)).toBe(0);
    expect(roundLatency(null)).toBeNull();
  });
});
