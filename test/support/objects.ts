// Creating, reading and waiting on Ferry objects and Secrets in integration tests.

import { randomBytes } from 'node:crypto';
import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Secret,
} from '@kubernetes/client-node';
import type { ExternalSecretSpec } from '../../src/api/v1alpha1/external-secret.ts';
import type { ClusterSecretStore, ExternalSecret, SecretStore } from '../../src/api/v1alpha1/types.ts';
import { createAwsStore } from '../testbed/aws-store.ts';
import type { AwsAccess } from '../testbed/moto.ts';
import { eventually } from './wait.ts';

const group = { group: 'ferry.dev', version: 'v1alpha1' };

export class Objects {
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  readonly namespace: string;
  private readonly kc: KubeConfig;

  constructor(kc: KubeConfig, namespace: string) {
    this.kc = kc;
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.namespace = namespace;
  }

  async secretStore(
    name: string,
    provider: Record<string, unknown>,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    await this.custom.createNamespacedCustomObject({
      ...group,
      namespace: this.namespace,
      plural: 'secretstores',
      body: { apiVersion: 'ferry.dev/v1alpha1', kind: 'SecretStore', metadata: { name }, spec: { provider, ...extra } },
    });
  }

  /** A SecretStore reading AWS (moto) with static keys from a Secret of the same name; returns its name. */
  async awsStore(access: AwsAccess): Promise<string> {
    const name = `aws-${randomBytes(4).toString('hex')}`;
    await createAwsStore(this.kc, this.namespace, access, name);
    return name;
  }

  async clusterSecretStore(name: string, spec: Record<string, unknown>): Promise<void> {
    await this.custom.createClusterCustomObject({
      ...group,
      plural: 'clustersecretstores',
      body: { apiVersion: 'ferry.dev/v1alpha1', kind: 'ClusterSecretStore', metadata: { name }, spec },
    });
  }

  async externalSecret(name: string, spec: ExternalSecretSpec, annotations?: Record<string, string>): Promise<void> {
    await this.custom.createNamespacedCustomObject({
      ...group,
      namespace: this.namespace,
      plural: 'externalsecrets',
      body: { apiVersion: 'ferry.dev/v1alpha1', kind: 'ExternalSecret', metadata: { name, annotations }, spec },
    });
  }

  async patch(plural: string, name: string, patch: Record<string, unknown>): Promise<void> {
    await this.custom.patchNamespacedCustomObject(
      { ...group, namespace: this.namespace, plural, name, body: patch },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  async delete(plural: string, name: string): Promise<void> {
    await this.custom.deleteNamespacedCustomObject({ ...group, namespace: this.namespace, plural, name });
  }

  async getExternalSecret(name: string): Promise<ExternalSecret> {
    return (await this.custom.getNamespacedCustomObject({
      ...group,
      namespace: this.namespace,
      plural: 'externalsecrets',
      name,
    })) as ExternalSecret;
  }

  async getSecretStore(name: string): Promise<SecretStore> {
    return (await this.custom.getNamespacedCustomObject({
      ...group,
      namespace: this.namespace,
      plural: 'secretstores',
      name,
    })) as SecretStore;
  }

  async getClusterSecretStore(name: string): Promise<ClusterSecretStore> {
    return (await this.custom.getClusterCustomObject({
      ...group,
      plural: 'clustersecretstores',
      name,
    })) as ClusterSecretStore;
  }

  async secret(name: string): Promise<V1Secret | undefined> {
    return this.core.readNamespacedSecret({ namespace: this.namespace, name }).catch(() => undefined);
  }

  /** The Secret's data decoded to text. */
  async secretText(name: string): Promise<Record<string, string> | undefined> {
    const s = await this.secret(name);
    if (!s) return undefined;
    return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
  }

  async waitForSecret(name: string, want: (data: Record<string, string>) => boolean, what: string): Promise<V1Secret> {
    return eventually(what, async () => {
      const s = await this.secret(name);
      if (!s) return undefined;
      const data = Object.fromEntries(
        Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
      );
      return want(data) ? s : undefined;
    });
  }

  /** Waits until the ExternalSecret's Ready condition matches. */
  async waitForReady(name: string, want: { status?: string; reason?: string; message?: RegExp }, timeoutMs = 20_000) {
    return eventually(
      `ExternalSecret ${this.namespace}/${name} Ready ${JSON.stringify({ ...want, message: want.message?.source })}`,
      async () => {
        const es = await this.getExternalSecret(name);
        const ready = es.status?.conditions?.find((c) => c.type === 'Ready');
        if (!ready) return undefined;
        if (want.status && ready.status !== want.status) return undefined;
        if (want.reason && ready.reason !== want.reason) return undefined;
        if (want.message && !want.message.test(ready.message ?? '')) return undefined;
        return { es, ready };
      },
      timeoutMs,
    );
  }

  async events(): Promise<{ reason?: string; message?: string; type?: string; involved?: string }[]> {
    const list = await this.core.listNamespacedEvent({ namespace: this.namespace });
    return list.items.map((e) => ({
      reason: e.reason,
      message: e.message,
      type: e.type,
      involved: e.involvedObject.name,
    }));
  }
}
