// AWS credentials for a store: static keys from a Secret, web identity with a token minted for a
// named ServiceAccount, or the SDK's default chain; optionally an assumed role on top.
import { fromTemporaryCredentials, fromWebToken } from '@aws-sdk/credential-providers';
import { ProviderError, type StoreContext } from '../provider.ts';
import type { AwsSpec } from './spec.ts';

type AwsCredentialIdentityProvider = ReturnType<typeof fromTemporaryCredentials>;

function sessionName(ctx: StoreContext): string {
  return `ferry-${ctx.storeName}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
}

export async function awsCredentials(
  spec: AwsSpec,
  ctx: StoreContext,
): Promise<AwsCredentialIdentityProvider | undefined> {
  const { secretRef, jwt } = spec.auth ?? {};
  let base: AwsCredentialIdentityProvider | undefined;
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
    if (!spec.role)
      throw new ProviderError(
        'Invalid',
        'spec.provider.aws.auth.jwt needs spec.provider.aws.role, the role to assume with the token',
      );
    const roleArn = spec.role;
    // A fresh ServiceAccount token on every credential refresh; the SDK caches the result until it expires.
    return async () => {
      const token = await ctx.requestToken(jwt.serviceAccountRef, ['sts.amazonaws.com']);
      return fromWebToken({
        roleArn,
        webIdentityToken: token,
        roleSessionName: sessionName(ctx),
        clientConfig: { region: spec.region },
      })();
    };
  }
  if (!spec.role) return base;
  return fromTemporaryCredentials({
    masterCredentials: base,
    params: { RoleArn: spec.role, ExternalId: spec.externalID, RoleSessionName: sessionName(ctx) },
    clientConfig: { region: spec.region },
  });
}
