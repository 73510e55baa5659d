// The catalogue of reasons Ferry writes: the `reason` of each object's Ready condition (ESO's
// names, so tooling written for ESO reads them) and of the Events it records. Every reason
// Ferry writes is one of these; the compiler checks each write.

/** An ExternalSecret's Ready condition. */
export type ExternalSecretReason =
  /** The target was written (or, with creationPolicy None, the values read) as the spec says. */
  | 'SecretSynced'
  /** The sync failed before or while writing; the target is left as it was. */
  | 'SecretSyncedError'
  /** A remote key is missing; the target is kept until deletionPolicy says otherwise. */
  | 'SecretMissing'
  /** Every remote key is gone and deletionPolicy Delete removed the target. */
  | 'SecretDeleted';

/** A SecretStore's or ClusterSecretStore's Ready condition. */
export type StoreReason =
  | 'Valid'
  | 'ValidationFailed'
  /** The store's settings cannot work (a provider's Invalid). */
  | 'InvalidProviderConfig'
  /** The store can only be checked from an ExternalSecret's namespace. */
  | 'ValidationUnknown';

/** A ClusterExternalSecret's Ready condition. */
export type ClusterExternalSecretReason = 'Provisioned' | 'NamespacesFailed' | 'InvalidNamespaceSelector';

/** Events, on ExternalSecrets, stores and ClusterExternalSecrets. */
export type EventReason =
  | 'Created'
  | 'Updated'
  | 'Deleted'
  /** A sync failed (ExternalSecret). */
  | 'UpdateFailed'
  /** A remote key is missing (ExternalSecret). */
  | 'MissingProviderSecret'
  /** A store refused the namespace or a key (conditions, remoteKeyPolicy). */
  | 'TenancyDenied'
  /** spec.refreshInterval is below the controller's --min-refresh-interval and is served at it. */
  | 'RefreshIntervalRaised'
  | 'RolloutRestart'
  | 'RolloutRestartFailed'
  /** A workload named in target.rolloutRestartTargets does not exist. */
  | 'RolloutTargetMissing'
  /** A workload was not rolled: it does not consent (ferry.dev/rollout-from), or rollouts are off. */
  | 'RolloutRefused'
  /** An old version of a versioned Secret nothing refers to any more was deleted. */
  | 'VersionDeleted'
  | 'ProvisioningFailed'
  | StoreReason
  | Extract<ClusterExternalSecretReason, 'InvalidNamespaceSelector'>;
