/**
 * Classifies IP address literals, so webhook targets cannot reach the host itself, the private network
 * or a cloud metadata service (SSRF). Used at create time on literal hosts and by the sender on the
 * addresses a host name resolves to.
 */

/** [first address as a 32-bit number, prefix length] */
const PRIVATE_IPV4_RANGES: ReadonlyArray<readonly [string, number]> = [
  ['0.0.0.0', 8], // "this network"; 0.0.0.0 reaches the local host on Linux
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, incl. the 169.254.169.254 metadata service
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['192.0.0.0', 24], // IETF protocol assignments (e.g. 192.0.0.192 Oracle metadata)
  ['192.88.99.0', 24], // 6to4 relay anycast: forwards into whatever IPv6 network is behind it
  ['198.18.0.0', 15], // benchmarking, used inside some clouds
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, incl. 255.255.255.255 broadcast
];

/** Parses a dotted-quad IPv4 address into a 32-bit unsigned number. */
function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

function ipv4InRange(address: number, base: string, prefix: number): boolean {
  const size = 2 ** (32 - prefix);
  const start = parseIpv4(base)!;
  return address >= start && address < start + size;
}

function isPrivateIpv4(address: number): boolean {
  return PRIVATE_IPV4_RANGES.some(([base, prefix]) => ipv4InRange(address, base, prefix));
}

/** Parses an IPv6 address (with `::`, an embedded IPv4 tail or a `%zone`) into eight 16-bit groups. */
function parseIpv6(text: string): number[] | undefined {
  const address = text.replace(/%.*$/, '');
  if (!address.includes(':')) return undefined;
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const toGroups = (half: string): number[] | undefined => {
    if (half === '') return [];
    const groups: number[] = [];
    const pieces = half.split(':');
    for (let index = 0; index < pieces.length; index++) {
      const piece = pieces[index];
      if (index === pieces.length - 1 && piece.includes('.')) {
        const ipv4 = parseIpv4(piece);
        if (ipv4 === undefined) return undefined;
        groups.push(Math.floor(ipv4 / 65536), ipv4 % 65536);
      } else if (/^[0-9a-f]{1,4}$/i.test(piece)) {
        groups.push(parseInt(piece, 16));
      } else {
        return undefined;
      }
    }
    return groups;
  };
  const head = toGroups(halves[0]);
  const tail = halves.length === 2 ? toGroups(halves[1]) : [];
  if (!head || !tail) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

const allZero = (groups: number[]): boolean => groups.every((group) => group === 0);

/**
 * The IPv4 addresses an IPv6 address reaches or names: IPv4-compatible, IPv4-mapped and IPv4-translated
 * forms reach the IPv4 host itself, NAT64 and 6to4 reach it through a translator or relay, and Teredo
 * names its server and (XOR-obfuscated) client. Each is judged as that IPv4 address would be.
 */
function embeddedIpv4(groups: number[]): number[] {
  const tail = groups[6]! * 65536 + groups[7]!;
  if (allZero(groups.slice(0, 6))) return [tail]; // ::a.b.c.d (IPv4-compatible), :: and ::1 fall in 0.0.0.0/8
  if (allZero(groups.slice(0, 5)) && groups[5] === 0xffff) return [tail]; // ::ffff:a.b.c.d mapped
  if (allZero(groups.slice(0, 4)) && groups[4] === 0xffff && groups[5] === 0) return [tail]; // ::ffff:0:a.b.c.d translated
  if (groups[0] === 0x64 && groups[1] === 0xff9b && allZero(groups.slice(2, 6))) return [tail]; // 64:ff9b::/96 NAT64
  if (groups[0] === 0x2002) return [groups[1]! * 65536 + groups[2]!]; // 2002:aabb:ccdd::/48 6to4
  if (groups[0] === 0x2001 && groups[1] === 0) {
    // Teredo 2001:0:server:…:client-xored
    return [groups[2]! * 65536 + groups[3]!, (groups[6]! ^ 0xffff) * 65536 + (groups[7]! ^ 0xffff)];
  }
  return [];
}

function isPrivateIpv6(groups: number[]): boolean {
  const embedded = embeddedIpv4(groups);
  if (embedded.some(isPrivateIpv4)) return true;
  // These prefixes carry an IPv4 address in their last 32 bits that was judged above: the rest is public.
  if (embedded.length > 0) return false;
  const first = groups[0]!;
  if (first === 0x64 && groups[1] === 0xff9b && groups[2] === 1) return true; // 64:ff9b:1::/48 local-use NAT64
  if (first === 0x100 && allZero(groups.slice(1, 4))) return true; // 100::/64 discard-only
  if (first === 0x2001 && groups[1]! < 0x200) return true; // 2001::/23 IETF protocol assignments (ORCHID, AMT, …)
  if ((first & 0xfe00) === 0xfc00) return true; // fc00::/7 unique local, incl. fd00:ec2::254 (AWS metadata)
  if ((first & 0xffc0) === 0xfe80) return true; // fe80::/10 link-local
  if ((first & 0xffc0) === 0xfec0) return true; // fec0::/10 deprecated site-local
  if ((first & 0xff00) === 0xff00) return true; // ff00::/8 multicast
  return false;
}

/**
 * Whether an IP literal (IPv4 dotted quad, or IPv6 with or without brackets) is loopback, private,
 * link-local, metadata, unspecified, CGNAT, unique-local, multicast or another special-purpose address;
 * IPv6 forms that carry an IPv4 address (mapped, translated, NAT64, 6to4, Teredo) are judged by it.
 * The documentation ranges (192.0.2.0/24, 2001:db8::/32 …) are left alone: they route nowhere.
 * Anything that is not an IP literal answers false.
 */
export function isPrivateAddress(ip: string): boolean {
  const text = ip.trim().replace(/^\[(.*)\]$/, '$1');
  const ipv4 = parseIpv4(text);
  if (ipv4 !== undefined) return isPrivateIpv4(ipv4);
  const ipv6 = parseIpv6(text);
  if (ipv6 !== undefined) return isPrivateIpv6(ipv6);
  return false;
}

/** Whether the text is an IPv4 or IPv6 literal (brackets allowed). */
export function isIpLiteral(host: string): boolean {
  const text = host.trim().replace(/^\[(.*)\]$/, '$1');
  return parseIpv4(text) !== undefined || parseIpv6(text) !== undefined;
}
