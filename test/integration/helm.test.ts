// The chart at helm/ferry through the real helm binary: lint, what it renders (RBAC from one
// list, Roles only when namespace-scoped, leader election on, hardened pods), values the schema
// refuses, and install → upgrade → uninstall against the real API server keeping every CRD,
// ExternalSecret and synced Secret (ESO #2112). Pods of the chart on the node: helm-node.test.ts.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiextensionsV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeWithTable } from '../../helm/values-table.ts';
import { startController } from '../support/controller.ts';
import { CHART_DIR, helm, type Manifest, renderChart } from '../support/helm.ts';
import { Objects } from '../support/objects.ts';
import { createNamespace, kubeConfigFor, testbed, uniqueName } from '../support/testbed.ts';

const CRD_DIR = new URL('../../crds', import.meta.url).pathname;

function find(objects: Manifest[], kind: string, suffix = ''): Manifest[] {
  return objects.filter((o) => o.kind === kind && o.metadata.name.endsWith(suffix));
}

/** The one object of a kind (whose name ends with `suffix`); fails when there is not exactly one. */
function one(objects: Manifest[], kind: string, suffix = ''): Manifest {
  const found = find(objects, kind, suffix);
  if (found.length !== 1) throw new Error(`expected one ${kind} *${suffix}, rendered ${found.length}`);
  return found[0] as Manifest;
}

describe('the chart', () => {
  it('lints clean with defaults and with every optional part on', async () => {
    await helm(undefined, ['lint', '--strict', CHART_DIR]);
    await helm(undefined, [
      'lint',
      '--strict',
      CHART_DIR,
      '--set',
      'csiNode.enabled=true,controller.watchNamespace=apps,metrics.serviceMonitor.enabled=true,networkPolicy.enabled=true,networkPolicy.egress.enabled=true,grafanaDashboard.enabled=true',
    ]);
  });

  it('ships the repository CRDs unchanged in crds/ (installed by helm, never templated)', async () => {
    const files = (await readdir(CRD_DIR)).sort();
    expect((await readdir(join(CHART_DIR, 'crds'))).sort()).toEqual(files);
    for (const f of files) {
      expect(await readFile(join(CHART_DIR, 'crds', f), 'utf8'), f).toBe(await readFile(join(CRD_DIR, f), 'utf8'));
    }
    expect((await renderChart()).some((o) => o.kind === 'CustomResourceDefinition')).toBe(false);
  });

  it('runs two hardened controller replicas with leader election, probes and a PodDisruptionBudget', async () => {
    const objects = await renderChart();
    const deployment = one(objects, 'Deployment');
    const spec = deployment.spec as {
      replicas: number;
      template: { spec: { containers: Record<string, unknown>[]; serviceAccountName: string } };
    };
    expect(spec.replicas).toBe(2);
    const [container] = spec.template.spec.containers;
    expect(container?.args).toEqual(
      expect.arrayContaining([
        'controller',
        '--leader-elect',
        '--leader-elect-namespace=ferry-system',
        '--leader-elect-lease-duration=15s',
      ]),
    );
    expect(container?.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container?.readinessProbe).toMatchObject({ httpGet: { path: '/readyz' } });
    expect(container?.livenessProbe).toMatchObject({ httpGet: { path: '/healthz' } });
    expect(find(objects, 'PodDisruptionBudget')).toHaveLength(1);
    expect(find(objects, 'Service', '-metrics')).toHaveLength(1);
    expect(find(objects, 'DaemonSet')).toHaveLength(0);
    expect(find(objects, 'CSIDriver')).toHaveLength(0);
    const dashboard = one(await renderChart({ 'grafanaDashboard.enabled': true }), 'ConfigMap', '-dashboard');
    expect(dashboard.metadata.labels?.grafana_dashboard).toBe('1');
    const panels = JSON.parse((dashboard.data as Record<string, string>)['ferry.json'] ?? '{}').panels;
    expect(panels.length).toBeGreaterThan(5);
  });

  it('grants the controller one list of rules: a ClusterRole, or Roles only when namespace-scoped', async () => {
    const cluster = await renderChart();
    const clusterRole = one(cluster, 'ClusterRole', '-controller');
    const rules = clusterRole.rules as { resources: string[]; verbs: string[] }[];
    expect(rules.flatMap((r) => r.resources)).toEqual(
      expect.arrayContaining([
        'externalsecrets',
        'clustersecretstores',
        'clusterexternalsecrets',
        'secrets',
        'events',
        'namespaces',
      ]),
    );
    expect(rules.some((r) => 'clusterOnly' in r)).toBe(false);
    expect(one(cluster, 'Role', '-leader-election').rules).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
    ]);

    const scoped = await renderChart({ 'controller.watchNamespace': 'apps' });
    expect(scoped.filter((o) => o.kind.startsWith('Cluster'))).toEqual([]);
    const role = one(scoped, 'Role', '-controller');
    expect(role.metadata.namespace).toBe('apps');
    const scopedResources = (role.rules as { resources: string[] }[]).flatMap((r) => r.resources);
    expect(scopedResources).not.toContain('clustersecretstores');
    expect(scopedResources).not.toContain('clusterexternalsecrets');
    expect(scopedResources).not.toContain('namespaces');
    const args = (one(scoped, 'Deployment').spec as { template: { spec: { containers: { args: string[] }[] } } })
      .template.spec.containers[0]?.args;
    expect(args).toEqual(expect.arrayContaining(['--namespace=apps', '--cluster-stores=off']));
  });

  it('writes workloads only with controller.workloadRollouts: update on them and the flag, in both scopes', async () => {
    type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
    const workloadVerbs = (role: Manifest) =>
      (role.rules as Rule[]).filter((r) => r.resources.includes('deployments')).flatMap((r) => r.verbs);
    const argsOf = (objects: Manifest[]) =>
      (one(objects, 'Deployment').spec as { template: { spec: { containers: { args: string[] }[] } } }).template.spec
        .containers[0]?.args;
    const off = await renderChart();
    expect(workloadVerbs(one(off, 'ClusterRole', '-controller')).sort()).toEqual(['get', 'list']);
    expect(argsOf(off)).toContain('--workload-rollouts=off');
    const on = await renderChart({ 'controller.workloadRollouts': true });
    expect(workloadVerbs(one(on, 'ClusterRole', '-controller')).sort()).toEqual(['get', 'list', 'update']);
    expect(argsOf(on)).toContain('--workload-rollouts=on');
    const scoped = await renderChart({ 'controller.watchNamespace': 'apps', 'controller.workloadRollouts': true });
    expect(workloadVerbs(one(scoped, 'Role', '-controller')).sort()).toEqual(['get', 'list', 'update']);
  });

  it("passes the admin's API server audiences to the controller and the CSI plugin", async () => {
    const argsOf = (o: Manifest) =>
      (o.spec as { template: { spec: { containers: { args: string[] }[] } } }).template.spec.containers[0]?.args ?? [];
    const defaults = await renderChart({ 'csiNode.enabled': true });
    expect(argsOf(one(defaults, 'Deployment')).some((a) => a.startsWith('--api-audiences'))).toBe(false);
    const named = await renderChart({ 'csiNode.enabled': true }, { apiServerAudiences: ['https://a.example', 'b'] });
    expect(argsOf(one(named, 'Deployment'))).toContain('--api-audiences=https://a.example,b');
    expect(argsOf(one(named, 'DaemonSet'))).toContain('--api-audiences=https://a.example,b');
  });

  it('documents every value of the schema in its README (npm run chart:docs)', async () => {
    const readme = await readFile(join(CHART_DIR, 'README.md'), 'utf8');
    expect(readmeWithTable(readme)).toBe(readme);
    expect(readme).toContain('| `controller.leaderElection.leaseDuration` | string | `"15s"` |');
  });

  it('refuses values the schema does not allow, naming them', async () => {
    await expect(renderChart({ 'controller.replicas': -1 })).rejects.toThrow(/replicas/);
    await expect(renderChart({ 'controller.leaderElection.leaseDuration': 'soon' })).rejects.toThrow(/leaseDuration/);
    await expect(renderChart({ 'controller.replicass': 3 })).rejects.toThrow(/replicass/);
  });

  it('runs the CSI node plugin as a DaemonSet with the registrar sidecar, or self-registering', async () => {
    const withSidecar = one(await renderChart({ 'csiNode.enabled': true }), 'DaemonSet');
    const containers = (withSidecar.spec as { template: { spec: { containers: { name: string }[] } } }).template.spec
      .containers;
    expect(containers.map((c) => c.name)).toEqual(['csi-node', 'node-driver-registrar']);
    expect(find(await renderChart({ 'csiNode.enabled': true }), 'CSIDriver')).toHaveLength(1);
    const self = one(await renderChart({ 'csiNode.enabled': true, 'csiNode.selfRegistration': true }), 'DaemonSet');
    const only = (self.spec as { template: { spec: { containers: { name: string; args: string[] }[] } } }).template.spec
      .containers;
    expect(only.map((c) => c.name)).toEqual(['csi-node']);
    expect(only[0]?.args).toContain('--registration-dir=/var/lib/kubelet/plugins_registry');
  });

  it("places the CSI plugin on Linux nodes with every taint tolerated unless told, and bounds its and the registrar's resources", async () => {
    type PodSpec = {
      nodeSelector?: Record<string, string>;
      tolerations?: unknown[];
      affinity?: unknown;
      containers: { name: string; args?: string[]; resources?: unknown; securityContext?: Record<string, unknown> }[];
    };
    const podSpec = (objects: Manifest[]) =>
      (one(objects, 'DaemonSet').spec as { template: { spec: PodSpec } }).template.spec;
    const defaults = podSpec(await renderChart({ 'csiNode.enabled': true }));
    expect(defaults.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(defaults.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(defaults.affinity).toBeUndefined();
    const [plugin, registrar] = defaults.containers;
    expect(plugin?.args).toContain('--volume-memory=128Mi');
    expect(registrar?.resources).toEqual({ requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '64Mi' } });
    expect(registrar?.securityContext).toMatchObject({
      runAsUser: 0,
      runAsNonRoot: false,
      readOnlyRootFilesystem: true,
    });
    const affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'ferry.dev/csi', operator: 'In', values: ['on'] }] }],
        },
      },
    };
    const told = podSpec(
      await renderChart(
        {},
        {
          csiNode: {
            enabled: true,
            affinity,
            tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'apps', effect: 'NoSchedule' }],
            volumeMemory: '1Gi',
          },
        },
      ),
    );
    expect(told.affinity).toEqual(affinity);
    expect(told.tolerations).toEqual([{ key: 'dedicated', operator: 'Equal', value: 'apps', effect: 'NoSchedule' }]);
    expect(told.containers[0]?.args).toContain('--volume-memory=1Gi');
  });

  it('gives the CSI plugin node-scoped RBAC, token audiences from values, and a pre-delete check of live mounts', async () => {
    const objects = await renderChart(
      {},
      {
        csiNode: {
          enabled: true,
          credentialNamespaces: ['platform-creds', 'vault-ca'],
          tokenRequests: [{ audience: 'acme.svc.id.goog', expirationSeconds: 3600 }],
        },
      },
    );
    const role = one(objects, 'ClusterRole', '-csi-node') as Manifest & {
      rules: { resources: string[]; verbs: string[] }[];
    };
    const granted = role.rules.flatMap((r) => r.resources.map((res) => `${res}:${r.verbs.join(',')}`));
    expect(granted).not.toContain('secrets:get');
    expect(granted.some((g) => g.startsWith('serviceaccounts/token'))).toBe(false);
    const credentialRoles = find(objects, 'Role', '-csi-node-credentials');
    expect(credentialRoles.map((r) => r.metadata.namespace).sort()).toEqual(['platform-creds', 'vault-ca']);
    expect(find(objects, 'RoleBinding', '-csi-node-credentials')).toHaveLength(2);
    const driver = one(objects, 'CSIDriver') as Manifest & { spec: { tokenRequests: { audience: string }[] } };
    expect(driver.spec.tokenRequests.map((t) => t.audience)).toEqual(['acme.svc.id.goog']);
    const defaults = one(await renderChart({ 'csiNode.enabled': true }), 'CSIDriver') as Manifest & {
      spec: { podInfoOnMount: boolean; tokenRequests: { audience: string }[] };
    };
    expect(defaults.spec.podInfoOnMount).toBe(true);
    expect(defaults.spec.tokenRequests.map((t) => t.audience)).not.toContain('');

    const job = one(objects, 'Job', '-csi-uninstall-check') as Manifest & {
      metadata: { annotations: Record<string, string> };
      spec: { template: { spec: { containers: { args: string[] }[] } } };
    };
    expect(job.metadata.annotations['helm.sh/hook']).toBe('pre-delete');
    expect(job.spec.template.spec.containers[0]?.args).toEqual(['csi-uninstall-check', '--wait=60s']);
    const checkRole = one(objects, 'ClusterRole', '-csi-uninstall-check') as Manifest & { rules: unknown[] };
    expect(checkRole.rules).toEqual([{ apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] }]);
    const off = await renderChart({ 'csiNode.enabled': true, 'csiNode.uninstallCheck.enabled': false });
    expect(find(off, 'Job')).toEqual([]);
  });
});

describe('helm install, upgrade and uninstall against the API server', () => {
  const access = () => testbed().kube;
  let release: string;
  let releaseNs: string;
  let o: Objects;
  const names = ['one', 'two', 'three'];

  beforeAll(async () => {
    const kc = kubeConfigFor(access());
    releaseNs = await createNamespace(kc, 'helm');
    release = uniqueName('ferry');
    o = new Objects(kc, await createNamespace(kc, 'helm-app'));
  });

  afterAll(async () => {
    await helm(access(), ['uninstall', release, '--namespace', releaseNs, '--ignore-not-found']).catch(() => undefined);
  });

  it('installs, upgrades without a Secret write, and uninstalls keeping CRDs, ExternalSecrets and Secrets', async () => {
    // No pods here (the node test runs them): an in-process controller syncs, as the pods would.
    // The bed is shared: the chart's cluster-wide admission policies (namespacedAmbientIdentity off;
    // namespaced-store egress) would refuse other files' SecretStores meanwhile; they are tested in
    // admission-ambient-identity.test.ts and, on a private API server, chart-egress.test.ts.
    const noPods = [
      '--set',
      'controller.replicas=0,image.pullPolicy=Never,namespacedAmbientIdentity=true,egress.admissionPolicy.enabled=false',
    ];
    const install = await helm(access(), ['install', release, CHART_DIR, '--namespace', releaseNs, ...noPods]);
    expect(install).toContain('STATUS: deployed');
    const manifest = await helm(access(), ['get', 'manifest', release, '--namespace', releaseNs]);
    expect(manifest).not.toContain('kind: CustomResourceDefinition');

    const ctl = await startController(access(), { namespace: o.namespace });
    try {
      await o.secretStore('store', { fake: { data: [{ key: 'k', value: 'v1' }] } });
      for (const name of names) {
        await o.externalSecret(name, {
          secretStoreRef: { name: 'store' },
          data: [{ secretKey: 'k', remoteRef: { key: 'k' } }],
        });
        await o.waitForSecret(name, (d) => d.k === 'v1', name);
      }
      await ctl.controller.idle();
    } finally {
      await ctl.stop();
    }
    const versions = async () =>
      Promise.all(names.map(async (n) => (await o.secret(n))?.metadata?.resourceVersion ?? 'missing'));
    const before = await versions();

    const upgrade = await helm(access(), [
      'upgrade',
      release,
      CHART_DIR,
      '--namespace',
      releaseNs,
      ...noPods,
      '--set',
      'controller.logLevel=debug',
    ]);
    expect(upgrade).toContain('REVISION: 2');
    expect(await versions()).toEqual(before);

    await helm(access(), ['uninstall', release, '--namespace', releaseNs]);
    const rbac = kubeConfigFor(access()).makeApiClient(RbacAuthorizationV1Api);
    await expect(rbac.readClusterRole({ name: `${release}-controller` })).rejects.toThrow(/404|not found/i);
    const crds = kubeConfigFor(access()).makeApiClient(ApiextensionsV1Api);
    for (const crd of [
      'externalsecrets.ferry.dev',
      'secretstores.ferry.dev',
      'clustersecretstores.ferry.dev',
      'clusterexternalsecrets.ferry.dev',
    ]) {
      expect((await crds.readCustomResourceDefinition({ name: crd })).metadata?.deletionTimestamp).toBeUndefined();
    }
    for (const name of names) expect((await o.getExternalSecret(name)).metadata.deletionTimestamp).toBeUndefined();
    expect(await versions()).toEqual(before);
  });
});
