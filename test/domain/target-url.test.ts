import { describe, expect, it } from 'vitest';
import { normaliseTargetUrl, type TargetUrlRules } from '../../src/domain/target-url.ts';
import { SwitchboardError } from '../../src/domain/errors.ts';

const development: TargetUrlRules = { httpsOnly: false, allowPrivateTargets: true };
const production: TargetUrlRules = { httpsOnly: true, allowPrivateTargets: false };

function refusal(input: string, rules: TargetUrlRules): string {
  try {
    normaliseTargetUrl(input, rules);
  } catch (error) {
    expect(error).toBeInstanceOf(SwitchboardError);
    expect((error as SwitchboardError).field).toBe('targetUrl');
    return (error as SwitchboardError).message;
  }
  throw new Error(`${input} was accepted`);
}

describe('target URLs', () => {
  it('normalises with the WHATWG parser', () => {
    expect(normaliseTargetUrl('  HTTPS://Example.COM:443/Hooks?a=1  ', production)).toBe('https://example.com/Hooks?a=1');
    expect(normaliseTargetUrl('http://example.com', development)).toBe('http://example.com/');
    expect(normaliseTargetUrl('http://example.com/a b', development)).toBe('http://example.com/a%20b');
    expect(normaliseTargetUrl('http://0x7f.1:8080/x', development)).toBe('http://127.0.0.1:8080/x');
  });

  it('refuses what is not an absolute http(s) URL', () => {
    expect(refusal('', development)).toMatch(/must not be empty/);
    expect(refusal('/relative/path', development)).toMatch(/not an absolute URL/);
    expect(refusal('example.com/hook', development)).toMatch(/not an absolute URL/);
    expect(refusal('ftp://example.com/', development)).toMatch(/http: or https: \(got ftp:\)/);
    expect(refusal('javascript:alert(1)', development)).toMatch(/http: or https:/);
    expect(refusal('https://user:pw@example.com/', development)).toMatch(/user name or password/);
  });

  it('bounds the length at 2048 characters, before and after normalising', () => {
    const base = 'https://example.com/';
    expect(normaliseTargetUrl(base + 'a'.repeat(2048 - base.length), development)).toHaveLength(2048);
    expect(refusal(base + 'a'.repeat(2049 - base.length), development)).toMatch(/at most 2048 characters \(got 2049\)/);
    // Spaces grow to %20 when normalised.
    expect(refusal(base + ' x'.repeat(1000), development)).toMatch(/once normalised/);
  });

  it('requires https and public hosts in production', () => {
    expect(refusal('http://example.com/', production)).toMatch(/https: in production/);
    for (const url of [
      'https://127.0.0.1/', 'https://169.254.169.254/latest/meta-data', 'https://[::1]/', 'https://10.0.0.5:8443/',
      'https://[::ffff:192.168.0.1]/', 'https://2130706433/', 'https://localhost/', 'https://api.localhost./', 'https://[fd00::1]/',
    ]) {
      expect(refusal(url, production)).toMatch(/loopback, private or link-local/);
    }
    expect(normaliseTargetUrl('https://8.8.8.8/hook', production)).toBe('https://8.8.8.8/hook');
    expect(normaliseTargetUrl('http://127.0.0.1:4000/hook', development)).toBe('http://127.0.0.1:4000/hook');
  });
});
