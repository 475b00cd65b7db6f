import { describe, expect, it } from 'vitest';
import { parseDuration, parseDurationList } from '../../src/domain/duration.ts';
import { loadConfig } from '../../src/config.ts';

describe('durations', () => {
  it('reads every unit', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('5d')).toBe(432_000_000);
    expect(parseDuration('1.5s')).toBe(1_500);
    expect(parseDuration('40')).toBe(40);
  });

  it('reads the default retry schedule', () => {
    expect(parseDurationList('1m,5m,15m,1h,6h')).toEqual([60_000, 300_000, 900_000, 3_600_000, 21_600_000]);
  });

  it('names the variable in an error', () => {
    expect(() => parseDurationList('1m,soon', 'SWITCHBOARD_RETRY_SCHEDULE')).toThrow(/SWITCHBOARD_RETRY_SCHEDULE: "soon"/);
  });
});

describe('configuration', () => {
  it('has the contract defaults', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.host).toBe('127.0.0.1');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.deliveryTimeoutMs).toBe(30_000);
    expect(config.retryScheduleMs).toHaveLength(5);
    expect(config.allowPrivateTargets).toBe(true);
    expect(config.heartbeatMs).toBe(2_000);
  });

  it('disallows private targets in production unless told', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).allowPrivateTargets).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', SWITCHBOARD_ALLOW_PRIVATE_TARGETS: 'true' }).allowPrivateTargets).toBe(true);
  });

  it('refuses bad values naming the variable', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ SWITCHBOARD_ALLOW_PRIVATE_TARGETS: 'maybe' })).toThrow(/SWITCHBOARD_ALLOW_PRIVATE_TARGETS/);
    expect(() => loadConfig({ SWITCHBOARD_HEARTBEAT: 'often' })).toThrow(/SWITCHBOARD_HEARTBEAT/);
    expect(() => loadConfig({ SWITCHBOARD_HEARTBEAT: '10ms' })).toThrow(/SWITCHBOARD_HEARTBEAT: must be at least 100ms/);
  });
});
