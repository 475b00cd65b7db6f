import { describe, expect, it } from 'vitest';
import { parseDuration, parseDurationList } from '../../src/domain/duration.ts';
import { loadConfig, privateTargetsNotice } from '../../src/config.ts';

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
  it('holds overrides to the same rules as the variables, and derives defaults from them', () => {
    expect(() => loadConfig({}, { leaseMs: 500 })).toThrow(/^SWITCHBOARD_LEASE: must be at least 1s longer than SWITCHBOARD_DELIVERY_TIMEOUT/);
    expect(() => loadConfig({}, { maxInFlight: 0 })).toThrow(/^SWITCHBOARD_MAX_IN_FLIGHT: 0 must be a whole number/);
    expect(() => loadConfig({}, { retryScheduleMs: [] })).toThrow(/^SWITCHBOARD_RETRY_SCHEDULE:/);
    expect(() => loadConfig({}, { heartbeatMs: 10 })).toThrow(/^SWITCHBOARD_HEARTBEAT:/);
    expect(() => loadConfig({}, { port: 70_000 })).toThrow(/^PORT:/);
    // A longer timeout given as an override moves the lease and idle defaults with it, as the variable does.
    const slow = loadConfig({}, { deliveryTimeoutMs: 120_000 });
    expect([slow.leaseMs, slow.timeouts.idleMs]).toEqual([270_000, 150_000]);
    expect([slow.leaseMs, slow.timeouts.idleMs]).toEqual([
      loadConfig({ SWITCHBOARD_DELIVERY_TIMEOUT: '120s' }).leaseMs,
      loadConfig({ SWITCHBOARD_DELIVERY_TIMEOUT: '120s' }).timeouts.idleMs,
    ]);
    // An explicit override wins over the derived default, and is checked like the rest.
    expect(loadConfig({}, { leaseMs: 40_000 }).leaseMs).toBe(40_000);
    expect(loadConfig({ HOST: '0.0.0.0' }, { allowPrivateTargets: true })).toMatchObject({ allowPrivateTargets: true, privateTargetsDefault: 'configured' });
  });

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

  it('refuses private targets by default when the server listens beyond loopback, allows them on loopback only', () => {
    for (const host of ['0.0.0.0', '::', '10.1.2.3', '192.168.1.5', 'example.com', '[::]']) {
      const config = loadConfig({ HOST: host });
      expect(config.allowPrivateTargets, host).toBe(false);
      expect(config.privateTargetsDefault, host).toBe('refused');
      expect(privateTargetsNotice(config), host).toBeUndefined();
    }
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]']) {
      const config = loadConfig({ HOST: host });
      expect(config.allowPrivateTargets, host).toBe(true);
      expect(config.privateTargetsDefault, host).toBe('loopback');
      expect(privateTargetsNotice(config), host).toMatch(/Private targets allowed: listening on loopback/);
      expect(loadConfig({ HOST: host, NODE_ENV: 'production' }).allowPrivateTargets, host).toBe(false);
    }
    const exposedButAllowed = loadConfig({ HOST: '0.0.0.0', SWITCHBOARD_ALLOW_PRIVATE_TARGETS: 'true' });
    expect(exposedButAllowed.allowPrivateTargets).toBe(true);
    expect(privateTargetsNotice(exposedButAllowed)).toMatch(/SWITCHBOARD_ALLOW_PRIVATE_TARGETS=true/);
    expect(loadConfig({ HOST: '127.0.0.1', SWITCHBOARD_ALLOW_PRIVATE_TARGETS: 'false' }).allowPrivateTargets).toBe(false);
  });

  it('refuses bad values naming the variable', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ SWITCHBOARD_ALLOW_PRIVATE_TARGETS: 'maybe' })).toThrow(/SWITCHBOARD_ALLOW_PRIVATE_TARGETS/);
    expect(() => loadConfig({ SWITCHBOARD_DATA_DIR_LOCK_STALE: '200ms' })).toThrow(/SWITCHBOARD_DATA_DIR_LOCK_STALE: must be at least 1s/);
    expect(() => loadConfig({ SWITCHBOARD_HEARTBEAT: 'often' })).toThrow(/SWITCHBOARD_HEARTBEAT/);
    expect(() => loadConfig({ SWITCHBOARD_HEARTBEAT: '10ms' })).toThrow(/SWITCHBOARD_HEARTBEAT: must be at least 100ms/);
  });
});
