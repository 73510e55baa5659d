// ExternalSecret: which remote keys to read, from which store, and how to write them.
import {
  arrayOf,
  boolean,
  enumOf,
  integer,
  mapOf,
  object,
  required,
  string,
  type TypeOf,
  timestamp,
} from '../schema.ts';
import { conditions, GO_DURATION_PATTERN } from './common.ts';

/** A Secret data key as the API server takes it: letters, digits, -, _ and ., not "." and not starting "..". */
export const SECRET_KEY_PATTERN = '^([-_a-zA-Z0-9]|\\.[-_a-zA-Z0-9])[-._a-zA-Z0-9]*$';
const SECRET_KEY = new RegExp(SECRET_KEY_PATTERN);
export const isSecretKey = (key: string): boolean => key.length <= 253 && SECRET_KEY.test(key);
/** A Kubernetes object name (DNS-1123 subdomain), the same pattern ESO's CRD puts on target.name. */
export const DNS_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

const remoteRefFields = {
  key: required(
    string(
      'Name, path or ARN of the secret in the provider: an AWS secret name or ARN, a Google Secret Manager secret ID, or a Vault path under the store’s mount.',
      {
        minLength: 1,
        maxLength: 2048,
      },
    ),
  ),
  property: string(
    'Key inside a JSON value to use instead of the whole value. A dotted path (`a.b.c`) reaches into nested objects; a key that itself contains dots is tried first.',
    { maxLength: 1024 },
  ),
  version: string(
    'Version to read. AWS Secrets Manager: a version stage (default AWSCURRENT) or, prefixed `uuid/`, a VersionId; AWS Parameter Store: a version number or label (read as `name:version`); Google: latest (default), a version number or a version alias; Vault KV v2: a version number (KV v1 has none); the fake provider: the declared version. Default: the current version.',
    { maxLength: 256 },
  ),
  decodingStrategy: enumOf(
    'How the fetched value is decoded before it is written. None (default) writes it as is; Base64 and Base64URL decode it and fail on invalid input; Auto decodes when the value is valid base64 and writes it unchanged otherwise.',
    ['None', 'Base64', 'Base64URL', 'Auto'] as const,
  ),
  conversionStrategy: enumOf(
    'Key-name conversion, accepted for ESO compatibility: a data item is written under its secretKey, so nothing is converted. Only Default is accepted here (dataFrom[].extract and find also take Unicode).',
    ['Default'] as const,
  ),
  metadataPolicy: enumOf(
    'None (default) reads the value. Fetch reads the secret’s metadata instead, as a JSON object that `property` can select from: for Vault KV v2 its custom_metadata; for AWS (Secrets Manager and Parameter Store) and Azure its tags. Other providers refuse Fetch with a clear error.',
    ['None', 'Fetch'] as const,
  ),
};

const storeRef = (description: string) =>
  object(description, {
    name: required(string('Name of the SecretStore or ClusterSecretStore.', { minLength: 1, maxLength: 253 })),
    kind: enumOf('Kind of the store. Default SecretStore (in the same namespace).', [
      'SecretStore',
      'ClusterSecretStore',
    ] as const),
  });

const sourceRef = object(
  'Where this item reads from instead of spec.secretStoreRef (ESO’s field). Only storeRef is supported; generatorRef is refused.',
  {
    storeRef: storeRef(
      'The store this item reads from. Each store is resolved and checked (existence, ClusterSecretStore conditions) on its own; reads are still shared per store and key, and a failure in any store leaves the Secret untouched.',
    ),
    generatorRef: object('ESO generators. Not supported by Ferry: an item naming one is refused at admission.', {
      apiVersion: string('API version of the generator.', { maxLength: 253 }),
      kind: string('Kind of the generator.', { maxLength: 253 }),
      name: string('Name of the generator.', { maxLength: 253 }),
    }),
  },
  {
    validations: [
      {
        rule: '!has(self.generatorRef)',
        message: 'generators are not supported by Ferry; name a store in sourceRef.storeRef',
        fieldPath: '.generatorRef',
        reason: 'FieldValueForbidden',
      },
    ],
  },
);

const dataItem = object('One key of the target Secret and the remote value it comes from.', {
  secretKey: required(
    string('Key written in the target Secret. Letters, digits, `-`, `_` and `.` only.', {
      pattern: SECRET_KEY_PATTERN,
      minLength: 1,
      maxLength: 253,
    }),
  ),
  remoteRef: required(object('The remote value written under secretKey.', remoteRefFields)),
  sourceRef,
});

const rewrite = object(
  'One rewrite of the keys a dataFrom entry produces. Exactly one of regexp or transform.',
  {
    regexp: object('Replaces every match of a Go (RE2) regular expression in each key.', {
      source: required(string('The regular expression, e.g. `^db-(.*)`.', { minLength: 1, maxLength: 1024 })),
      target: required(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Go's replacement syntax, not a JS template
        string('The replacement; `$1`, `${1}` and `${name}` insert capture groups, `$$` a dollar sign.', {
          maxLength: 1024,
        }),
      ),
    }),
    transform: object('Renders each key through a Go template.', {
      template: required(
        string(
          'A Go template (with Sprig) whose output is the new key; `.value` is the current key, e.g. `{{ .value | lower }}`.',
          {
            minLength: 1,
            maxLength: 4096,
          },
        ),
      ),
    }),
  },
  {
    validations: [
      {
        rule: 'has(self.regexp) != has(self.transform)',
        message: 'exactly one of regexp or transform is required',
      },
    ],
  },
);

const find = object(
  'Every remote secret matching these filters, each one whole under its name as key. AWS Secrets Manager: ListSecrets with name and tag filters. Google Secret Manager: ListSecrets with a `labels.<key>=<value>` filter for tags. Azure Key Vault: the listed secret properties (disabled secrets skipped), tags matched. Vault/OpenBao KV: a recursive LIST under path; tags match KV v2 custom_metadata (refused on KV v1). Every filter given applies. One listing per store and query serves every ExternalSecret asking the same within the share window.',
  {
    path: string(
      'Only secrets under this path. AWS, Google, Azure: the name starts with it, e.g. `prod-app-`. Vault: the folder listed recursively, e.g. `prod/app` (with no spec.provider.vault.path it starts with the mount); the keys are the paths from the mount.',
      { maxLength: 2048 },
    ),
    name: object('A filter on the secret name.', {
      regexp: required(string('A Go (RE2) regular expression the name must match.', { minLength: 1, maxLength: 1024 })),
    }),
    tags: mapOf(
      'Only secrets carrying every one of these tags with exactly this value.',
      string('Tag value.', { maxLength: 256 }),
    ),
    conversionStrategy: enumOf(
      'How names become keys when the item has no rewrite, as ESO does: characters a Secret key cannot hold (anything but ASCII letters, digits, -, _ and .) become `_` (Default) or `_U<hex code point>_` (Unicode: `/` → `_U002f_`). With a rewrite, the names are rewritten as found and not converted.',
      ['Default', 'Unicode'] as const,
    ),
    decodingStrategy: remoteRefFields.decodingStrategy,
  },
  {
    validations: [
      {
        rule: 'has(self.name) || has(self.tags) || has(self.path)',
        message: 'find needs at least one of name, tags or path',
      },
    ],
  },
);

const dataFromItem = object(
  'Remote values expanded into keys of the target Secret: one JSON object (extract) or every secret a query finds (find).',
  {
    extract: object(
      'The remote secret to expand. Its value must be a JSON object; `property` selects a nested object inside it.',
      {
        ...remoteRefFields,
        conversionStrategy: enumOf(
          'How the object’s keys become Secret keys when the item has no rewrite, as ESO does: characters a Secret key cannot hold (anything but ASCII letters, digits, -, _ and .) become `_` (Default) or `_U<hex code point>_` (Unicode: `/` → `_U002f_`). With a rewrite, the keys are rewritten as they are and not converted.',
          ['Default', 'Unicode'] as const,
        ),
      },
    ),
    find,
    sourceRef,
    rewrite: arrayOf(
      'Rewrites of the expanded keys, applied in order. A key that ends up invalid, or two keys that end up the same, is an error.',
      rewrite,
      { maxItems: 20 },
    ),
  },
  {
    validations: [
      {
        rule: 'has(self.extract) != has(self.find)',
        message: 'exactly one of extract or find is required',
      },
    ],
  },
);

const templateRef = (what: 'ConfigMap' | 'Secret') =>
  object(`A ${what} in the ExternalSecret's namespace whose keys hold templates.`, {
    name: required(string(`Name of the ${what}.`, { minLength: 1, maxLength: 253 })),
    items: required(
      arrayOf(
        `Keys of the ${what} to render.`,
        object('One key and how its template is used.', {
          key: required(string(`Key of the ${what} holding a template.`, { minLength: 1, maxLength: 253 })),
          templateAs: enumOf(
            'Values (default): the rendered text is the value of a target key named like this key. KeysAndValues: the rendered text is a YAML map whose entries become target keys and values.',
            ['Values', 'KeysAndValues'] as const,
          ),
        }),
        { maxItems: 100 },
      ),
    ),
  });

const templateFrom = object(
  'Templates kept outside the ExternalSecret, rendered in order before template.data (which wins on the same key). Exactly one of configMap, secret or literal.',
  {
    configMap: templateRef('ConfigMap'),
    secret: templateRef('Secret'),
    literal: string('A template rendered as KeysAndValues: its output is a YAML map of target keys and values.', {
      maxLength: 65536,
    }),
    target: enumOf('Where the rendered keys go: Data (default), Annotations or Labels of the Secret.', [
      'Data',
      'Annotations',
      'Labels',
    ] as const),
  },
  {
    validations: [
      {
        rule: '(has(self.configMap) ? 1 : 0) + (has(self.secret) ? 1 : 0) + (has(self.literal) ? 1 : 0) == 1',
        message: 'exactly one of configMap, secret or literal is required',
      },
    ],
  },
);

const template = object(
  'Shape of the Secret Ferry writes. Values of data, metadata.labels and metadata.annotations are Go templates (text/template with Sprig, as ESO engine v2) over the fetched keys: `{{ .password }}`, `{{ index . "my-key" | b64dec }}`. Without data or templateFrom the fetched keys are written as they are. A rendered value and each function result are at most 1 MiB (other limits: docs/templates.md).',
  {
    type: string(
      'Secret type, e.g. Opaque (default) or kubernetes.io/tls. Not kubernetes.io/service-account-token: the token controller would fill such a Secret with a non-expiring token of a ServiceAccount of the namespace.',
      {
        maxLength: 253,
        validations: [
          {
            rule: "self != 'kubernetes.io/service-account-token'",
            message:
              'kubernetes.io/service-account-token is refused: the token controller would fill the Secret with a non-expiring ServiceAccount token',
          },
        ],
      },
    ),
    engineVersion: enumOf('Template engine version. Only v2 (the default): Go text/template with Sprig.', [
      'v2',
    ] as const),
    mergePolicy: enumOf(
      'Replace (default): the Secret holds only the keys the templates render. Merge: the fetched keys are kept and the rendered keys are written over them.',
      ['Replace', 'Merge'] as const,
    ),
    metadata: object('Labels and annotations added to the Secret; their values are templates too.', {
      labels: mapOf('Labels added to the Secret.', string('Label value, or a template rendering it.')),
      annotations: mapOf('Annotations added to the Secret.', string('Annotation value, or a template rendering it.')),
    }),
    data: mapOf(
      'Target key → Go template rendering its value. Wins over templateFrom on the same key.',
      string('A Go template over the fetched keys.', { maxLength: 65536 }),
    ),
    templateFrom: arrayOf('Templates read from ConfigMaps, Secrets or literals, rendered in order.', templateFrom, {
      maxItems: 50,
    }),
  },
);

const FILE_MODE = { format: 'int32' as const, minimum: 0, maximum: 0o777 };
/** Relative path segments that are neither `.`, `..` nor start with `..` (a pattern: CEL would cost too much). */
const SEGMENT = '(?:[^/.][^/]*|\\.[^/.][^/]*)';
export const FILE_PATH_PATTERN = `^${SEGMENT}(?:/${SEGMENT})*$`;

const files = object(
  'How the Ferry CSI driver lays the keys out as files in a pod volume (a pod names this ExternalSecret in its csi volumeAttributes). Unset: every key becomes a file named after it, mode 0644. Combine with creationPolicy None to deliver files only, with no Secret in etcd.',
  {
    defaultMode: integer(
      'Permission bits of files without their own mode, 0 to 0777 (YAML reads a leading 0 as octal: 0440). Default 0644.',
      FILE_MODE,
    ),
    items: arrayOf(
      'Keys to write and where. When set, only the listed keys become files, as with the items of a Secret volume.',
      object('One key and its file.', {
        key: required(
          string('The key of the rendered data (a secretKey, or a key from dataFrom).', {
            pattern: SECRET_KEY_PATTERN,
            minLength: 1,
            maxLength: 253,
          }),
        ),
        path: required(
          string(
            'File path relative to the volume root, e.g. db/password: no leading /, no empty, . or .. segments, and no segment starting with .. (reserved for the atomic-swap directories).',
            { minLength: 1, maxLength: 1024, pattern: FILE_PATH_PATTERN },
          ),
        ),
        mode: integer('Permission bits of this file, 0 to 0777. Default: defaultMode.', FILE_MODE),
      }),
      { listMapKeys: ['path'], maxItems: 500 },
    ),
  },
);

const rolloutTarget = object('A workload whose pods are replaced when the Secret content changes.', {
  kind: required(enumOf('Kind of the workload.', ['Deployment', 'StatefulSet', 'DaemonSet'] as const)),
  name: required(string('Name of the workload, in the ExternalSecret’s namespace.', { minLength: 1, maxLength: 253 })),
});

const versioning = object(
  'Ferry extension: versioned immutable Secrets. Each distinct content becomes its own immutable Secret named <target name>-<10-hex content hash>; status.binding.name names the current one, and the workloads in rolloutRestartTargets (and discovered ones) are repointed to it, which rolls their pods. An old version is deleted once no pod, pod template or ReplicaSet in the namespace references it and `keep` newer versions exist, so a rollback (kubectl rollout undo) finds the previous version. Needs immutable: true and deletionPolicy Retain. Workloads are repointed only where the installation turned workload rollouts on (chart value controller.workloadRollouts, off by default) and the workload consents with the annotation ferry.dev/rollout-from naming this ExternalSecret.',
  {
    keep: integer('How many versions older than an unreferenced one must exist before it is deleted. Default 2.', {
      format: 'int32',
      minimum: 0,
      maximum: 100,
    }),
  },
);

const target = object(
  'The Kubernetes Secret that receives the values. Defaults: name = the ExternalSecret name, creationPolicy Owner, deletionPolicy Retain.',
  {
    name: string('Name of the Secret, a DNS-1123 subdomain (lower case). Defaults to the ExternalSecret name.', {
      minLength: 1,
      maxLength: 253,
      pattern: DNS_SUBDOMAIN_PATTERN,
    }),
    creationPolicy: enumOf(
      'Owner (default): create the Secret and make the ExternalSecret its owner, so it is garbage-collected with it. Orphan: create it without an owner. Merge: only write keys into a Secret that already exists, keeping its other keys; the Secret must have been created by an ExternalSecret or carry the annotation ferry.dev/merge-from naming this ExternalSecret (comma-separated names, or *). None: write no Secret; the values reach pods only as files through the Ferry CSI driver (see target.files), never stored in etcd.',
      ['Owner', 'Orphan', 'Merge', 'None'] as const,
    ),
    deletionPolicy: enumOf(
      'What happens when the provider reports a remote key not found (never on errors, timeouts, denials or throttling). Retain (default): keep the Secret and report SecretMissing. Delete: delete the Secret once every remote key is gone (needs creationPolicy Owner). Merge: remove only the keys whose remote value is gone. Delete and Merge act only when the not-found is seen again at a later refresh (at least one refresh interval, at most 5 minutes, later).',
      ['Retain', 'Delete', 'Merge'] as const,
    ),
    immutable: boolean(
      'Write an immutable Secret. A changed value replaces the Secret (delete and re-create) because the API forbids editing it; pods see the new value after they restart.',
    ),
    template,
    files,
    versioning,
    rolloutRestartTargets: arrayOf(
      'Workloads whose pods are replaced (a rollout, as kubectl rollout restart does) when the Secret content changes: their pod template gets the annotation checksum.ferry.dev/<Secret name> with the content hash. No rollout when the hash is unchanged; changes within a short window make one rollout; a workload whose rollout is still in progress is patched only after it finished. Only a workload annotated ferry.dev/rollout-from with this ExternalSecret’s name (comma-separated names, or *) is written; others get a RolloutRefused Event. Off unless the installation turns workload rollouts on (chart value controller.workloadRollouts, which grants update on the workloads).',
      rolloutTarget,
      { maxItems: 32 },
    ),
    rolloutRestartDiscovery: boolean(
      'Also roll every Deployment, StatefulSet and DaemonSet in the namespace whose pod template mounts or env-references the Secret, of those annotated ferry.dev/rollout-from with this ExternalSecret’s name (others get a RolloutRefused Event). Off unless the installation turns workload rollouts on (chart value controller.workloadRollouts).',
    ),
  },
  {
    validations: [
      {
        rule: "!has(self.deletionPolicy) || self.deletionPolicy != 'Delete' || !has(self.creationPolicy) || self.creationPolicy == 'Owner'",
        message: 'deletionPolicy Delete requires creationPolicy Owner',
        fieldPath: '.deletionPolicy',
      },
      {
        rule: "!has(self.deletionPolicy) || self.deletionPolicy != 'Merge' || !has(self.creationPolicy) || self.creationPolicy != 'None'",
        message: 'deletionPolicy Merge cannot be combined with creationPolicy None',
        fieldPath: '.deletionPolicy',
      },
      {
        rule: '!has(self.versioning) || (has(self.immutable) && self.immutable)',
        message: 'versioning needs immutable: true (each version is an immutable Secret)',
        fieldPath: '.versioning',
      },
      {
        rule: "!has(self.versioning) || ((!has(self.creationPolicy) || self.creationPolicy == 'Owner' || self.creationPolicy == 'Orphan') && (!has(self.deletionPolicy) || self.deletionPolicy == 'Retain'))",
        message: 'versioning needs creationPolicy Owner or Orphan and deletionPolicy Retain',
        fieldPath: '.versioning',
      },
    ],
  },
);

export const externalSecretSpec = object(
  'Which remote values to read, from which store, and how to write them into a Secret.',
  {
    secretStoreRef: storeRef(
      'The store to read from. May be left out when every data and dataFrom item names its store in sourceRef.storeRef.',
    ),
    refreshInterval: string(
      'How often the values are read again, as a Go duration (`1h`, `15m`, `1h30m`). `0` syncs once and, as in ESO, never again (like refreshPolicy CreatedOnce), even when the ExternalSecret changes. Default 1h. An interval below the controller’s minimum (`--min-refresh-interval`, chart value `controller.minRefreshInterval`, default 10s) is served at that minimum, said in the Ready message and a RefreshIntervalRaised Event. Refreshes are spread over the interval by a hash of the store and first remote key, so ExternalSecrets reading the same key refresh together and share one provider read.',
      { pattern: GO_DURATION_PATTERN, maxLength: 64 },
    ),
    refreshPolicy: enumOf(
      "Periodic (default): re-read every refreshInterval, and when the ExternalSecret's spec, labels or annotations change. OnChange: re-read only when its spec, labels or annotations change (setting a force-sync annotation is such a change; the provider is re-read for one object at most once per the controller’s `--force-sync-interval`, default 10s, and a later force waits for it). CreatedOnce: read once and never again. Under every policy a target Secret that was deleted or whose data was edited is re-synced at once, except with creationPolicy Orphan, where it waits for the next due sync (as in ESO). See docs/lifecycle.md.",
      ['Periodic', 'OnChange', 'CreatedOnce'] as const,
    ),
    target,
    data: arrayOf(
      'Remote values, one per key of the target Secret. When two items name the same secretKey the later one wins, as in ESO.',
      dataItem,
      { maxItems: 500 },
    ),
    dataFrom: arrayOf('Remote JSON objects expanded into keys, applied in order; later ones win.', dataFromItem, {
      maxItems: 50,
    }),
  },
  {
    validations: [
      {
        rule: '(has(self.data) && size(self.data) > 0) || (has(self.dataFrom) && size(self.dataFrom) > 0)',
        message: 'at least one of spec.data or spec.dataFrom is required',
        fieldPath: '.data',
        reason: 'FieldValueRequired',
      },
      {
        rule: 'has(self.secretStoreRef) || ((!has(self.data) || self.data.all(d, has(d.sourceRef) && has(d.sourceRef.storeRef))) && (!has(self.dataFrom) || self.dataFrom.all(d, has(d.sourceRef) && has(d.sourceRef.storeRef))))',
        message:
          'spec.secretStoreRef is required unless every data and dataFrom item names its store in sourceRef.storeRef',
        fieldPath: '.secretStoreRef',
        reason: 'FieldValueRequired',
      },
    ],
  },
);

export const externalSecretStatus = object('Observed state, written by the controller.', {
  conditions,
  refreshTime: timestamp('When the values were last read from the provider and written.'),
  syncedResourceVersion: string(
    'Generation and data hash of the ExternalSecret the last successful sync was made from.',
  ),
  observedGeneration: integer('Generation of the spec the controller last acted on.', { format: 'int64' }),
  binding: object('The Secret the last sync wrote (with target.versioning, the current version).', {
    name: string('Name of the Secret.', { maxLength: 253 }),
  }),
});

export type ExternalSecretSpec = TypeOf<typeof externalSecretSpec>;
export type ExternalSecretStatus = TypeOf<typeof externalSecretStatus>;
export type DataItem = NonNullable<ExternalSecretSpec['data']>[number];
export type RemoteRef = DataItem['remoteRef'];
export type StoreRef = NonNullable<ExternalSecretSpec['secretStoreRef']>;
