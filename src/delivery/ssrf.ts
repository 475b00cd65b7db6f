import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import { buildConnector } from 'undici';
import { isIpLiteral, isPrivateAddress } from '../domain/ip-ranges.ts';

/**
 * The error an attempt fails with when its target is (or resolves to) a refused address. Its message is
 * shown to API callers (test sends, the delivery log), so it never names the address a host name resolved
 * to: that would let a caller map the internal network through DNS.
 */
export class PrivateTargetError extends Error {
  readonly code = 'ERR_PRIVATE_TARGET';
  constructor(kind: 'literal' | 'resolved') {
    super(
      kind === 'literal'
        ? 'target is a private address (refused; SWITCHBOARD_ALLOW_PRIVATE_TARGETS)'
        : 'target resolves to a private address (refused; SWITCHBOARD_ALLOW_PRIVATE_TARGETS)',
    );
  }
}

/** Resolves a host name to all its addresses (dns.lookup with `all: true`); injectable so tests can play DNS. */
export type Resolver = (
  hostname: string,
  options: dns.LookupAllOptions,
  callback: (error: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void,
) => void;

const systemResolver: Resolver = (hostname, options, callback) => dns.lookup(hostname, options, callback);

/**
 * A lookup for net/tls.connect that resolves the host and refuses it when any of its addresses is private.
 * The socket then connects to exactly the address checked here, so a second DNS answer (rebinding) cannot
 * slip a private address in between the check and the connection.
 */
export function guardLookup(resolve: Resolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const refused = addresses.find((entry) => isPrivateAddress(entry.address));
      if (refused) return callback(new PrivateTargetError('resolved'), '', 0);
      if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      if (options.all) return (callback as unknown as (error: null, addresses: dns.LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

export const guardedLookup: LookupFunction = guardLookup();

/**
 * undici's connector (TLS keeps the original host name as servername), guarded against private targets unless
 * they are allowed: literal addresses are checked here, host names through guardedLookup.
 */
export function createConnector(options: {
  allowPrivateTargets: boolean;
  connectTimeoutMs: number;
  /** Name resolution for the guard (default: the system's); tests inject one to simulate DNS rebinding. */
  resolve?: Resolver;
}): buildConnector.connector {
  const base = buildConnector({
    timeout: options.connectTimeoutMs,
    ...(options.allowPrivateTargets ? {} : { lookup: options.resolve ? guardLookup(options.resolve) : guardedLookup }),
  } as buildConnector.BuildOptions);
  if (options.allowPrivateTargets) return base;
  return (connectOptions, callback) => {
    const host = connectOptions.hostname.replace(/^\[(.*)\]$/, '$1');
    if (isIpLiteral(host) && isPrivateAddress(host)) {
      callback(new PrivateTargetError('literal'), null);
      return;
    }
    return base(connectOptions, callback);
  };
}
