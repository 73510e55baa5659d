import { describe, expect, it } from 'vitest';
import { parseControllerConfig, parseCsiNodeConfig } from './config.ts';

describe('parseControllerConfig', () => {
  it('applies defaults', () => {
    const c = parseControllerConfig([]);
    expect(c).toMatchObject({ concurrency: 10, kubeQps: 50, kubeBurst: 100, logLevel: 'info', shareWindowMs: 60_000 });
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
    ]);
    expect(c).toMatchObject({ namespace: 'apps', concurrency: 4, kubeQps: 20, shareWindowMs: 5000 });
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
  ])('rejects %j naming the flag', (argv, message) => {
    expect(() => parseControllerConfig(argv)).toThrow(message);
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
    });
  });

  it('rejects a relative endpoint and unknown flags', () => {
    expect(() => parseCsiNodeConfig(['--node-name=n', '--endpoint=csi.sock'], {})).toThrow(/absolute socket path/);
    expect(() => parseCsiNodeConfig(['--node-name=n', '--bogus'], {})).toThrow();
  });
});
