// The audiences the API server itself accepts in ServiceAccount tokens. A token minted for one of
// them is a credential to the cluster: a namespaced store must never have one sent to the server
// it names (docs/security.md, "Consent before reaching other objects", item 3).

/**
 * What an API server accepts by default or by common configuration: its in-cluster names (the
 * default --service-account-issuer and --api-audiences of kubeadm, kind, EKS, AKS and k3s), with
 * or without https:// and trailing slashes, and blank. The same test as the CRD rule
 * (noApiServerAudience in api/v1alpha1/common.ts); the published issuer is added at run time.
 */
const WELL_KNOWN = /^(https:\/\/)?kubernetes(\.default(\.svc(\.cluster\.local)?)?)?\/*$/;
/** RE2's [[:space:]], as the CRD rule uses it. */
const BLANK = /^[ \t\n\v\f\r]*$/;

export function isWellKnownApiAudience(audience: string): boolean {
  return BLANK.test(audience) || WELL_KNOWN.test(audience) || audience === 'api' || audience === 'k3s';
}

/**
 * The API server audiences among `requested`: an empty list (the token then carries the API
 * server's own audiences), a well-known one, or one of `known` (the published issuer).
 */
export function apiServerAudiencesIn(requested: readonly string[], known: ReadonlySet<string>): string[] {
  if (requested.length === 0) return ['(none: the API server’s own)'];
  return requested.filter((a) => isWellKnownApiAudience(a) || known.has(a.replace(/\/+$/, '')));
}
