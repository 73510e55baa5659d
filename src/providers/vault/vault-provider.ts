// HashiCorp Vault / OpenBao KV v1 and v2: reads a secret's data map (JSON) by path and version,
// lists folders for dataFrom find (find.ts), with one token per store identity (see session.ts)
// and lookup-self to validate it.
import { SecretValue } from '../../values.ts';
import { type Provider, type ProviderClient, ProviderError, type StoreContext } from '../provider.ts';
import { refIdentity } from '../references.ts';
import { findVaultSecrets } from './find.ts';
import { VaultHttp } from './http.ts';
import { kvMetadataPath, kvReadPath } from './paths.ts';
import { authMethod, VaultSession } from './session.ts';
import type { VaultSpec } from './spec.ts';

interface KvAnswer {
  data?: { data?: unknown; metadata?: { version?: unknown } } | Record<string, unknown> | null;
}

/** Which credentials a client for `spec` logs in with: reads are shared only between equal ones. */
function credentialsIdentity(spec: VaultSpec, ns: string): string {
  const { tokenSecretRef, appRole, kubernetes, jwt, userPass, ldap, iam } = spec.auth;
  if (tokenSecretRef) return `token:${refIdentity(tokenSecretRef, ns)}`;
  if (userPass) return `userpass:${userPass.path ?? ''}:${userPass.username}:${refIdentity(userPass.secretRef, ns)}`;
  if (ldap) return `ldap:${ldap.path ?? ''}:${ldap.username}:${refIdentity(ldap.secretRef, ns)}`;
  if (appRole) {
    const role = appRole.roleRef ? refIdentity(appRole.roleRef, ns) : `id=${appRole.roleId}`;
    return `approle:${appRole.path ?? ''}:${role}:${refIdentity(appRole.secretRef, ns)}`;
  }
  if (iam) return iamIdentity(iam, ns);
  if (kubernetes) {
    const who = kubernetes.serviceAccountRef
      ? `sa=${refIdentity(kubernetes.serviceAccountRef, ns)}:${kubernetes.serviceAccountRef.audiences?.join(',') ?? ''}`
      : `secret=${refIdentity(kubernetes.secretRef ?? { name: '' }, ns)}`;
    return `kubernetes:${kubernetes.mountPath ?? ''}:${kubernetes.role}:${who}`;
  }
  const sat = jwt?.kubernetesServiceAccountToken;
  const who = sat
    ? `sa=${refIdentity(sat.serviceAccountRef, ns)}:${(sat.audiences ?? sat.serviceAccountRef.audiences ?? []).join(',')}`
    : `secret=${refIdentity(jwt?.secretRef ?? { name: '' }, ns)}`;
  return `jwt:${jwt?.path ?? ''}:${jwt?.role ?? ''}:${who}`;
}

function iamIdentity(iam: NonNullable<VaultSpec['auth']['iam']>, ns: string): string {
  const who = iam.secretRef
    ? `keys=${refIdentity(iam.secretRef.accessKeyIDSecretRef, ns)}:${refIdentity(iam.secretRef.secretAccessKeySecretRef, ns)}:${iam.secretRef.sessionTokenSecretRef ? refIdentity(iam.secretRef.sessionTokenSecretRef, ns) : ''}`
    : iam.jwt
      ? `sa=${refIdentity(iam.jwt.serviceAccountRef, ns)}:${iam.jwt.serviceAccountRef.audiences?.join(',') ?? ''}`
      : 'default-chain';
  const aws = JSON.stringify([iam.region ?? '', iam.role ?? '', iam.externalID ?? '', iam.vaultAwsIamServerID ?? '']);
  return `iam:${iam.path ?? ''}:${iam.vaultRole}:${aws}:${who}`;
}

async function caPem(spec: VaultSpec, ctx: StoreContext): Promise<string | undefined> {
  if (spec.caBundle) {
    const pem = Buffer.from(spec.caBundle, 'base64').toString('utf8');
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new ProviderError('Invalid', 'spec.provider.vault.caBundle is not base64 of a PEM certificate');
    }
    return pem;
  }
  const ca = spec.caProvider;
  if (!ca) return undefined;
  const ref = { name: ca.name, key: ca.key, namespace: ca.namespace };
  const value = ca.type === 'Secret' ? await ctx.readSecretKey(ref) : await ctx.readConfigMapKey(ref);
  const pem = value.revealText();
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ProviderError(
      'Invalid',
      `spec.provider.vault.caProvider: ${ca.type} ${ca.name} key "${ca.key}" holds no PEM certificate`,
    );
  }
  return pem;
}

export const vaultProvider: Provider<VaultSpec> = {
  name: 'vault',

  identity(spec, ns) {
    const ca = spec.caProvider
      ? `${spec.caProvider.type}:${refIdentity(spec.caProvider, ns)}`
      : spec.caBundle
        ? 'bundle'
        : '';
    return `${spec.server}|${spec.namespace ?? ''}|${spec.auth.namespace ?? ''}|${ca}|${credentialsIdentity(spec, ns)}`;
  },

  usesServiceAccountToken: ({ auth }) =>
    auth.kubernetes?.serviceAccountRef !== undefined ||
    auth.jwt?.kubernetesServiceAccountToken !== undefined ||
    auth.iam?.jwt !== undefined,

  ambientIdentity: ({ auth }) =>
    auth.iam && !auth.iam.secretRef && !auth.iam.jwt
      ? "spec.provider.vault.auth.iam sets neither secretRef nor jwt, so sts:GetCallerIdentity would be signed with the AWS SDK's default credential chain"
      : undefined,

  async createClient(spec, ctx): Promise<ProviderClient> {
    ctx.egress.checkUrl('spec.provider.vault.server', spec.server);
    const serverID = spec.auth.iam?.vaultAwsIamServerID;
    // The signed header binds the login to one Vault; naming another host's ID makes it replayable there.
    if (serverID) ctx.egress.checkOverride('spec.provider.vault.auth.iam.vaultAwsIamServerID', serverID);
    const http = new VaultHttp({
      server: spec.server,
      lookup: ctx.egress.guardedLookup('spec.provider.vault.server'),
      caPem: await caPem(spec, ctx),
      namespace: spec.namespace,
      headers: spec.headers,
    });
    const session = new VaultSession(spec.auth, http, ctx);
    const v2 = (spec.version ?? 'v2') === 'v2';

    /** One authenticated call; on 403 one more try if the token, not the policy, was refused. */
    const authorized = async (path: string, what: string, signal: AbortSignal) => {
      const token = await session.current(signal);
      const call = { method: 'GET' as const, path, what, signal };
      const first = await http.send({ ...call, token: token.revealText() });
      if (first.status !== 403 || !(await session.refused(token, signal))) return http.check(first, call);
      const retried = await http.send({ ...call, token: (await session.current(signal)).revealText() });
      return http.check(retried, call);
    };

    return {
      keepsCredentialsFresh: true,
      readsMetadata: v2,

      async read(ref, signal) {
        if (ref.metadataPolicy === 'Fetch') {
          const what = `reading the metadata of "${ref.key}"`;
          const { body } = await authorized(kvMetadataPath(spec, ref), what, signal);
          const meta = (body as { data?: { custom_metadata?: unknown } } | undefined)?.data?.custom_metadata;
          return { value: SecretValue.fromString(JSON.stringify(meta ?? {})) };
        }
        const what = `reading "${ref.key}"${ref.version ? ` version ${ref.version}` : ''}`;
        const { body } = await authorized(kvReadPath(spec, ref), what, signal);
        const data = (body as KvAnswer | undefined)?.data;
        const map = v2 ? (data as { data?: unknown } | null | undefined)?.data : data;
        if (map === null || map === undefined || typeof map !== 'object') {
          throw new ProviderError('NotFound', `Vault ${what}: the answer holds no data`);
        }
        const version = v2 ? (data as { metadata?: { version?: unknown } }).metadata?.version : undefined;
        return {
          value: SecretValue.fromString(JSON.stringify(map)),
          versionId: typeof version === 'number' ? String(version) : undefined,
        };
      },

      find(query, signal, pace) {
        const get = async (path: string, what: string, s: AbortSignal) => {
          try {
            return (await authorized(path, what, s)).body;
          } catch (err) {
            if (err instanceof ProviderError && err.kind === 'NotFound') return undefined;
            throw err;
          }
        };
        return findVaultSecrets(spec, get, query, signal, pace);
      },

      async validate(signal) {
        await authorized('auth/token/lookup-self', `checking its token (auth ${authMethod(spec.auth)})`, signal);
      },

      async close() {
        await session.revoke();
        await http.close();
      },
    };
  },
};
