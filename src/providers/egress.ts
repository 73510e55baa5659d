// Where a namespaced SecretStore may make Ferry connect: never to loopback, link-local (the cloud
// metadata endpoint), unspecified, private or cluster-internal addresses, and endpoint overrides
// that weaken a provider's own checks only to hosts the admin allow-listed. Checked on the
// resolved address at connect time (guardedLookup), so a DNS answer that changes cannot bypass it.
import dns from 'node:dns';
import { Agent as HttpsAgent } from 'node:https';
import { isIP, type LookupFunction, type NetConnectOpts } from 'node:net';
import type { Duplex } from 'node:stream';
import { ProviderError } from './provider.ts';

/** The rule name errors and docs use (docs/security.md, "Egress of namespaced stores"). */
export const EGRESS_RULE = 'namespaced-store-egress';

interface Range {
  /** Network address as a bigint of 32 (IPv4) or 128 (IPv6) bits. */
  base: bigint;
  bits: number;
  v6: boolean;
  what: string;
}

const V4_RANGES: [string, string][] = [
  ['0.0.0.0/8', 'unspecified ("this network")'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'shared address space (carrier-grade NAT, often pod or service networks)'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local (includes the cloud metadata endpoint 169.254.169.254)'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'IETF protocol assignments'],
  ['192.168.0.0/16', 'private'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved (includes broadcast)'],
];
const V6_RANGES: [string, string][] = [
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['fc00::/7', 'unique-local (private; includes the EC2 metadata endpoint fd00:ec2::254)'],
  ['fe80::/10', 'link-local'],
  ['ff00::/8', 'multicast'],
];

function v4ToBig(ip: string): bigint {
  return ip.split('.').reduce((n, part) => (n << 8n) | BigInt(Number(part)), 0n);
}

function v6ToBig(ip: string): bigint {
  let text = ip.toLowerCase().replace(/%.*$/, '');
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const v4 = v4ToBig(dotted[1]);
    text = `${text.slice(0, -dotted[1].length)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((n, g) => (n << 16n) | BigInt(Number.parseInt(g || '0', 16)), 0n);
}

function parseRange(cidr: string, what: string): Range {
  const [ip = '', bitsText] = cidr.split('/');
  const family = isIP(ip);
  if (!family) throw new Error(`"${cidr}" is not an IP address or CIDR`);
  const v6 = family === 6;
  const width = v6 ? 128 : 32;
  const bits = bitsText === undefined ? width : Number(bitsText);
  if (!/^\d+$/.test(bitsText ?? String(width)) || bits > width)
    throw new Error(`"${cidr}" has an invalid prefix length`);
  const value = v6 ? v6ToBig(ip) : v4ToBig(ip);
  const shift = BigInt(width - bits);
  return { base: (value >> shift) << shift, bits, v6, what };
}

function inRange(range: Range, value: bigint, v6: boolean): boolean {
  if (range.v6 !== v6) return false;
  const shift = BigInt((v6 ? 128 : 32) - range.bits);
  return value >> shift === range.base >> shift;
}

const BLOCKED = [...V4_RANGES.map(([c, w]) => parseRange(c, w)), ...V6_RANGES.map(([c, w]) => parseRange(c, w))];

/**
 * An address as the network sees it: IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d)
 * and NAT64 (64:ff9b::a.b.c.d) IPv6 forms reach the embedded IPv4 address, so they are judged as it.
 */
function normalized(address: string): { value: bigint; v6: boolean } | undefined {
  const family = isIP(address.replace(/%.*$/, ''));
  if (family === 4) return { value: v4ToBig(address), v6: false };
  if (family !== 6) return undefined;
  const value = v6ToBig(address);
  const high = value >> 32n;
  const embedded = high === 0xffffn || high === 0x64ff9b0000000000000000n || (high === 0n && value > 1n);
  return embedded ? { value: value & 0xffffffffn, v6: false } : { value, v6: true };
}

/** Why a namespaced store may not reach `address` (an IP literal), or undefined when it may. */
export function blockedRange(address: string): string | undefined {
  const ip = normalized(address);
  if (!ip) return 'not an IP address';
  return BLOCKED.find((r) => inRange(r, ip.value, ip.v6))?.what;
}

/** The admin's allow-list: host names, `*.suffix` patterns, IP addresses and CIDRs. */
export class EgressAllowList {
  private readonly names = new Set<string>();
  private readonly suffixes: string[] = [];
  private readonly ranges: Range[] = [];

  /** Parses `--namespaced-store-allowed-hosts` entries; throws naming the first bad one. */
  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const entry = raw.trim().toLowerCase().replace(/\.$/, '');
      if (!entry) continue;
      const ip = entry.replace(/^\[|\](?=\/|$)/g, '').split('/')[0] ?? '';
      if (isIP(ip)) {
        this.ranges.push(parseRange(entry.replace(/^\[|\](?=\/|$)/g, ''), 'allow-listed'));
      } else if (/^\*\.[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(entry)) {
        this.suffixes.push(entry.slice(1));
      } else if (/^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(entry)) {
        this.names.add(entry);
      } else {
        throw new Error(`"${raw}" is not a host name, *.suffix, IP address or CIDR`);
      }
    }
  }

  /** The host name (or IP literal) is listed by name, suffix, or as an address in a listed CIDR. */
  allowsHost(host: string): boolean {
    const h = bare(host);
    if (isIP(h)) return this.allowsAddress(h);
    return this.names.has(h) || this.suffixes.some((s) => h.endsWith(s));
  }

  allowsAddress(address: string): boolean {
    const ip = normalized(address);
    if (!ip) return false;
    return this.ranges.some((r) => inRange(r, ip.value, ip.v6));
  }
}

/** Lower case, without IPv6 brackets or a trailing dot. */
function bare(host: string): string {
  return host
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
}

/**
 * What one store may reach. ClusterSecretStores (admin-written) get `unrestricted`; namespaced
 * SecretStores get the admin's allow-list. Providers call checkUrl/checkOverride when building a
 * client and connect through guardedLookup.
 */
export class EgressPolicy {
  static readonly unrestricted = new EgressPolicy(undefined);

  /** undefined: no restriction (a ClusterSecretStore, or `ferry render` on a workstation). */
  readonly allowList: EgressAllowList | undefined;

  constructor(allowList: EgressAllowList | undefined) {
    this.allowList = allowList;
  }

  /** Why `host` (as resolved to `address`) is refused, or undefined when it may be reached. */
  refusal(host: string, address: string): string | undefined {
    if (!this.allowList || this.allowList.allowsHost(host) || this.allowList.allowsAddress(address)) return undefined;
    return blockedRange(address);
  }

  /**
   * Refuses a URL whose spelled host is a blocked IP literal or a name that is loopback by
   * definition (localhost). Names are judged again, resolved, at connect time (guardedLookup).
   */
  checkUrl(field: string, url: string): void {
    if (!this.allowList) return;
    const host = hostOf(field, url);
    const literal = isIP(host) ? host : /^localhost$|\.localhost$/.test(host) ? '127.0.0.1' : undefined;
    if (literal === undefined) return;
    const why = this.refusal(host, literal);
    if (why) throw refused(field, host, literal, why);
  }

  /** An endpoint override that weakens a provider's own checks: a namespaced store needs its host allow-listed. */
  checkOverride(field: string, hostOrUrl: string): void {
    if (!this.allowList) return;
    const host = /^[a-z][a-z0-9+.-]*:\/\//i.test(hostOrUrl) ? hostOf(field, hostOrUrl) : bare(hostOrUrl);
    if (this.allowList.allowsHost(host)) return;
    throw new ProviderError(
      'Invalid',
      `${field}: a SecretStore may set this only to a host the admin allow-listed (${EGRESS_RULE}: --namespaced-store-allowed-hosts); "${host}" is not listed. Use a ClusterSecretStore or ask the admin to list the host`,
    );
  }

  /**
   * A `lookup` for net/tls connect (undici's `connect` option, an https.Agent): resolves as usual
   * and fails the connection when any address is refused, naming `field`.
   */
  guardedLookup(field: string): LookupFunction | undefined {
    if (!this.allowList) return undefined;
    return ((hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
      dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) return callback(err);
        for (const a of addresses) {
          const why = this.refusal(hostname, a.address);
          if (why) return callback(refused(field, hostname, a.address, why));
        }
        if (options.all) return callback(null, addresses);
        const first = addresses[0];
        return first
          ? callback(null, first.address, first.family)
          : callback(Object.assign(new Error('no address'), { code: 'ENOTFOUND' }));
      });
    }) as LookupFunction;
  }
}

/**
 * An https.Agent for SDKs that take one (Azure's pipeline): host names resolve through
 * guardedLookup, and an address literal — which skips lookup, e.g. a redirect's target — is
 * judged before connecting.
 */
export function guardedHttpsAgent(policy: EgressPolicy, field: string): HttpsAgent | undefined {
  const lookup = policy.guardedLookup(field);
  if (!lookup) return undefined;
  class GuardedAgent extends HttpsAgent {
    override createConnection(
      options: NetConnectOpts & { host?: string },
      callback?: (err: Error | null, stream: Duplex) => void,
    ): Duplex | null | undefined {
      const host = bare(options.host ?? '');
      const why = isIP(host) ? policy.refusal(host, host) : undefined;
      if (why) {
        callback?.(refused(field, host, host, why), undefined as unknown as Duplex);
        return undefined;
      }
      return super.createConnection(options, callback);
    }
  }
  return new GuardedAgent({ keepAlive: true, lookup });
}

function hostOf(field: string, url: string): string {
  try {
    return bare(new URL(url).hostname);
  } catch {
    throw new ProviderError('Invalid', `${field} is not a URL`);
  }
}

function refused(field: string, host: string, address: string, why: string): ProviderError {
  const shown = host === address ? address : `${host} (${address})`;
  return new ProviderError(
    'Invalid',
    `${field}: a SecretStore may not make Ferry connect to ${shown}, a ${why} address (${EGRESS_RULE}); use a ClusterSecretStore or ask the admin to allow-list it (--namespaced-store-allowed-hosts)`,
  );
}
