// The audiences the API server itself accepts in ServiceAccount tokens. A token minted for one of
// them is a credential to the cluster: a namespaced store must never have one sent to the server
// it names (docs/security.md, "ServiceAccount tokens a store asks for").

/**
 * What an API server accepts by default or by common configuration: its in-cluster names (the
 * default --service-account-issuer and --api-audiences of kubeadm, kind, EKS, AKS and k3s). The
 * issuer the API server publishes is added at run time (KubeClient.serviceAccountIssuer).
 */
export const WELL_KNOWN_API_AUDIENCES: readonly string[] = [
  'https://kubernetes.default.svc',
  'https://kubernetes.default.svc.cluster.local',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
  'https://kubernetes.default',
  'kubernetes.default',
  'kubernetes',
  'api',
  'k3s',
];

/**
 * The API server audiences among `requested`: an empty list (the token then carries the API
 * server's own audiences), an empty audience, a well-known one, or one of `known` (the issuer).
 */
export function apiServerAudiencesIn(requested: readonly string[], known: ReadonlySet<string>): string[] {
  if (requested.length === 0) return ['(none: the API server’s own)'];
  return requested.filter(
    (a) =>
      a.trim() === '' || WELL_KNOWN_API_AUDIENCES.includes(a.replace(/\/+$/, '')) || known.has(a.replace(/\/+$/, '')),
  );
}
