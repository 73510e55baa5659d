// What kubelet says about the pod a volume is for, checked before the plugin trusts any of it:
// the pod's name, namespace, UID and ServiceAccount come from kubelet only when the CSIDriver
// object sets podInfoOnMount (kubelet then overwrites those keys of the volume attributes, which
// the pod itself writes), and ServiceAccount tokens only for the audiences the CSIDriver requests.
import { FerryError } from '../../errors.ts';

export const CONTEXT = {
  externalSecret: 'externalSecret',
  podName: 'csi.storage.k8s.io/pod.name',
  podNamespace: 'csi.storage.k8s.io/pod.namespace',
  podUid: 'csi.storage.k8s.io/pod.uid',
  serviceAccount: 'csi.storage.k8s.io/serviceAccount.name',
  tokens: 'csi.storage.k8s.io/serviceAccount.tokens',
  ephemeral: 'csi.storage.k8s.io/ephemeral',
} as const;

/** A request the plugin refuses outright (gRPC INVALID_ARGUMENT). */
export class PublishArgumentError extends FerryError {
  constructor(message: string) {
    super('BadRequest', message);
  }
}

/** The plugin cannot trust what kubelet would tell it (gRPC FAILED_PRECONDITION). */
export class PublishRefusedError extends FerryError {
  constructor(message: string) {
    super('Untrusted', message);
  }
}

/** The CSIDriver object as far as the plugin's trust in the volume context goes. */
export interface DriverPolicy {
  /** Why the plugin must not serve at all; undefined when it may. */
  refusal?: string;
  /** Audiences of the CSIDriver's tokenRequests: kubelet's tokens are taken for these only. */
  audiences: ReadonlySet<string>;
}

export interface PodInfo {
  name: string;
  namespace: string;
  uid: string;
  serviceAccount: string;
}

const POD_KEYS: Record<keyof PodInfo, string> = {
  name: CONTEXT.podName,
  namespace: CONTEXT.podNamespace,
  uid: CONTEXT.podUid,
  serviceAccount: CONTEXT.serviceAccount,
};

export interface PodToken {
  token: string;
  expiresAt: number;
}

export interface PublishContext {
  pod: PodInfo;
  externalSecret: string;
  /** By audience. Memory only. */
  tokens: Map<string, PodToken>;
}

/** Reads kubelet's volume context for an inline ephemeral volume, refusing what cannot be trusted. */
export function parsePublishContext(context: Record<string, string>, driver: DriverPolicy): PublishContext {
  if (driver.refusal) throw new PublishRefusedError(driver.refusal);
  if (context[CONTEXT.ephemeral] !== 'true') {
    throw new PublishArgumentError(
      'only inline ephemeral volumes are supported: use a csi volume in the pod spec (volumeAttributes externalSecret: <name>)',
    );
  }
  const missing = Object.values(POD_KEYS).filter((key) => !context[key]);
  if (missing.length > 0) {
    throw new PublishRefusedError(
      `the volume context lacks ${missing.join(', ')}: kubelet sends them when the CSIDriver csi.ferry.dev sets podInfoOnMount: true`,
    );
  }
  const pod: PodInfo = {
    name: context[POD_KEYS.name] ?? '',
    namespace: context[POD_KEYS.namespace] ?? '',
    uid: context[POD_KEYS.uid] ?? '',
    serviceAccount: context[POD_KEYS.serviceAccount] ?? '',
  };
  const externalSecret = context[CONTEXT.externalSecret];
  if (!externalSecret) {
    throw new PublishArgumentError('volumeAttributes.externalSecret is required: the ExternalSecret to mount');
  }
  return { pod, externalSecret, tokens: parseTokens(context[CONTEXT.tokens], driver.audiences) };
}

/** kubelet's `serviceAccount.tokens`: `{"<audience>": {"token": …, "expirationTimestamp": …}}`. */
function parseTokens(json: string | undefined, audiences: ReadonlySet<string>): Map<string, PodToken> {
  const tokens = new Map<string, PodToken>();
  // Without tokenRequests kubelet leaves the key alone, so a value there was written by the pod.
  if (!json || audiences.size === 0) return tokens;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new PublishArgumentError(`${CONTEXT.tokens} is not JSON`);
  }
  for (const [audience, value] of Object.entries((parsed ?? {}) as Record<string, unknown>)) {
    if (!audiences.has(audience)) continue;
    const { token, expirationTimestamp } = (value ?? {}) as { token?: string; expirationTimestamp?: string };
    if (!token) continue;
    const expiresAt = Date.parse(expirationTimestamp ?? '');
    tokens.set(audience, { token, expiresAt: Number.isFinite(expiresAt) ? expiresAt : Date.now() + 10 * 60_000 });
  }
  return tokens;
}

/** The subset of a CSIDriver object the plugin reads. */
export interface CsiDriverObject {
  metadata?: { name?: string; deletionTimestamp?: unknown };
  spec?: { podInfoOnMount?: boolean; tokenRequests?: { audience?: string }[] };
}

/** What the plugin may trust, given its CSIDriver object as the API server has it now. */
export function driverPolicy(name: string, driver: CsiDriverObject | undefined): DriverPolicy {
  const audiences = new Set((driver?.spec?.tokenRequests ?? []).map((t) => t.audience ?? ''));
  if (!driver) {
    return {
      audiences,
      refusal: `the CSIDriver object ${name} does not exist: the plugin serves only when it sets podInfoOnMount: true (helm value csiNode.createCSIDriver)`,
    };
  }
  if (driver.spec?.podInfoOnMount !== true) {
    return {
      audiences,
      refusal: `the CSIDriver object ${name} does not set podInfoOnMount: true, so kubelet does not say which pod mounts a volume and the pod could claim any namespace; the plugin refuses to serve until it does`,
    };
  }
  return { audiences };
}
