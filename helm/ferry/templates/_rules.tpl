{{/*
The one list of the controller's RBAC rules. Each rule says why it exists; `clusterOnly` rules
are left out of a namespace-scoped install (controller.watchNamespace), which uses Roles only.
test/integration/least-privilege.test.ts removes each rule in turn and shows what breaks.
*/}}
{{- define "ferry.controllerRules" -}}
# Watch the API: the informers' list+watch; get for status patches' reads.
- apiGroups: [ferry.dev]
  resources: [externalsecrets, secretstores]
  verbs: [get, list, watch]
# Report Ready conditions and sync times.
- apiGroups: [ferry.dev]
  resources: [externalsecrets/status, secretstores/status]
  verbs: [patch]
- apiGroups: [ferry.dev]
  resources: [clustersecretstores]
  verbs: [get, list, watch]
  clusterOnly: true
- apiGroups: [ferry.dev]
  resources: [clustersecretstores/status]
  verbs: [patch]
  clusterOnly: true
# ClusterExternalSecrets: watched, and patched to add and remove their cleanup finalizer.
- apiGroups: [ferry.dev]
  resources: [clusterexternalsecrets]
  verbs: [list, watch, patch]
  clusterOnly: true
- apiGroups: [ferry.dev]
  resources: [clusterexternalsecrets/status]
  verbs: [patch]
  clusterOnly: true
# The ExternalSecrets a ClusterExternalSecret stamps into the namespaces it selects.
- apiGroups: [ferry.dev]
  resources: [externalsecrets]
  verbs: [create, update, delete]
  clusterOnly: true
# Synced Secrets: watched by label, created, replaced (immutable and type changes), applied,
# deleted (deletionPolicy Delete); get reads store credentials.
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, watch, create, update, patch, delete]
# CA bundles of Vault stores.
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get]
# Workload identity: the ServiceAccount's annotations, and tokens minted for it.
- apiGroups: [""]
  resources: [serviceaccounts]
  verbs: [get]
- apiGroups: [""]
  resources: [serviceaccounts/token]
  verbs: [create]
# ClusterSecretStore conditions select namespaces by label (get); ClusterExternalSecrets watch
# them to follow new namespaces and label changes (list, watch).
- apiGroups: [""]
  resources: [namespaces]
  verbs: [get, list, watch]
  clusterOnly: true
# Workloads that consume a synced Secret: found by their pod templates (workloads, ReplicaSets
# kept for rollbacks, pods) so versions still in use are kept.
- apiGroups: [apps]
  resources: [deployments, statefulsets, daemonsets]
  verbs: [get, list]
{{- if .rollouts }}
# controller.workloadRollouts: rolled (target.rolloutRestartTargets, rolloutRestartDiscovery) or
# repointed to a new versioned Secret, when the workload consents (ferry.dev/rollout-from).
- apiGroups: [apps]
  resources: [deployments, statefulsets, daemonsets]
  verbs: [update]
{{- end }}
- apiGroups: [apps]
  resources: [replicasets]
  verbs: [list]
- apiGroups: [""]
  resources: [pods]
  verbs: [list]
# Events on ExternalSecrets and stores.
- apiGroups: [""]
  resources: [events]
  verbs: [create]
{{- end -}}

{{/* The rules of the list for one scope: cluster (all) or namespace (without clusterOnly). */}}
{{- define "ferry.rulesFor" -}}
{{- $scope := .scope -}}
{{- $out := list -}}
{{- range (include "ferry.controllerRules" . | fromYamlArray) -}}
{{- if or (eq $scope "cluster") (not .clusterOnly) -}}
{{- $out = append $out (omit . "clusterOnly") -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}


{{/*
The CSI node plugin's rules: what the plugin on any node needs, and no right to read Secrets or
mint tokens cluster-wide (docs/csi.md, "Identity"). Credentials are readable only in the
namespaces of csiNode.credentialNamespaces (Roles, in rbac.yaml).
test/attacks/csi-node-identity.test.ts removes each rule in turn and shows what breaks.
*/}}
{{- define "ferry.csiNodeRules" -}}
# The ExternalSecrets volumes name and the stores they read through.
- apiGroups: [ferry.dev]
  resources: [externalsecrets, secretstores, clustersecretstores]
  verbs: [get, list, watch]
# ClusterSecretStore conditions select namespaces by label.
- apiGroups: [""]
  resources: [namespaces]
  verbs: [get]
# Annotations of the pod's own ServiceAccount: the role, client or Google service account a store
# that logs in as the pod uses. ServiceAccounts hold no credentials.
- apiGroups: [""]
  resources: [serviceaccounts]
  verbs: [get]
# The plugin's own CSIDriver: it serves only while podInfoOnMount makes kubelet's pod info
# trustworthy, and takes tokens for its tokenRequests audiences only.
- apiGroups: [storage.k8s.io]
  resources: [csidrivers]
  resourceNames: [csi.ferry.dev]
  verbs: [get, list, watch]
{{- end -}}
