import { invalidInput } from './errors.ts';
import { isPrivateAddress } from './ip-ranges.ts';

export const MAX_TARGET_URL_LENGTH = 2048;

export interface TargetUrlRules {
  /** NODE_ENV=production: only https: targets. */
  httpsOnly: boolean;
  /** SWITCHBOARD_ALLOW_PRIVATE_TARGETS: loopback, private, link-local and other special-purpose addresses may be targets. */
  allowPrivateTargets: boolean;
}

/** Host names that always mean this machine (RFC 6761), refused like 127.0.0.1. */
function isLocalHostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/**
 * Validates a webhook target and returns it normalised by the WHATWG URL parser (lower-case scheme and
 * host, default port dropped, IPv4 shorthands expanded, path percent-encoded), which is what is stored
 * and what is requested. Host names that are not IP literals are checked again by the sender once
 * resolved, since DNS can change after this check.
 */
export function normaliseTargetUrl(input: string, rules: TargetUrlRules, field = 'targetUrl'): string {
  const text = input.trim();
  if (text === '') throw invalidInput(field, 'must not be empty');
  if (text.length > MAX_TARGET_URL_LENGTH) {
    throw invalidInput(field, `must be at most ${MAX_TARGET_URL_LENGTH} characters (got ${text.length})`);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalidInput(field, `${JSON.stringify(text)} is not an absolute URL (expected e.g. https://example.com/webhooks)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalidInput(field, `must use http: or https: (got ${url.protocol})`);
  }
  if (rules.httpsOnly && url.protocol !== 'https:') {
    throw invalidInput(field, 'must use https: in production');
  }
  if (url.username || url.password) {
    throw invalidInput(field, 'must not contain a user name or password; the signature authenticates each request');
  }
  if (!rules.allowPrivateTargets && (isPrivateAddress(url.hostname) || isLocalHostName(url.hostname))) {
    throw invalidInput(
      field,
      `${url.hostname} is a loopback, private or link-local address (or another special-purpose one, such as a metadata service), which is not allowed as a target (SWITCHBOARD_ALLOW_PRIVATE_TARGETS)`,
    );
  }
  const normalised = url.href;
  if (normalised.length > MAX_TARGET_URL_LENGTH) {
    throw invalidInput(field, `must be at most ${MAX_TARGET_URL_LENGTH} characters once normalised (got ${normalised.length})`);
  }
  return normalised;
}
