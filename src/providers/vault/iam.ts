// Vault's AWS IAM login (auth.iam): an STS GetCallerIdentity request signed with the store's AWS
// credentials (SigV4, by the AWS SDK's own signer), handed to Vault unsent; Vault sends it to STS
// and logs in whoever STS says signed it. The AWS credentials come from the AWS provider's code
// (credentials.ts): static keys, a ServiceAccount token exchanged by web identity, or the
// controller's own identity, then `role` assumed on top.
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { awsCredentials } from '../aws/credentials.ts';
import { classifyAwsError } from '../aws/errors.ts';
import type { AwsSpec } from '../aws/spec.ts';
import { ProviderError, type StoreContext } from '../provider.ts';
import type { VaultAuthSpec } from './spec.ts';

export type VaultIamSpec = NonNullable<VaultAuthSpec['iam']>;

export interface AwsKeys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The request Vault's AWS auth method expects: GetCallerIdentity as a form POST. */
export const CALLER_IDENTITY_BODY = 'Action=GetCallerIdentity&Version=2011-06-15';
/** ESO's defaults for auth.iam. */
export const DEFAULT_IAM_REGION = 'us-east-1';
export const DEFAULT_IAM_PATH = 'aws';
const FIELD = 'spec.provider.vault.auth.iam';
/** Where EKS (IRSA) names the role of a ServiceAccount; ESO reads it for auth.iam.jwt. */
export const IRSA_ROLE_ANNOTATION = 'eks.amazonaws.com/role-arn';

/**
 * The STS URL the request is signed for. AWS_ENDPOINT_URL_STS (or AWS_ENDPOINT_URL), the AWS
 * SDK's standard endpoint settings that Ferry's AWS provider honours too, win; otherwise the
 * global endpoint for us-east-1 (what Vault's own client and ESO sign for, and Vault's default
 * sts_endpoint) and the region's endpoint elsewhere (Vault's auth/<path>/config/client must then
 * name it as sts_endpoint, with sts_region).
 */
export function stsUrl(region: string, env: NodeJS.ProcessEnv = process.env): string {
  const override = env.AWS_ENDPOINT_URL_STS || env.AWS_ENDPOINT_URL;
  if (override) return new URL(override).href;
  if (region === DEFAULT_IAM_REGION) return 'https://sts.amazonaws.com/';
  return `https://sts.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}/`;
}

/**
 * The login fields for auth/<path>/login, except role: the signed request as Vault's own client
 * sends it (method, then URL, body and headers in base64; the headers as JSON of name -> values).
 * The X-Vault-AWS-IAM-Server-ID header, when given, is signed with the rest: Vault refuses it
 * unsigned.
 */
export async function signedCallerIdentity(opts: {
  keys: AwsKeys;
  region: string;
  url: string;
  serverId?: string;
  signingDate?: Date;
}): Promise<Record<string, string>> {
  const url = new URL(opts.url);
  const headers: Record<string, string> = {
    host: url.host,
    'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
  };
  if (opts.serverId) headers['x-vault-aws-iam-server-id'] = opts.serverId;
  const signer = new SignatureV4({ credentials: opts.keys, region: opts.region, service: 'sts', sha256: Sha256 });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query: {},
      headers,
      body: CALLER_IDENTITY_BODY,
    },
    { signingDate: opts.signingDate },
  );
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  const asGoHeader = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k, [v]]));
  return {
    iam_http_request_method: 'POST',
    iam_request_url: b64(url.href),
    iam_request_body: b64(CALLER_IDENTITY_BODY),
    iam_request_headers: b64(JSON.stringify(asGoHeader)),
  };
}

/**
 * auth.iam as the AWS provider's spec, so its credential code does the work. With jwt, the token
 * is exchanged for the role of the ServiceAccount's eks.amazonaws.com/role-arn annotation (as ESO
 * does) and `role` is then assumed on top; without that annotation, for `role` itself.
 */
async function asAwsSpec(iam: VaultIamSpec, ctx: StoreContext): Promise<AwsSpec> {
  const region = iam.region || DEFAULT_IAM_REGION;
  const role = iam.role || undefined;
  const externalID = iam.externalID || undefined;
  if (iam.jwt) {
    const annotations = await ctx.readServiceAccountAnnotations(iam.jwt.serviceAccountRef);
    const irsaRole = annotations[IRSA_ROLE_ANNOTATION]?.trim();
    if (irsaRole) {
      return { region, auth: { jwt: iam.jwt }, additionalRoles: [irsaRole], role, externalID };
    }
    if (!role) {
      throw new ProviderError(
        'Invalid',
        `${FIELD}.jwt: ServiceAccount ${iam.jwt.serviceAccountRef.name} has no ${IRSA_ROLE_ANNOTATION} annotation and ${FIELD}.role is unset, so there is no role to exchange its token for`,
      );
    }
    if (externalID) {
      throw new ProviderError(
        'Invalid',
        `${FIELD}.externalID applies to an AssumeRole of role; with jwt and no ${IRSA_ROLE_ANNOTATION} annotation on ServiceAccount ${iam.jwt.serviceAccountRef.name}, the token is exchanged for role itself`,
      );
    }
    return { region, auth: { jwt: iam.jwt }, role };
  }
  return { region, auth: iam.secretRef ? { secretRef: iam.secretRef } : undefined, role, externalID };
}

/** The AWS credentials auth.iam signs with, obtained afresh for each Vault login. */
export async function iamKeys(iam: VaultIamSpec, ctx: StoreContext): Promise<AwsKeys> {
  const spec = await asAwsSpec(iam, ctx);
  const credentials = await awsCredentials(spec, ctx);
  try {
    const keys = await (credentials.provider ?? fromNodeProviderChain())();
    if (!keys.accessKeyId || !keys.secretAccessKey) {
      const where = iam.secretRef ? `${FIELD}.secretRef` : `the AWS credentials of ${FIELD}`;
      throw new ProviderError('Invalid', `${where}: the access key ID or the secret access key is empty`);
    }
    return { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey, sessionToken: keys.sessionToken };
  } catch (err) {
    throw classifyAwsError(err, `finding the AWS credentials of ${FIELD}`);
  } finally {
    credentials.close();
  }
}

/** The body of POST auth/<path>/login for auth.iam. */
export async function iamLoginPayload(iam: VaultIamSpec, ctx: StoreContext): Promise<Record<string, string>> {
  const keys = await iamKeys(iam, ctx);
  const region = iam.region || DEFAULT_IAM_REGION;
  const signed = await signedCallerIdentity({
    keys,
    region,
    url: stsUrl(region),
    serverId: iam.vaultAwsIamServerID || undefined,
  });
  return { ...signed, role: iam.vaultRole };
}
