import { describe, expect, it } from 'vitest';
import { parseControllerConfig, parseCsiNodeConfig } from './config.ts';

describe('parseControllerConfig', () => {
  it('applies defaults', () => {
    const c = parseControllerConfig([]);
    expect(c).toMatchObject({
      concurrency: 20,
      kubeQps: 200,
      kubeBurst: 400,
      logLevel: 'info',
      shareWindowMs: 60_000,
      workloadRollouts: false,
      apiAudiences: [],
    });
    expect(c.metricsAddr).toEqual({ host: '0.0.0.0', port: 8080 });
  });

  it('reads every flag', () => {
    const c = parseControllerConfig([
      '--namespace',
      'apps',
      '--concurrency',
      '4',
      '--metrics-addr',
      '127.0.0.1:9100',
      '--kube-qps',
      '20',
      '--shared-read-window',
      '5s',
      '--workload-rollouts',
      'on',
      '--api-audiences',
      'https://oidc.example/a, api-b,',
    ]);
    expect(c.apiAudiences).toEqual(['https://oidc.example/a', 'api-b']);
    expect(c).toMatchObject({
      namespace: 'apps',
      concurrency: 4,
      kubeQps: 20,
      shareWindowMs: 5000,
      workloadRollouts: true,
    });
    expect(c.metricsAddr).toEqual({ host: '127.0.0.1', port: 9100 });
    expect(parseControllerConfig(['--metrics-addr', '0']).metricsAddr).toBeUndefined();
  });

  it.each([
    [['--concurrency', '0'], /--concurrency must be a positive number/],
    [['--kube-qps', 'fast'], /--kube-qps must be a positive number/],
    [['--metrics-addr', 'nowhere'], /--metrics-addr must be HOST:PORT/],
    [['--log-level', 'loud'], /--log-level must be one of/],
    [['--shared-read-window', '1 day'], /--shared-read-window: "1 day" is not a duration/],
    [['--bogus'], /Unknown option '--bogus'/],
    [
      ['--leader-elect', '--leader-elect-retry-period', 'soon'],
      /--leader-elect-retry-period: "soon" is not a duration/,
    ],
    [
      ['--leader-elect', '--leader-elect-renew-deadline', '20s'],
      /lease duration must be longer than the renew deadline/,
    ],
    [['--leader-elect', '--leader-elect-retry-period', '9s'], /renew deadline must be longer than 1.2/],
  ])('rejects %j naming the flag', (argv, message) => {
    expect(() => parseControllerConfig(argv)).toThrow(message);
  });

  it('refuses ambient identity to SecretStores unless --namespaced-ambient-identity is on', () => {
    expect(parseControllerConfig([]).namespacedAmbientIdentity).toBe(false);
    expect(parseControllerConfig(['--namespaced-ambient-identity=on']).namespacedAmbientIdentity).toBe(true);
    expect(parseControllerConfig(['--namespaced-ambient-identity', 'off']).namespacedAmbientIdentity).toBe(false);
    expect(() => parseControllerConfig(['--namespaced-ambient-identity=yes'])).toThrow(
      /--namespaced-ambient-identity must be on or off/,
    );
    const node = (argv: string[]) => parseCsiNodeConfig(argv, { NODE_NAME: 'n1' }).namespacedAmbientIdentity;
    expect(node([])).toBe(false);
    expect(node(['--namespaced-ambient-identity=on'])).toBe(true);
  });

  it('leader election is off unless asked for; its Lease defaults to the pod namespace', () => {
    expect(parseControllerConfig([]).leaderElection).toBeUndefined();
    const c = parseControllerConfig(['--leader-elect'], { POD_NAMESPACE: 'ferry-system' });
    expect(c.leaderElection).toMatchObject({
      namespace: 'ferry-system',
      name: 'ferry-controller',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2000,
    });
    expect(c.leaderElection?.identity).toMatch(/^.+_[0-9a-f]{12}$/);
    const scoped = parseControllerConfig(
      [
        '--leader-elect',
        '--namespace',
        'apps',
        '--leader-elect-lease-name',
        'l',
        '--leader-elect-lease-duration',
        '30s',
      ],
      { POD_NAMESPACE: 'ferry-system' },
    );
    expect(scoped.leaderElection).toMatchObject({ namespace: 'apps', name: 'l', leaseDurationMs: 30_000 });
  });
});

describe('parseCsiNodeConfig', () => {
  it('needs a node name and applies defaults', () => {
    expect(() => parseCsiNodeConfig([], {})).toThrow(/--node-name/);
    const c = parseCsiNodeConfig([], { NODE_NAME: 'n1', FERRY_CACHE: '/cache' });
    expect(c).toMatchObject({
      nodeName: 'n1',
      socketPath: '/csi/csi.sock',
      dataDir: '/var/lib/ferry-csi',
      protoDir: '/cache/proto/csi-v1.12.0',
      kubeQps: 20,
      shareWindowMs: 60_000,
      volumeMemoryBytes: 128 * 1024 * 1024,
    });
    expect(c.metricsAddr).toEqual({ host: '0.0.0.0', port: 8081 });
  });

  it('reads every flag; the proto directory from the image environment', () => {
    const c = parseCsiNodeConfig(
      [
        '--node-name=n2',
        '--endpoint=unix:///plugin/csi.sock',
        '--data-dir=/data',
        '--registration-dir=/var/lib/kubelet/plugins_registry',
        '--metrics-addr=0',
        '--volume-memory=1Gi',
      ],
      { FERRY_PROTO_DIR: '/usr/share/ferry/proto' },
    );
    expect(c).toMatchObject({
      nodeName: 'n2',
      socketPath: '/plugin/csi.sock',
      dataDir: '/data',
      protoDir: '/usr/share/ferry/proto',
      registrationDir: '/var/lib/kubelet/plugins_registry',
      metricsAddr: undefined,
      volumeMemoryBytes: 1024 ** 3,
    });
    expect(parseCsiNodeConfig(['--node-name=n', '--volume-memory=4096'], {}).volumeMemoryBytes).toBe(4096);
  });

  it('rejects a relative endpoint and unknown flags', () => {
    expect(() => parseCsiNodeConfig(['--node-name=n', '--endpoint=csi.sock'], {})).toThrow(/absolute socket path/);
    expect(() => parseCsiNodeConfig(['--node-name=n', '--bogus'], {})).toThrow();
    for (const bad of ['0', '1.5Gi', '128MB', '-1Mi']) {
      expect(() => parseCsiNodeConfig(['--node-name=n', `--volume-memory=${bad}`], {})).toThrow(/--volume-memory/);
    }
  });
});

describe('--namespaced-store-allowed-hosts', () => {
  it('is empty by default and read as a comma list by both commands', () => {
    expect(parseControllerConfig([]).namespacedStoreAllowedHosts).toEqual([]);
    expect(parseCsiNodeConfig(['--node-name', 'n']).namespacedStoreAllowedHosts).toEqual([]);
    const flag = ['--namespaced-store-allowed-hosts', 'vault.vault.svc, *.corp.example,10.0.0.0/8,'];
    const want = ['vault.vault.svc', '*.corp.example', '10.0.0.0/8'];
    expect(parseControllerConfig(flag).namespacedStoreAllowedHosts).toEqual(want);
    expect(parseCsiNodeConfig(['--node-name', 'n', ...flag]).namespacedStoreAllowedHosts).toEqual(want);
  });
});

describe('render pool flags', () => {
  it('default to one worker and 10 s, in the controller and the CSI plugin', () => {
    expect(parseControllerConfig([]).renders).toEqual({ workers: 1, timeoutMs: 10_000 });
    expect(parseCsiNodeConfig(['--node-name', 'n']).renders).toEqual({ workers: 1, timeoutMs: 10_000 });
  });

  it('read --render-workers (0 renders on the main thread) and --render-timeout', () => {
    expect(parseControllerConfig(['--render-workers', '0', '--render-timeout', '2s']).renders).toEqual({
      workers: 0,
      timeoutMs: 2_000,
    });
    expect(parseCsiNodeConfig(['--node-name', 'n', '--render-workers=3', '--render-timeout=1m']).renders).toEqual({
      workers: 3,
      timeoutMs: 60_000,
    });
  });

  it('refuse a worker count that is not a whole number up to 64, and a zero timeout', () => {
    for (const bad of ['-1', '1.5', 'two', '65']) {
      expect(() => parseControllerConfig([`--render-workers=${bad}`])).toThrow(
        /--render-workers must be a whole number/,
      );
    }
    expect(() => parseControllerConfig(['--render-timeout', '0s'])).toThrow(/--render-timeout must be longer than 0s/);
  });
});
