import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/processes.ts';

// npm's own range logic (fastify depends on it), so the check means what EBADENGINE means.
const semver = createRequire(import.meta.url)('semver') as {
  subset(sub: string, sup: string): boolean;
  satisfies(version: string, range: string): boolean;
  validRange(range: string): string | null;
};

interface LockEntry {
  version?: string;
  engines?: { node?: string } | string[];
  hasInstallScript?: boolean;
}

const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  allowScripts?: Record<string, boolean>;
};
const lock = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, LockEntry>;
};
const supported = manifest.engines.node;
const installed = Object.entries(lock.packages).filter(([location]) => location !== '');
const nameOf = (location: string) => location.slice(location.lastIndexOf('node_modules/') + 'node_modules/'.length);

describe('the supported Node versions (package.json engines)', () => {
  it('is a valid range that includes the Node running the tests', () => {
    expect(semver.validRange(supported)).not.toBeNull();
    expect(semver.satisfies(process.version, supported)).toBe(true);
  });

  it('is accepted by every package in package-lock.json, so npm ci prints no EBADENGINE', () => {
    const refusing = installed
      .map(([location, entry]) => ({ location, range: Array.isArray(entry.engines) ? undefined : entry.engines?.node }))
      .filter(({ range }) => range !== undefined && !semver.subset(supported, range))
      .map(({ location, range }) => `${nameOf(location)} wants node ${range}`);
    expect(refusing).toEqual([]);
  });

  it('lists every package with an install script in allowScripts (approved or denied)', () => {
    const decided = new Set(Object.keys(manifest.allowScripts ?? {}).map((entry) => entry.replace(/(.)@.*$/, '$1')));
    const undecided = installed
      .filter(([, entry]) => entry.hasInstallScript)
      .map(([location]) => nameOf(location))
      .filter((name) => !decided.has(name));
    expect(undecided).toEqual([]);
  });
});
