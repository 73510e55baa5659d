// spec.provider.gcpsm: Google Cloud Secret Manager (ESO field names; transport and endpoint are Ferry's).
import { enumOf, object, required, string } from '../../schema.ts';
import { type StoreScope, secretKeySelector, serviceAccountSelector } from '../common.ts';

/** An https URL, or plain http to a loopback address only (a local emulator or sidecar). */
export const GCP_ENDPOINT_PATTERN =
  '^(https://[A-Za-z0-9.-]+(:[0-9]{1,5})?|http://(127\\.0\\.0\\.1|localhost|\\[::1\\])(:[0-9]{1,5})?)/?$';

function auth(scope: StoreScope) {
  return object(
    `How Ferry authenticates to Google Cloud. At most one method; none means Application Default Credentials of the controller (GOOGLE_APPLICATION_CREDENTIALS, or the GKE/GCE metadata server).${scope === 'Namespaced' ? ' In a SecretStore only when the platform admin allows it (controller flag --namespaced-ambient-identity, chart value namespacedAmbientIdentity); otherwise the store is refused.' : ''} Credentials are built once per store identity and refreshed before they expire.`,
    {
      secretRef: object('A service-account key read from a Secret.', {
        secretAccessKeySecretRef: required(
          secretKeySelector(
            'The service-account key JSON (type service_account), as downloaded from Google Cloud.',
            scope,
          ),
        ),
      }),
      workloadIdentity: object(
        'GKE Workload Identity: a token for a Kubernetes ServiceAccount (TokenRequest, audience <clusterProjectID>.svc.id.goog) exchanged at Google STS. When the ServiceAccount carries the annotation iam.gke.io/gcp-service-account, Ferry then impersonates that Google service account.',
        {
          serviceAccountRef: required(
            serviceAccountSelector('The Kubernetes ServiceAccount whose token is exchanged.', scope),
          ),
          clusterLocation: required(
            string('Location (region or zone) of the GKE cluster, e.g. europe-west1.', { minLength: 1, maxLength: 64 }),
          ),
          clusterName: required(string('Name of the GKE cluster.', { minLength: 1, maxLength: 128 })),
          clusterProjectID: string(
            'Project of the GKE cluster, whose workload identity pool (<project>.svc.id.goog) the token belongs to. Default: projectID.',
            { maxLength: 64 },
          ),
        },
      ),
    },
    {
      validations: [
        {
          rule: '!(has(self.secretRef) && has(self.workloadIdentity))',
          message: 'set at most one of auth.secretRef and auth.workloadIdentity',
          fieldPath: '.workloadIdentity',
          reason: 'FieldValueForbidden',
        },
      ],
    },
  );
}

export function gcpsmProvider(scope: StoreScope) {
  return object(
    'Google Cloud Secret Manager. remoteRef.key is the secret ID; remoteRef.version is latest (default), a version number or a version alias.',
    {
      projectID: required(
        string('Project that holds the secrets.', {
          minLength: 1,
          maxLength: 64,
          pattern: '^[a-z0-9.:-]+$',
        }),
      ),
      location: string(
        'Location of regional secrets, e.g. europe-west1: Ferry then reads projects/<projectID>/locations/<location>/secrets/… from secretmanager.<location>.rep.googleapis.com. Unset: global secrets.',
        { maxLength: 64, pattern: '^[a-z0-9-]+$' },
      ),
      secretVersionSelectionPolicy: enumOf(
        'What reading version latest does when the newest version is disabled or destroyed. LatestOrFail (default) reports it as not found; LatestOrFetch reads the newest enabled version instead.',
        ['LatestOrFail', 'LatestOrFetch'] as const,
      ),
      transport: enumOf(
        'Ferry extension. GRPC (default) uses the client library’s gRPC transport; REST uses its HTTP/1.1 JSON transport (for proxies that do not pass gRPC, and local emulators). Both map answers and errors the same way.',
        ['GRPC', 'REST'] as const,
      ),
      endpoint: string(
        'Ferry extension. Base URL of the Secret Manager API, e.g. a Private Service Connect endpoint; it overrides the endpoint chosen from location. https, or plain http to a loopback address only (a local emulator, with transport REST).',
        { maxLength: 2048, pattern: GCP_ENDPOINT_PATTERN },
      ),
      auth: auth(scope),
    },
    {
      validations: [
        {
          rule: "!has(self.endpoint) || !self.endpoint.startsWith('http://') || (has(self.transport) && self.transport == 'REST')",
          message: 'a plain-http endpoint needs transport REST',
          fieldPath: '.transport',
          reason: 'FieldValueInvalid',
        },
      ],
    },
  );
}
