// What integration tests use to reach the shared test bed and to make isolated objects in it.
import { randomBytes } from 'node:crypto';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, beforeEach, inject } from 'vitest';
import type { TestBedInfo } from '../testbed/bed.ts';
import { type Drongo, startDrongo } from '../testbed/drongo.ts';
import { enforceMotoAuth, type Moto, resetMoto, startMoto } from '../testbed/moto.ts';
import { type OpenBao, startOpenBao } from '../testbed/openbao.ts';
import { kubeConfigFor } from './kubeconfig.ts';

export { kubeConfigFor };

export function testbed(): TestBedInfo {
  return inject('testbed');
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** A fresh namespace; namespaces are never reused between tests. */
export async function createNamespace(kc: KubeConfig, prefix = 't'): Promise<string> {
  const name = uniqueName(prefix);
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return name;
}

/**
 * A moto server owned by one test file: reset before each test, and free to be stopped to
 * simulate an outage without disturbing other files.
 */
export function usePrivateMoto(): { get(): Moto } {
  let moto: Moto | undefined;
  beforeAll(async () => {
    moto = await startMoto(testbed().runDir);
  });
  beforeEach(async () => {
    if (moto && !moto.process.running) await moto.process.start();
    if (moto) {
      await resetMoto(moto.access.endpoint);
      await enforceMotoAuth(moto.access.endpoint, false);
    }
  });
  afterAll(async () => {
    await moto?.process.stop();
  });
  return {
    get() {
      if (!moto) throw new Error('private moto is not started yet (use it inside a test)');
      return moto;
    },
  };
}

/**
 * An OpenBao dev server owned by one test file (it starts in under a second), free to be sealed
 * or stopped without disturbing other files.
 */
export function usePrivateOpenBao(opts: { tls?: boolean; awsAuthPlugin?: boolean } = {}): { get(): OpenBao } {
  let bao: OpenBao | undefined;
  beforeAll(async () => {
    bao = await startOpenBao(testbed().runDir, opts);
  });
  afterAll(async () => {
    await bao?.process.stop();
    await bao?.admin.close();
  });
  return {
    get() {
      if (!bao) throw new Error('private OpenBao is not started yet (use it inside a test)');
      return bao;
    },
  };
}

/**
 * A drongo server owned by one test file: reset before each test, and free to be stopped to
 * simulate an outage without disturbing other files.
 */
export function usePrivateDrongo(): { get(): Drongo } {
  let drongo: Drongo | undefined;
  beforeAll(async () => {
    drongo = await startDrongo(testbed().runDir);
  });
  beforeEach(async () => {
    if (drongo && !drongo.process.running) await drongo.process.start();
    await drongo?.admin.reset();
  });
  afterAll(async () => {
    await drongo?.process.stop();
  });
  return {
    get() {
      if (!drongo) throw new Error('private drongo is not started yet (use it inside a test)');
      return drongo;
    },
  };
}

/** Points the AWS SDK of this process (and so an in-process controller) at a moto server. */
export function pointAwsSdkAt(endpoint: string): void {
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = endpoint;
  process.env.AWS_ENDPOINT_URL_SSM = endpoint;
  process.env.AWS_ENDPOINT_URL_STS = endpoint;
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
}
