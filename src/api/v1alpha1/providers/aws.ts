// spec.provider.aws: AWS Secrets Manager and Systems Manager Parameter Store (ESO field names).
import { arrayOf, boolean, enumOf, integer, mapOf, object, required, string } from '../../schema.ts';
import { type StoreScope, secretKeySelector, serviceAccountSelector } from '../common.ts';

export function awsProvider(scope: StoreScope) {
  return object(
    'AWS Secrets Manager or Systems Manager Parameter Store. With no auth, the controller’s own AWS identity is used (environment, web identity / IRSA, EKS Pod Identity, instance role).',
    {
      service: enumOf(
        'AWS service to read: SecretsManager (default) or ParameterStore (SSM parameters: String, StringList and SecureString, decrypted).',
        ['SecretsManager', 'ParameterStore'] as const,
      ),
      region: required(string('AWS region, e.g. eu-west-1.', { minLength: 1, maxLength: 64 })),
      role: string(
        'ARN of an IAM role to assume (STS AssumeRole) on top of the configured credentials, after additionalRoles; with auth.jwt and no additionalRoles, the role the ServiceAccount token is exchanged for.',
        { maxLength: 2048 },
      ),
      additionalRoles: arrayOf(
        'Role ARNs assumed in order before role (role chaining): the first with the configured credentials, each next one with the previous one’s; role, if set, is assumed last. With auth.jwt the token is exchanged for the first of them.',
        string('ARN of an IAM role, e.g. arn:aws:iam::123456789012:role/reader.', { minLength: 1, maxLength: 2048 }),
        { maxItems: 10 },
      ),
      externalID: string(
        'External ID passed when assuming role (the last of the chain; ignored without role, as in ESO).',
        {
          maxLength: 1224,
        },
      ),
      sessionTags: arrayOf(
        'STS session tags passed when assuming role (the last of the chain; ignored without role, as in ESO).',
        object('One session tag.', {
          key: required(string('Tag key.', { minLength: 1, maxLength: 128 })),
          value: required(string('Tag value.', { maxLength: 256 })),
        }),
        { maxItems: 50 },
      ),
      transitiveTagKeys: arrayOf(
        'Keys of sessionTags that stay on the session through later role chaining (STS TransitiveTagKeys).',
        string('A key listed in sessionTags.', { minLength: 1, maxLength: 128 }),
        { maxItems: 50 },
      ),
      sessionTagsPolicy: enumOf(
        'Session tags Ferry adds when assuming role, for attribute-based access control: None (default) adds none; Simple adds esoNamespace (the ExternalSecret’s namespace), esoStoreName and esoStoreKind; Custom adds those and customSessionTags. They are merged with sessionTags; the three built-in tags win. The role’s trust policy must allow sts:TagSession.',
        ['None', 'Simple', 'Custom'] as const,
      ),
      customSessionTags: mapOf(
        'Extra session tags added with sessionTagsPolicy Custom (entries with an empty key or value are skipped, as in ESO).',
        string('Tag value.', { maxLength: 256 }),
      ),
      prefix: string('Prefix added to every remote key read through this store.', { maxLength: 512 }),
      secretsManager: object(
        'PushSecret deletion settings (ESO). Accepted for ESO compatibility; Ferry never writes to the provider, so this has no effect. Validated as ESO validates it.',
        {
          forceDeleteWithoutRecovery: boolean(
            'Accepted for ESO compatibility; Ferry never writes to the provider, so this has no effect. (ESO: delete a pushed secret without a recovery window.)',
          ),
          recoveryWindowInDays: integer(
            'Accepted for ESO compatibility; Ferry never writes to the provider, so this has no effect. (ESO: days a deleted pushed secret stays recoverable, 7 to 30; 0 means the AWS default.)',
            { format: 'int64' },
          ),
        },
        {
          validations: [
            {
              rule: '!has(self.recoveryWindowInDays) || self.recoveryWindowInDays == 0 || (self.recoveryWindowInDays >= 7 && self.recoveryWindowInDays <= 30)',
              message: 'recoveryWindowInDays must be between 7 and 30 days',
              fieldPath: '.recoveryWindowInDays',
              reason: 'FieldValueInvalid',
            },
            {
              rule: '!(has(self.recoveryWindowInDays) && self.recoveryWindowInDays != 0 && has(self.forceDeleteWithoutRecovery) && self.forceDeleteWithoutRecovery)',
              message: 'forceDeleteWithoutRecovery conflicts with recoveryWindowInDays',
              fieldPath: '.forceDeleteWithoutRecovery',
              reason: 'FieldValueForbidden',
            },
          ],
        },
      ),
      auth: object(
        `How to authenticate. At most one method; none means the controller’s own identity (the SDK's default chain), with role and additionalRoles assumed on top.${scope === 'Namespaced' ? ' In a SecretStore only when the platform admin allows it (controller flag --namespaced-ambient-identity, chart value namespacedAmbientIdentity); otherwise the store is refused.' : ''}`,
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
    {
      validations: [
        {
          rule: '!has(self.transitiveTagKeys) || (has(self.sessionTags) && self.transitiveTagKeys.all(k, self.sessionTags.exists(t, t.key == k)))',
          message: 'every transitiveTagKeys entry must be the key of one of sessionTags',
          fieldPath: '.transitiveTagKeys',
          reason: 'FieldValueInvalid',
        },
        {
          rule: "!has(self.customSessionTags) || (!('esoNamespace' in self.customSessionTags) && !('esoStoreName' in self.customSessionTags) && !('esoStoreKind' in self.customSessionTags))",
          message:
            'customSessionTags cannot contain automatically injected reserved keys: esoNamespace, esoStoreName, esoStoreKind',
          fieldPath: '.customSessionTags',
          reason: 'FieldValueForbidden',
        },
      ],
    },
  );
}
