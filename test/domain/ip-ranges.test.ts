import { describe, expect, it } from 'vitest';
import { isIpLiteral, isPrivateAddress } from '../../src/domain/ip-ranges.ts';

describe('isPrivateAddress', () => {
  it.each([
    '127.0.0.1', '127.255.255.254', '10.0.0.1', '10.255.255.255', '172.16.0.1', '172.31.255.255',
    '192.168.1.1', '169.254.169.254', '169.254.0.1', '0.0.0.0', '0.1.2.3', '100.64.0.1', '100.127.255.255',
    '::1', '::', '[::1]', 'fc00::1', 'fdff:ffff::1', 'fe80::1', 'febf::1', 'fe80::1%eth0',
    '::ffff:127.0.0.1', '::ffff:169.254.169.254', '::ffff:10.1.2.3', '::ffff:7f00:1', '[::ffff:192.168.0.1]',
    '0:0:0:0:0:ffff:a00:1', '0000:0000:0000:0000:0000:0000:0000:0001', '64:ff9b::a9fe:a9fe', '224.0.0.1', '255.255.255.255',
    // cloud metadata, CGNAT, 6to4 relay, benchmarking
    'fd00:ec2::254', '100.100.100.200', '192.88.99.1', '198.18.0.1', '192.0.0.192',
    // IPv4-mapped in its hex and full forms
    '::ffff:a9fe:a9fe', '[::FFFF:7F00:1]', '0:0:0:0:0:ffff:127.0.0.1', '::ffff:0a00:0001',
    // IPv4-translated (::ffff:0:0/96)
    '::ffff:0:7f00:1', '[::ffff:0:7f00:1]', '::ffff:0:127.0.0.1', '::ffff:0:a9fe:a9fe', '0:0:0:0:ffff:0:c0a8:1',
    // NAT64, the well-known prefix with an embedded private IPv4, and the local-use prefix whatever it carries
    '64:ff9b::7f00:1', '64:ff9b::10.0.0.1', '64:ff9b:1::808:808',
    // 6to4 embeds its IPv4 in bits 16..48
    '2002:7f00:1::', '[2002:7f00:1::]', '2002:a9fe:a9fe::1', '2002:c0a8:101:1::1', '2002:0a00:0001::',
    // Teredo: server 127.0.0.1, or client 10.0.0.1 (stored XOR 0xffff)
    '2001:0:7f00:1::1', '2001:0:808:808:0:0:f5ff:fffe',
    // other special-purpose IPv6 blocks
    '100::1', '2001:10::1', '2001:20::1',
  ])('%s is private', (ip) => {
    expect(isPrivateAddress(ip)).toBe(true);
  });

  it.each([
    '8.8.8.8', '1.1.1.1', '172.15.255.255', '172.32.0.0', '192.169.0.1', '100.63.255.255', '100.128.0.0',
    '169.253.255.255', '11.0.0.1', '2001:4860:4860::8888', '2606:4700::1111', '::ffff:8.8.8.8', 'fbff::1', '2a00::1',
    // the same forms embedding a public IPv4 reach that public address
    '::ffff:0:808:808', '64:ff9b::8.8.8.8', '2002:808:808::1', '2001:0:808:808:0:0:f7f7:f7f7', '::ffff:808:808',
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
