// spec.provider.vault: HashiCorp Vault and OpenBao KV secrets engines (ESO field names).
import { arrayOf, boolean, enumOf, integer, mapOf, object, required, string } from '../../schema.ts';
import {
  namespaceOnlyInClusterStore,
  noApiServerAudience,
  noApiServerAudienceInSecretStore,
  type StoreScope,
  secretKeySelector,
  serviceAccountSelector,
} from '../common.ts';

/** The longest ServiceAccount token Ferry asks for on a store's behalf: one login needs minutes. */
export const MAX_TOKEN_SECONDS = 3600;

const oneOf = (fields: string[], what: string) => ({
  rule: `${fields.map((f) => `(has(self.${f}) ? 1 : 0)`).join(' + ')} == 1`,
  message: `set exactly one of ${fields.map((f) => `${what}.${f}`).join(', ')}`,
});

function caProvider(scope: StoreScope) {
  return object(
    'A CA certificate (PEM) read from a Secret or ConfigMap, used to verify the Vault server.',
    {
      type: required(enumOf('Kind of object holding the certificate.', ['Secret', 'ConfigMap'] as const)),
      name: required(string('Name of the Secret or ConfigMap.', { minLength: 1, maxLength: 253 })),
      key: required(string('Key holding the PEM certificate.', { minLength: 1, maxLength: 253 })),
      namespace: string(
        'Namespace of the object. Only honoured in a ClusterSecretStore; when omitted there, the namespace of the ExternalSecret using the store is used.',
        { maxLength: 63 },
      ),
    },
    scope === 'Namespaced' ? { validations: [namespaceOnlyInClusterStore] } : {},
  );
}

/** userPass and ldap: the same login shape (a username in the path, the password in the body). */
function passwordLogin(description: string, defaultPath: string, what: string, scope: StoreScope) {
  return object(description, {
    path: string(`Mount path of the ${what} auth method. Default ${defaultPath}.`, { maxLength: 256 }),
    username: required(string(`The ${what} username.`, { minLength: 1, maxLength: 512 })),
    secretRef: required(secretKeySelector(`The password of the ${what} user, read from a Secret.`, scope)),
  });
}

function kubernetesLogin(scope: StoreScope) {
  const secret = (d: string) => secretKeySelector(d, scope);
  return object(
    'Kubernetes login (POST auth/<mountPath>/login with a ServiceAccount token that Vault checks with a TokenReview).',
    {
      mountPath: string('Mount path of the Kubernetes auth method. Default kubernetes.', { maxLength: 256 }),
      role: required(string('Vault role to log in as.', { minLength: 1, maxLength: 256 })),
      serviceAccountRef: serviceAccountSelector(
        'ServiceAccount for which Ferry requests a short-lived token (TokenRequest, 10 minutes) at each login. Without audiences the token carries the API server’s default audience: allowed in a ClusterSecretStore only; in a SecretStore set audiences (e.g. [vault]) and the same audience on the Vault role.',
        scope,
      ),
      secretRef: secret('A long-lived ServiceAccount token read from a Secret (legacy).'),
    },
    {
      validations: [
        {
          ...oneOf(['serviceAccountRef', 'secretRef'], 'kubernetes'),
          message:
            'set exactly one of kubernetes.serviceAccountRef, kubernetes.secretRef (Ferry does not log in with its own ServiceAccount token)',
        },
        ...(scope === 'Namespaced'
          ? [
              {
                rule: '!has(self.serviceAccountRef) || (has(self.serviceAccountRef.audiences) && size(self.serviceAccountRef.audiences) > 0)',
                message:
                  "a SecretStore's kubernetes.serviceAccountRef needs audiences (without them the token is for the API server itself); set e.g. [vault] and the same audience on the Vault role",
                fieldPath: '.serviceAccountRef.audiences',
                reason: 'FieldValueRequired' as const,
              },
            ]
          : []),
      ],
    },
  );
}

function jwtLogin(scope: StoreScope) {
  const secret = (d: string) => secretKeySelector(d, scope);
  return object(
    'JWT/OIDC login (POST auth/<path>/login with a JWT).',
    {
      path: string('Mount path of the JWT auth method. Default jwt.', { maxLength: 256 }),
      role: string('Vault role to log in as; empty uses the auth method’s default role.', { maxLength: 256 }),
      secretRef: secret('A JWT read from a Secret.'),
      kubernetesServiceAccountToken: object(
        'A JWT minted for a ServiceAccount with TokenRequest at each login.',
        {
          serviceAccountRef: required(serviceAccountSelector('The ServiceAccount the token is for.', scope)),
          audiences: arrayOf(
            'Audiences of the token. Default: vault. In a SecretStore never the API server’s own (blank, kubernetes.default.svc and its variants, or its service-account issuer).',
            string('One audience.', { maxLength: 1024 }),
            { maxItems: 16 },
          ),
          expirationSeconds: integer(
            'Lifetime of the token in seconds, 600 to 3600 (it is used once, to log in). Default 600.',
            { format: 'int64', minimum: 600, maximum: MAX_TOKEN_SECONDS },
          ),
        },
        scope === 'Namespaced'
          ? { validations: [{ ...noApiServerAudienceInSecretStore, rule: noApiServerAudience('audiences') }] }
          : {},
      ),
    },
    { validations: [oneOf(['secretRef', 'kubernetesServiceAccountToken'], 'jwt')] },
  );
}

function auth(scope: StoreScope) {
  const secret = (d: string) => secretKeySelector(d, scope);
  return object(
    'How Ferry logs in to Vault. Exactly one method. Ferry logs in once per store identity, keeps and renews the token, and logs in again only when renewal fails or the token is refused.',
    {
      tokenSecretRef: secret(
        'A Vault token read from a Secret. It is used as is (never renewed or revoked by Ferry); the Secret is read again when Vault refuses the token.',
      ),
      appRole: object(
        'AppRole login (POST auth/<path>/login with role_id and secret_id).',
        {
          path: string('Mount path of the AppRole auth method. Default approle.', { maxLength: 256 }),
          roleId: string('The role ID, written inline.', { maxLength: 256 }),
          roleRef: secret('The role ID, read from a Secret.'),
          secretRef: required(secret('The secret ID, read from a Secret.')),
        },
        { validations: [oneOf(['roleId', 'roleRef'], 'appRole')] },
      ),
      kubernetes: kubernetesLogin(scope),
      jwt: jwtLogin(scope),
      userPass: passwordLogin(
        'Userpass login (POST auth/<path>/login/<username> with the password).',
        'userpass',
        'Userpass',
        scope,
      ),
      ldap: passwordLogin(
        'LDAP login (POST auth/<path>/login/<username> with the password; Vault checks it against its LDAP server).',
        'ldap',
        'LDAP',
        scope,
      ),
      iam: object(
        `AWS IAM login (POST auth/<path>/login with an STS GetCallerIdentity request signed with AWS credentials; Vault sends it to STS and logs in the IAM identity that signed it). The credentials: secretRef, or jwt, or neither (the controller’s own AWS identity: environment, IRSA, EKS Pod Identity, instance role); then role, if set, is assumed on top. Obtained afresh at each login.${scope === 'Namespaced' ? ' Neither in a SecretStore only when the platform admin allows it (controller flag --namespaced-ambient-identity, chart value namespacedAmbientIdentity); otherwise the store is refused.' : ''}`,
        {
          path: string('Mount path of the AWS auth method. Default aws.', { maxLength: 256 }),
          region: string(
            'AWS region the request is signed for. Default us-east-1. Ferry signs for https://sts.amazonaws.com in us-east-1 (Vault’s default sts_endpoint) and for https://sts.<region>.amazonaws.com elsewhere, which Vault’s auth/<path>/config/client must then name as sts_endpoint and sts_region; AWS_ENDPOINT_URL_STS in the controller’s environment overrides both.',
            { maxLength: 64 },
          ),
          role: string(
            'ARN of an IAM role assumed (STS AssumeRole) with the credentials before signing; the Vault role must then be bound to it. With jwt and a ServiceAccount that has no eks.amazonaws.com/role-arn annotation, the role the token is exchanged for.',
            { maxLength: 2048 },
          ),
          vaultRole: required(
            string('Vault role to log in as: a role of the AWS auth method with auth_type iam.', {
              minLength: 1,
              maxLength: 256,
            }),
          ),
          externalID: string('External ID passed when assuming role.', { maxLength: 1224 }),
          vaultAwsIamServerID: string(
            'Value of the X-Vault-AWS-IAM-Server-ID header, signed with the request (against replay to another Vault); must equal iam_server_id_header_value of the auth method’s config/client.',
            { maxLength: 1024 },
          ),
          secretRef: object('Static AWS access keys read from a Secret.', {
            accessKeyIDSecretRef: required(secret('The AWS access key ID.')),
            secretAccessKeySecretRef: required(secret('The AWS secret access key.')),
            sessionTokenSecretRef: secret('Session token for temporary credentials.'),
          }),
          jwt: object(
            'Web identity with a token minted for a named ServiceAccount (TokenRequest, audience sts.amazonaws.com unless audiences is set), exchanged with AssumeRoleWithWebIdentity for the role of its eks.amazonaws.com/role-arn annotation (as ESO does; role is then assumed on top), or for role when it has no such annotation.',
            {
              serviceAccountRef: required(
                serviceAccountSelector('ServiceAccount whose token is exchanged for AWS credentials.', scope),
              ),
            },
          ),
        },
        {
          validations: [
            {
              rule: '!(has(self.secretRef) && has(self.jwt))',
              message: 'set at most one of iam.secretRef and iam.jwt',
              fieldPath: '.jwt',
              reason: 'FieldValueForbidden',
            },
            {
              rule: '!has(self.externalID) || self.externalID == "" || (has(self.role) && self.role != "")',
              message: 'iam.externalID needs iam.role: it is passed when assuming that role',
              fieldPath: '.externalID',
              reason: 'FieldValueForbidden',
            },
          ],
        },
      ),
      namespace: string(
        'Vault Enterprise namespace to log in to, when it differs from the store’s namespace (sent as X-Vault-Namespace on login).',
        { maxLength: 256 },
      ),
    },
    { validations: [oneOf(['tokenSecretRef', 'appRole', 'kubernetes', 'jwt', 'userPass', 'ldap', 'iam'], 'auth')] },
  );
}

export function vaultProvider(scope: StoreScope) {
  return object(
    'HashiCorp Vault or OpenBao, KV secrets engine version 1 or 2. remoteRef.key is the secret’s path under the mount; the value read is the JSON object of its data, so remoteRef.property selects one field.',
    {
      server: required(
        string('Address of the server, e.g. https://vault.example.com:8200.', {
          pattern: '^https?://',
          maxLength: 2048,
        }),
      ),
      path: string(
        'Mount path of the KV engine, e.g. secret. A trailing /data (KV v2) is accepted. When unset, the first segment of remoteRef.key is the mount.',
        { maxLength: 512 },
      ),
      version: enumOf('KV engine version: v2 (default) or v1.', ['v1', 'v2'] as const),
      namespace: string('Vault Enterprise namespace, sent as X-Vault-Namespace on every request.', {
        maxLength: 256,
      }),
      caBundle: string(
        'Base64 of the PEM CA certificate(s) that signed the server certificate. Without caBundle or caProvider the system roots are used.',
        { maxLength: 65536 },
      ),
      caProvider: caProvider(scope),
      headers: mapOf(
        'Extra HTTP headers sent with every request (for a proxy in front of Vault). Never put credentials here: the store object is not a Secret.',
        string('Header value.', { maxLength: 4096 }),
      ),
      readYourWrites: boolean('Accepted for ESO compatibility; has no effect, because Ferry only reads.'),
      forwardInconsistent: boolean('Accepted for ESO compatibility; has no effect, because Ferry only reads.'),
      checkAndSet: object(
        'Check-and-set settings of PushSecret writes (ESO). Accepted for ESO compatibility; Ferry never writes to the provider, so this has no effect. As in ESO, required is refused with KV version v1.',
        {
          required: boolean(
            'Accepted for ESO compatibility; Ferry never writes to the provider, so this has no effect. (ESO: every write must use check-and-set.)',
          ),
        },
      ),
      auth: required(auth(scope)),
    },
    {
      validations: [
        {
          rule: '!(has(self.caBundle) && has(self.caProvider))',
          message: 'set at most one of caBundle and caProvider',
          fieldPath: '.caProvider',
          reason: 'FieldValueForbidden',
        },
        {
          rule: "!(has(self.checkAndSet) && has(self.checkAndSet.required) && self.checkAndSet.required && has(self.version) && self.version == 'v1')",
          message: 'checkAndSet.required is not supported with KV version v1',
          fieldPath: '.checkAndSet',
          reason: 'FieldValueForbidden',
        },
      ],
    },
  );
}
