import { get } from 'node:https';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { blockedRange, EGRESS_RULE, EgressAllowList, EgressPolicy, guardedHttpsAgent } from './egress.ts';
import { ProviderError } from './provider.ts';

const v4 = (a: number, b: number, c: number, d: number) => `${a}.${b}.${c}.${d}`;
const octet = fc.integer({ min: 0, max: 255 });
const hex16 = fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16));
const mapped = (ip: string) => {
  const [a = 0, b = 0, c = 0, d = 0] = ip.split('.').map(Number);
  return [`::ffff:${ip}`, `::ffff:${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`, `64:ff9b::${ip}`];
};
const namespaced = (entries: string[] = []) => new EgressPolicy(new EgressAllowList(entries));

describe('blockedRange', () => {
  it('refuses loopback, link-local, unspecified and private addresses, v4 and v6', () => {
    for (const ip of [
      '127.0.0.1',
      '169.254.169.254',
      '0.0.0.0',
      '10.1.2.3',
      '172.31.255.255',
      '192.168.0.1',
      '100.64.0.10',
    ]) {
      expect(blockedRange(ip), ip).toBeDefined();
    }
    for (const ip of ['::1', '::', 'fe80::1', 'fd00:ec2::254', 'fc00::5']) expect(blockedRange(ip), ip).toBeDefined();
    expect(blockedRange('169.254.169.254')).toMatch(/link-local/);
  });

  it('lets public addresses through', () => {
    for (const ip of ['8.8.8.8', '172.32.0.1', '100.128.0.1', '2001:4860:4860::8888', '1.1.1.1']) {
      expect(blockedRange(ip), ip).toBeUndefined();
    }
  });

  it('refuses every IPv4 address in 169.254/16, also in its IPv4-mapped and NAT64 IPv6 forms', () => {
    fc.assert(
      fc.property(octet, octet, (c, d) => {
        const ip = v4(169, 254, c, d);
        for (const form of [ip, ...mapped(ip)]) expect(blockedRange(form), form).toMatch(/link-local/);
      }),
    );
  });

  it('judges an IPv4-mapped address exactly as the IPv4 address it maps', () => {
    fc.assert(
      fc.property(octet, octet, octet, octet, (a, b, c, d) => {
        const ip = v4(a, b, c, d);
        for (const form of mapped(ip)) expect(blockedRange(form) === undefined).toBe(blockedRange(ip) === undefined);
      }),
    );
  });

  it('refuses every fe80::/10 and fc00::/7 address', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0xfe80, max: 0xfebf }),
        fc.array(hex16, { minLength: 7, maxLength: 7 }),
        (head, rest) => {
          expect(blockedRange([head.toString(16), ...rest].join(':'))).toMatch(/link-local/);
        },
      ),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0xfc00, max: 0xfdff }),
        fc.array(hex16, { minLength: 7, maxLength: 7 }),
        (head, rest) => {
          expect(blockedRange([head.toString(16), ...rest].join(':'))).toMatch(/unique-local/);
        },
      ),
    );
  });
});

describe('EgressAllowList', () => {
  it('parses host names, *.suffixes, addresses and CIDRs, and refuses anything else', () => {
    const list = new EgressAllowList([
      'vault.corp.example',
      '*.svc.cluster.local',
      '127.0.0.1',
      '10.20.0.0/16',
      '[::1]',
    ]);
    expect(list.allowsHost('VAULT.corp.example.')).toBe(true);
    expect(list.allowsHost('vault.team-a.svc.cluster.local')).toBe(true);
    expect(list.allowsHost('svc.cluster.local')).toBe(false);
    expect(list.allowsHost('evil-vault.corp.example')).toBe(false);
    expect(list.allowsAddress('10.20.3.4')).toBe(true);
    expect(list.allowsAddress('10.21.3.4')).toBe(false);
    expect(list.allowsAddress('::ffff:127.0.0.1')).toBe(true);
    expect(list.allowsHost('[::1]')).toBe(true);
    for (const bad of ['http://x', 'a b', '10.0.0.0/33', '*.', 'x/8'])
      expect(() => new EgressAllowList([bad]), bad).toThrow();
  });

  it('allows an address exactly when it falls in a listed CIDR (random CIDRs and addresses)', () => {
    fc.assert(
      fc.property(
        octet,
        octet,
        octet,
        octet,
        fc.integer({ min: 0, max: 32 }),
        octet,
        octet,
        octet,
        octet,
        (a, b, c, d, bits, w, x, y, z) => {
          const list = new EgressAllowList([`${v4(a, b, c, d)}/${bits}`]);
          const toN = (p: number, q: number, r: number, s: number) => ((p << 24) | (q << 16) | (r << 8) | s) >>> 0;
          const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
          const expected = (toN(a, b, c, d) & mask) >>> 0 === (toN(w, x, y, z) & mask) >>> 0;
          expect(list.allowsAddress(v4(w, x, y, z))).toBe(expected);
        },
      ),
    );
  });
});

describe('EgressPolicy', () => {
  it('refuses a namespaced store’s URL whose host is a blocked literal or localhost, naming field and rule', () => {
    const policy = namespaced();
    for (const url of [
      'http://169.254.169.254',
      'https://127.0.0.1:8200',
      'http://[::1]:8200/',
      'http://localhost:8200',
      'http://[::ffff:a9fe:a9fe]',
    ]) {
      let error: unknown;
      try {
        policy.checkUrl('spec.provider.vault.server', url);
      } catch (err) {
        error = err;
      }
      expect(error, url).toBeInstanceOf(ProviderError);
      expect((error as ProviderError).kind).toBe('Invalid');
      expect((error as Error).message).toContain('spec.provider.vault.server');
      expect((error as Error).message).toContain(EGRESS_RULE);
    }
    expect(() => policy.checkUrl('f', 'https://vault.example.com:8200')).not.toThrow();
  });

  it('lets listed hosts and ClusterSecretStores through', () => {
    expect(() => namespaced(['127.0.0.1']).checkUrl('f', 'http://127.0.0.1:8200')).not.toThrow();
    expect(() => namespaced(['localhost']).checkUrl('f', 'http://localhost:8200')).not.toThrow();
    expect(() => EgressPolicy.unrestricted.checkUrl('f', 'http://169.254.169.254')).not.toThrow();
    expect(() => EgressPolicy.unrestricted.checkOverride('f', 'https://anything.example')).not.toThrow();
  });

  it('accepts an endpoint override only for an allow-listed host', () => {
    const policy = namespaced(['*.corp.example', '203.0.113.0/24']);
    expect(() => policy.checkOverride('spec.provider.gcpsm.endpoint', 'https://sm.corp.example')).not.toThrow();
    expect(() => policy.checkOverride('spec.provider.gcpsm.endpoint', 'https://203.0.113.7:443')).not.toThrow();
    expect(() =>
      policy.checkOverride('spec.provider.vault.auth.iam.vaultAwsIamServerID', 'vault.corp.example'),
    ).not.toThrow();
    expect(() => policy.checkOverride('spec.provider.gcpsm.endpoint', 'https://secretmanager.googleapis.com')).toThrow(
      /spec\.provider\.gcpsm\.endpoint.*namespaced-store-egress/,
    );
  });

  it('fuzz: a random endpoint of a namespaced store passes checkUrl only if its literal address is public or listed', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), fc.array(fc.ipV4(), { maxLength: 3 }), (ip, listed) => {
        const policy = namespaced(listed);
        const url = `https://${ip.includes(':') ? `[${ip}]` : ip}:8200`;
        let passed = true;
        try {
          policy.checkUrl('spec.provider.vault.server', url);
        } catch (err) {
          passed = false;
          expect(err).toBeInstanceOf(ProviderError);
        }
        const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
        const allowed = blockedRange(host) === undefined || new EgressAllowList(listed).allowsAddress(host);
        expect(passed).toBe(allowed);
      }),
    );
  });

  it('fails a connection whose name resolves to a blocked address (checked after DNS)', async () => {
    const lookup = namespaced().guardedLookup('spec.provider.vault.server');
    if (!lookup) throw new Error('a namespaced policy has a guarded lookup');
    const resolve = promisify(
      lookup as unknown as (h: string, o: object, cb: (e: Error | null, a?: unknown) => void) => void,
    );
    await expect(resolve('localhost', { all: true })).rejects.toThrow(
      /localhost \((127\.0\.0\.1|::1)\).*namespaced-store-egress/,
    );
    const open = namespaced(['localhost']).guardedLookup('f');
    if (!open) throw new Error('a namespaced policy has a guarded lookup');
    const resolveOpen = promisify(
      open as unknown as (h: string, o: object, cb: (e: Error | null, a?: unknown) => void) => void,
    );
    await expect(resolveOpen('localhost', { all: true })).resolves.toBeDefined();
    expect(EgressPolicy.unrestricted.guardedLookup('f')).toBeUndefined();
  });

  it('an SDK agent refuses address literals (which skip DNS, e.g. a redirect target) and names that resolve to blocked addresses', async () => {
    const agent = guardedHttpsAgent(namespaced(), 'spec.provider.azurekv.vaultUrl');
    if (!agent) throw new Error('a namespaced policy has a guarded agent');
    // Port 1 has no listener: an unguarded request would fail with ECONNREFUSED instead.
    const fetchError = (url: string) =>
      new Promise<Error>((resolve, reject) => {
        get(url, { agent }, () => reject(new Error(`${url} answered`))).on('error', resolve);
      });
    for (const url of [
      'https://127.0.0.1:1/',
      'https://[::1]:1/',
      'https://169.254.169.254:1/',
      'https://localhost:1/',
    ]) {
      const err = await fetchError(url);
      expect(err.message, url).toMatch(
        /spec\.provider\.azurekv\.vaultUrl: a SecretStore may not make Ferry connect to/,
      );
    }
    agent.destroy();
    expect(guardedHttpsAgent(EgressPolicy.unrestricted, 'f')).toBeUndefined();
  });
});
