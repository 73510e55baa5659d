// IAM users in moto for tests that turn on its IAM enforcement (enforceMotoAuth).
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import type { AwsAccess } from '../testbed/moto.ts';

/** A user allowed only `actions` (on every resource); returns its access key. */
export async function motoUserAllowedOnly(
  access: AwsAccess,
  userName: string,
  actions: string[],
): Promise<{ id: string; secret: string }> {
  const { region, endpoint, accessKeyId, secretAccessKey } = access;
  const iam = new IAMClient({ region, endpoint, credentials: { accessKeyId, secretAccessKey } });
  await iam.send(new CreateUserCommand({ UserName: userName }));
  await iam.send(
    new PutUserPolicyCommand({
      UserName: userName,
      PolicyName: 'allowed-only',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }],
      }),
    }),
  );
  const key = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
  iam.destroy();
  return { id: key.AccessKey?.AccessKeyId ?? '', secret: key.AccessKey?.SecretAccessKey ?? '' };
}
