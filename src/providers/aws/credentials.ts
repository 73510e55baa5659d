// AWS credentials for a store: static keys from a Secret, web identity with a token minted for a
// named ServiceAccount, or the SDK's default chain; then the role chain on top (additionalRoles in
// order, then role, as ESO does). Every login is made once and reused by all the store's SDK
// clients until it nears expiry, and counted in ferry_provider_logins_total.
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { fromWebToken } from '@aws-sdk/credential-providers';
import { ProviderError, type StoreContext } from '../provider.ts';
import { classifyAwsError } from './errors.ts';
import type { AwsSpec } from './spec.ts';

type CredentialProvider = ReturnType<typeof fromWebToken>;
type Credentials = Awaited<ReturnType<CredentialProvider>>;

/** Temporary credentials are renewed this long before they expire (the SDK's own margin). */
const RENEW_BEFORE_MS = 5 * 60_000;
const STS_TIMEOUTS = { requestTimeout: 10_000, connectionTimeout: 5_000, throwOnRequestTimeout: true };

export interface AwsStoreCredentials {
  /** Undefined: the SDK's default chain, used directly. */
  provider: CredentialProvider | undefined;
  /** Releases the STS clients of the role chain. */
  close(): void;
}

/**
 * Session tags for the AssumeRole of `role`: sessionTags, then with sessionTagsPolicy Simple or
 * Custom ESO's built-in tags (and customSessionTags), the built-in ones winning. ESO replaces
 * sessionTags with the policy's tags; Ferry keeps both, as ESO's documentation describes.
 */
export function roleSessionTags(spec: AwsSpec, ctx: StoreContext): { Key: string; Value: string }[] {
  const tags = new Map((spec.sessionTags ?? []).map((t) => [t.key, t.value]));
  const policy = spec.sessionTagsPolicy ?? 'None';
  if (policy !== 'None') {
    if (policy === 'Custom')
      for (const [k, v] of Object.entries(spec.customSessionTags ?? {})) if (k && v) tags.set(k, v);
    tags.set('esoNamespace', ctx.defaultNamespace);
    tags.set('esoStoreName', ctx.storeName);
    tags.set('esoStoreKind', ctx.storeKind);
  }
  return [...tags].map(([Key, Value]) => ({ Key, Value }));
}

function sessionName(ctx: StoreContext): string {
  return `ferry-${ctx.storeName}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
}

/**
 * One login shared by every caller until it nears expiry; concurrent callers join the login in
 * flight. Written here rather than relying on each SDK client's own cache, because a store has
 * several clients (Secrets Manager or SSM, and STS) that would each log in separately.
 */
export function reused(login: () => Promise<Credentials>): CredentialProvider {
  let current: Credentials | undefined;
  let pending: Promise<Credentials> | undefined;
  return () => {
    const expiresAt = current?.expiration?.getTime();
    if (current && (expiresAt === undefined || expiresAt - Date.now() > RENEW_BEFORE_MS)) {
      return Promise.resolve(current);
    }
    pending ??= login()
      .then((c) => {
        current = c;
        return c;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}

/** A login counted by method and outcome; failures become ProviderErrors naming what failed. */
async function counted(ctx: StoreContext, method: string, what: string, login: () => Promise<Credentials>) {
  try {
    const credentials = await login();
    ctx.recordLogin(method, 'ok');
    return credentials;
  } catch (err) {
    const error = classifyAwsError(err, what);
    ctx.recordLogin(method, error.kind);
    throw error;
  }
}

export async function awsCredentials(spec: AwsSpec, ctx: StoreContext): Promise<AwsStoreCredentials> {
  const { secretRef, jwt } = spec.auth ?? {};
  const roles = [...(spec.additionalRoles ?? []), ...(spec.role ? [spec.role] : [])];
  const stsClients: STSClient[] = [];
  const result = (provider: CredentialProvider | undefined): AwsStoreCredentials => ({
    provider,
    close: () => {
      for (const c of stsClients) c.destroy();
    },
  });

  let base: CredentialProvider | undefined;
  let toAssume = roles;
  if (secretRef) {
    const [accessKeyId, secretAccessKey, sessionToken] = await Promise.all([
      ctx.readSecretKey(secretRef.accessKeyIDSecretRef),
      ctx.readSecretKey(secretRef.secretAccessKeySecretRef),
      secretRef.sessionTokenSecretRef ? ctx.readSecretKey(secretRef.sessionTokenSecretRef) : undefined,
    ]);
    const identity = {
      accessKeyId: accessKeyId.revealText().trim(),
      secretAccessKey: secretAccessKey.revealText().trim(),
      sessionToken: sessionToken?.revealText().trim(),
    };
    base = async () => identity;
  } else if (jwt) {
    const webRole = roles[0];
    if (!webRole)
      throw new ProviderError(
        'Invalid',
        'spec.provider.aws.auth.jwt needs spec.provider.aws.role (or additionalRoles), the role to assume with the token',
      );
    toAssume = roles.slice(1);
    if (toAssume.length === 0 && spec.role && (spec.externalID || roleSessionTags(spec, ctx).length > 0)) {
      throw new ProviderError(
        'Invalid',
        'spec.provider.aws.externalID, sessionTags and sessionTagsPolicy apply to an AssumeRole of role; with auth.jwt the token is exchanged for role itself, so list the web-identity role first in additionalRoles',
      );
    }
    // A fresh ServiceAccount token for each login.
    base = reused(() =>
      counted(ctx, 'webIdentity', `exchanging the ServiceAccount token for role "${webRole}"`, async () => {
        const token = await ctx.requestToken(jwt.serviceAccountRef, ['sts.amazonaws.com']);
        return fromWebToken({
          roleArn: webRole,
          webIdentityToken: token,
          roleSessionName: sessionName(ctx),
          clientConfig: { region: spec.region, maxAttempts: 1, requestHandler: STS_TIMEOUTS },
        })();
      }),
    );
  }

  const tags = roleSessionTags(spec, ctx);
  let current = base;
  toAssume.forEach((roleArn, i) => {
    // ESO passes externalID and session tags to role only, the last hop.
    const last = spec.role !== undefined && i === toAssume.length - 1;
    const sts = new STSClient({
      region: spec.region,
      credentials: current,
      maxAttempts: 1,
      requestHandler: STS_TIMEOUTS,
    });
    stsClients.push(sts);
    current = reused(() =>
      counted(ctx, 'assumeRole', `assuming role "${roleArn}"`, async () => {
        const out = await sts.send(
          new AssumeRoleCommand({
            RoleArn: roleArn,
            RoleSessionName: sessionName(ctx),
            ExternalId: last ? spec.externalID || undefined : undefined,
            Tags: last && tags.length ? tags : undefined,
            TransitiveTagKeys: last && spec.transitiveTagKeys?.length ? spec.transitiveTagKeys : undefined,
          }),
        );
        const c = out.Credentials;
        if (!c?.AccessKeyId || !c.SecretAccessKey) {
          throw new ProviderError('Transient', `AWS STS AssumeRole of "${roleArn}" returned no credentials`);
        }
        return {
          accessKeyId: c.AccessKeyId,
          secretAccessKey: c.SecretAccessKey,
          sessionToken: c.SessionToken,
          expiration: c.Expiration,
        };
      }),
    );
  });
  return result(current);
}
