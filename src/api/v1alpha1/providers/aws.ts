// spec.provider.aws: AWS Secrets Manager (ESO field names).
import { enumOf, object, required, string } from '../../schema.ts';
import { type StoreScope, secretKeySelector, serviceAccountSelector } from '../common.ts';

export function awsProvider(scope: StoreScope) {
  return object(
    'AWS Secrets Manager. With no auth, the controller’s own AWS identity is used (environment, web identity / IRSA, EKS Pod Identity, instance role).',
    {
      service: enumOf('AWS service to read. Only SecretsManager.', ['SecretsManager'] as const),
      region: required(string('AWS region, e.g. eu-west-1.', { minLength: 1, maxLength: 64 })),
      role: string('ARN of an IAM role to assume (STS AssumeRole) on top of the configured credentials.', {
        maxLength: 2048,
      }),
      externalID: string('External ID passed when assuming role.', { maxLength: 1224 }),
      prefix: string('Prefix added to every remote key read through this store.', { maxLength: 512 }),
      auth: object(
        'How to authenticate. At most one method; none means the controller’s own identity.',
        {
          secretRef: object('Static access keys read from a Secret.', {
            accessKeyIDSecretRef: required(secretKeySelector('The AWS access key ID.', scope)),
            secretAccessKeySecretRef: required(secretKeySelector('The AWS secret access key.', scope)),
            sessionTokenSecretRef: secretKeySelector('Session token for temporary credentials.', scope),
          }),
          jwt: object('Web identity (IRSA-style) with a token minted for a named ServiceAccount.', {
            serviceAccountRef: required(
              serviceAccountSelector('ServiceAccount whose token is exchanged for AWS credentials.', scope),
            ),
          }),
        },
        {
          validations: [
            {
              rule: '!(has(self.secretRef) && has(self.jwt))',
              message: 'set only one of auth.secretRef and auth.jwt',
              fieldPath: '.jwt',
              reason: 'FieldValueForbidden',
            },
          ],
        },
      ),
    },
  );
}
