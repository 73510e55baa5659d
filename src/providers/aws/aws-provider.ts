// AWS Secrets Manager: GetSecretValue by stage or VersionId, BatchGetSecretValue (≤ 20 ids) for
// current versions, DescribeSecret for tags (metadataPolicy Fetch); or Parameter Store
// (parameter-store.ts); STS GetCallerIdentity to validate credentials.
import {
  BatchGetSecretValueCommand,
  type BatchGetSecretValueCommandOutput,
  DescribeSecretCommand,
  GetSecretValueCommand,
  type GetSecretValueCommandInput,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { SecretValue } from '../../values.ts';
import { type FetchedValue, type Provider, type ProviderClient, ProviderError, type RemoteRef } from '../provider.ts';
import { refIdentity } from '../references.ts';
import { CappedHttpHandler } from './capped-handler.ts';
import { awsCredentials } from './credentials.ts';
import { classifyAwsError } from './errors.ts';
import { findSecretNames } from './find.ts';
import { parameterStoreReads } from './parameter-store.ts';
import type { AwsSpec } from './spec.ts';

const VERSION_ID_PREFIX = 'uuid/';
const REQUEST_TIMEOUT_MS = 10_000;

function secretValueOf(out: { SecretString?: string; SecretBinary?: Uint8Array }, key: string): SecretValue {
  if (out.SecretString !== undefined) return SecretValue.fromString(out.SecretString);
  if (out.SecretBinary !== undefined) return SecretValue.fromBytes(out.SecretBinary);
  throw new ProviderError('Invalid', `AWS secret "${key}" has neither SecretString nor SecretBinary`);
}

function isCurrentValue(ref: RemoteRef): boolean {
  return (ref.version === undefined || ref.version === 'AWSCURRENT') && ref.metadataPolicy !== 'Fetch';
}

export const awsProvider: Provider<AwsSpec> = {
  name: 'aws',

  // BatchGetSecretValue (20 a call) and GetParameters (10 a call).
  readsInBatches: () => true,

  identity(spec, ns) {
    const { secretRef, jwt } = spec.auth ?? {};
    const who = secretRef
      ? `keys:${refIdentity(secretRef.accessKeyIDSecretRef, ns)}:${refIdentity(secretRef.secretAccessKeySecretRef, ns)}`
      : jwt
        ? `jwt:${refIdentity(jwt.serviceAccountRef, ns)}`
        : 'default-chain';
    const chain = JSON.stringify([
      spec.additionalRoles ?? [],
      spec.role ?? '',
      spec.externalID ?? '',
      spec.sessionTags ?? [],
      spec.transitiveTagKeys ?? [],
      // The built-in session tags name the ExternalSecret's namespace: its credentials are its own.
      spec.sessionTagsPolicy && spec.sessionTagsPolicy !== 'None'
        ? [spec.sessionTagsPolicy, spec.customSessionTags ?? {}, ns]
        : [],
    ]);
    return `${spec.service ?? 'SecretsManager'}|${spec.region}|${chain}|${spec.prefix ?? ''}|${who}`;
  },

  usesServiceAccountToken: (spec) => spec.auth?.jwt !== undefined,

  ambientIdentity(spec) {
    if (spec.auth?.secretRef || spec.auth?.jwt) return undefined;
    const roles = spec.role || spec.additionalRoles?.length ? ' (role and additionalRoles are assumed with it)' : '';
    return `spec.provider.aws.auth sets neither secretRef nor jwt, so the AWS SDK's default credential chain would be used${roles}`;
  },

  async createClient(spec, ctx): Promise<ProviderClient> {
    const credentials = await awsCredentials(spec, ctx);
    // One handler per client: a client's destroy() closes its handler's sockets.
    const common = () => ({
      region: spec.region,
      credentials: credentials.provider,
      // Ferry retries itself, under the store's rate budget, so every call is counted and paced.
      maxAttempts: 1,
      // throwOnRequestTimeout: a slow answer fails the call (Transient) instead of the SDK printing a
      // warning outside the logger and waiting on.
      // Answers are capped while they stream (answer-cap.ts).
      requestHandler: new CappedHttpHandler({
        requestTimeout: REQUEST_TIMEOUT_MS,
        connectionTimeout: 5_000,
        throwOnRequestTimeout: true,
      }),
    });
    const sts = new STSClient(common());
    const prefix = spec.prefix ?? '';
    const validate = async (signal: AbortSignal) => {
      try {
        await sts.send(new GetCallerIdentityCommand({}), { abortSignal: signal });
      } catch (err) {
        throw classifyAwsError(err, 'checking credentials with sts:GetCallerIdentity');
      }
    };

    if (spec.service === 'ParameterStore') {
      const ssm = new SSMClient(common());
      return {
        ...parameterStoreReads(ssm, prefix),
        validate,
        close() {
          ssm.destroy();
          sts.destroy();
          credentials.close();
        },
      };
    }

    const sm = new SecretsManagerClient(common());
    return {
      maxBatch: 20,
      batchable: isCurrentValue,
      readsMetadata: true,

      async read(ref, signal) {
        if (ref.metadataPolicy === 'Fetch') {
          // ESO: the secret's tags as a JSON object; tags belong to the secret, not to a version.
          try {
            const out = await sm.send(new DescribeSecretCommand({ SecretId: prefix + ref.key }), {
              abortSignal: signal,
            });
            // A secret scheduled for deletion is gone for a reader, as GetSecretValue says.
            if (out.DeletedDate) throw new ProviderError('NotFound', `AWS secret "${ref.key}" is marked for deletion`);
            const tags = Object.fromEntries((out.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
            return { value: SecretValue.fromString(JSON.stringify(tags)) };
          } catch (err) {
            throw classifyAwsError(err, `reading the tags of "${ref.key}"`);
          }
        }
        const input: GetSecretValueCommandInput = { SecretId: prefix + ref.key };
        if (ref.version?.startsWith(VERSION_ID_PREFIX)) input.VersionId = ref.version.slice(VERSION_ID_PREFIX.length);
        else if (ref.version) input.VersionStage = ref.version;
        try {
          const out = await sm.send(new GetSecretValueCommand(input), { abortSignal: signal });
          return { value: secretValueOf(out, ref.key), versionId: out.VersionId };
        } catch (err) {
          throw classifyAwsError(err, `reading "${ref.key}"`);
        }
      },

      async readMany(refs, signal) {
        const ids = refs.map((r) => prefix + r.key);
        let out: BatchGetSecretValueCommandOutput;
        try {
          out = await sm.send(new BatchGetSecretValueCommand({ SecretIdList: ids }), { abortSignal: signal });
        } catch (err) {
          const error = classifyAwsError(err, `reading ${refs.length} secrets in one batch`);
          return refs.map(() => error);
        }
        return ids.map((id, i): FetchedValue | ProviderError => {
          const key = refs[i]?.key ?? id;
          const hit = out.SecretValues?.find((v) => v.Name === id || v.ARN === id);
          if (hit) {
            try {
              return { value: secretValueOf(hit, key), versionId: hit.VersionId };
            } catch (err) {
              return err as ProviderError;
            }
          }
          const miss = out.Errors?.find((e) => e.SecretId === id);
          if (miss) return classifyAwsError({ name: miss.ErrorCode, message: miss.Message }, `reading "${key}"`);
          return new ProviderError('Transient', `AWS BatchGetSecretValue returned nothing for "${key}"`);
        });
      },

      find: (query, signal) => findSecretNames(sm, prefix, query, signal),

      validate,

      close() {
        sm.destroy();
        sts.destroy();
        credentials.close();
      },
    };
  },
};
