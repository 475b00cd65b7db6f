import { describe, expect, it } from 'vitest';
import { isIpLiteral, isPrivateAddress } from '../../src/domain/ip-ranges.ts';

describe('isPrivateAddress', () => {
  it.each([
    '127.0.0.1', '127.255.255.254', '10.0.0.1', '10.255.255.255', '172.16.0.1', '172.31.255.255',
    '192.168.1.1', '169.254.169.254', '169.254.0.1', '0.0.0.0', '0.1.2.3', '100.64.0.1', '100.127.255.255',
    '::1', '::', '[::1]', 'fc00::1', 'fdff:ffff::1', 'fe80::1', 'febf::1', 'fe80::1%eth0',
    '::ffff:127.0.0.1', '::ffff:169.254.169.254', '::ffff:10.1.2.3', '::ffff:7f00:1', '[::ffff:192.168.0.1]',
    '0:0:0:0:0:ffff:a00:1', '0000:0000:0000:0000:0000:0000:0000:0001', '64:ff9b::a9fe:a9fe', '224.0.0.1', '255.255.255.255',
  ])('%s is private', (ip) => {
    expect(isPrivateAddress(ip)).toBe(true);
  });

  it.each([
    '8.8.8.8', '1.1.1.1', '172.15.255.255', '172.32.0.0', '192.169.0.1', '100.63.255.255', '100.128.0.0',
    '169.253.255.255', '11.0.0.1', '2001:4860:4860::8888', '2606:4700::1111', '::ffff:8.8.8.8', 'fbff::1', '2a00::1',
  ])('%s is public', (ip) => {
    expect(isPrivateAddress(ip)).toBe(false);
  });

  it('answers false for anything that is not an IP literal', () => {
    for (const text of ['example.com', 'localhost', '', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1::2::3', 'gggg::1', '1:2:3:4:5:6:7:8:9']) {
      expect(isPrivateAddress(text)).toBe(false);
      expect(isIpLiteral(text)).toBe(false);
    }
    expect(isIpLiteral('[2001:db8::1]')).toBe(true);
    expect(isIpLiteral('1:2:3:4:5:6:7:8')).toBe(true);
  });
});
