// AWS Systems Manager Parameter Store: GetParameter for one parameter or a version/label
// (`name:version`, ESO's selector), GetParameters (≤ 10 names, decrypted) for current values due
// together, ListTagsForResource for metadataPolicy Fetch. String, StringList (the comma-separated
// text) and SecureString (decrypted) values are written as AWS returns them.
import {
  GetParameterCommand,
  GetParametersCommand,
  type GetParametersCommandOutput,
  ListTagsForResourceCommand,
  type Parameter,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { SecretValue } from '../../values.ts';
import { type FetchedValue, type ProviderClient, ProviderError, type RemoteRef } from '../provider.ts';
import { classifyAwsError } from './errors.ts';
import { findParameterNames } from './parameter-find.ts';

/** GetParameters takes at most 10 names per call. */
export const PARAMETERS_PER_CALL = 10;

type ParameterStoreReads = Pick<
  ProviderClient,
  'read' | 'readMany' | 'batchable' | 'maxBatch' | 'find' | 'readsMetadata'
>;

function fetched(p: Parameter, key: string): FetchedValue {
  if (p.Value === undefined) throw new ProviderError('Invalid', `AWS parameter "${key}" has no value`);
  return { value: SecretValue.fromString(p.Value), versionId: p.Version === undefined ? undefined : String(p.Version) };
}

function notFound(key: string): ProviderError {
  return new ProviderError('NotFound', `AWS ParameterNotFound reading "${key}": the parameter does not exist`);
}

export function parameterStoreReads(ssm: SSMClient, prefix: string): ParameterStoreReads {
  const tags = async (ref: RemoteRef, signal: AbortSignal): Promise<FetchedValue> => {
    // Tags belong to the parameter, not to one version: the version selector is not sent.
    try {
      const out = await ssm.send(
        new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: prefix + ref.key }),
        { abortSignal: signal },
      );
      const map = Object.fromEntries((out.TagList ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
      return { value: SecretValue.fromString(JSON.stringify(map)) };
    } catch (err) {
      // ListTagsForResource answers InvalidResourceId for a parameter that does not exist.
      if ((err as { name?: string })?.name === 'InvalidResourceId') throw notFound(ref.key);
      throw classifyAwsError(err, `reading the tags of "${ref.key}"`);
    }
  };

  return {
    maxBatch: PARAMETERS_PER_CALL,
    readsMetadata: true,
    batchable: (ref) => ref.version === undefined && ref.metadataPolicy !== 'Fetch',

    async read(ref, signal) {
      if (ref.metadataPolicy === 'Fetch') return tags(ref, signal);
      const name = prefix + ref.key + (ref.version ? `:${ref.version}` : '');
      const what = `reading "${ref.key}"${ref.version ? ` version ${ref.version}` : ''}`;
      try {
        const out = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }), {
          abortSignal: signal,
        });
        if (!out.Parameter) throw notFound(ref.key);
        return fetched(out.Parameter, ref.key);
      } catch (err) {
        throw classifyAwsError(err, what);
      }
    },

    async readMany(refs, signal) {
      const names = refs.map((r) => prefix + r.key);
      let out: GetParametersCommandOutput;
      try {
        out = await ssm.send(new GetParametersCommand({ Names: names, WithDecryption: true }), {
          abortSignal: signal,
        });
      } catch (err) {
        const error = classifyAwsError(err, `reading ${refs.length} parameters in one batch`);
        return refs.map(() => error);
      }
      return names.map((name, i): FetchedValue | ProviderError => {
        const key = refs[i]?.key ?? name;
        // A name may be given as the parameter's ARN (a parameter shared from another account).
        const hit = out.Parameters?.find((p) => p.Name === name || p.ARN === name);
        if (hit) {
          try {
            return fetched(hit, key);
          } catch (err) {
            return err as ProviderError;
          }
        }
        if (out.InvalidParameters?.includes(name)) return notFound(key);
        return new ProviderError('Transient', `AWS GetParameters returned nothing for "${key}"`);
      });
    },

    find: (query, signal) => findParameterNames(ssm, prefix, query, signal),
  };
}
