// Which namespaces a ClusterExternalSecret selects: ESO's rule (any of namespaceSelectors, the
// deprecated namespaceSelector, or a name in the deprecated namespaces list), and the checks
// LabelSelectorAsSelector makes, so a bad selector is reported with its field instead of acted on.
import type { V1LabelSelector, V1Namespace } from '@kubernetes/client-node';
import type { ClusterExternalSecretSpec } from '../../api/v1alpha1/cluster-external-secret.ts';
import { selectorMatches } from '../../pipeline/stores.ts';

const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A selector that cannot be used, with the field that is wrong. */
export class SelectorError extends Error {
  override name = 'SelectorError';
}

function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return `label key "${key}": the prefix must be a DNS-1123 subdomain (lower case, at most 253 characters)`;
  }
  if (name.length === 0 || name.length > 63 || !NAME.test(name)) {
    return `label key "${key}": the name part must be 1-63 characters of letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  }
  return undefined;
}

function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !NAME.test(value)) {
    return `label value "${value}": at most 63 characters of letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  }
  return undefined;
}

/** Throws a SelectorError naming `field` when the selector is not one the API server would accept. */
export function checkSelector(selector: V1LabelSelector, field: string): void {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    const problem = labelKeyProblem(key) ?? labelValueProblem(value);
    if (problem) throw new SelectorError(`${field}.matchLabels: ${problem}`);
  }
  for (const [i, e] of (selector.matchExpressions ?? []).entries()) {
    const at = `${field}.matchExpressions[${i}]`;
    const keyProblem = labelKeyProblem(e.key);
    if (keyProblem) throw new SelectorError(`${at}.key: ${keyProblem}`);
    const values = e.values ?? [];
    if (e.operator === 'In' || e.operator === 'NotIn') {
      if (values.length === 0) throw new SelectorError(`${at}.values: operator ${e.operator} needs at least one value`);
      for (const v of values) {
        const problem = labelValueProblem(v);
        if (problem) throw new SelectorError(`${at}.values: ${problem}`);
      }
    } else if (e.operator === 'Exists' || e.operator === 'DoesNotExist') {
      if (values.length > 0) throw new SelectorError(`${at}.values: operator ${e.operator} takes no values`);
    } else {
      throw new SelectorError(`${at}.operator: "${e.operator}" is not one of In, NotIn, Exists, DoesNotExist`);
    }
  }
}

/** The spec's selectors with the field each comes from; throws a SelectorError on a bad one. */
export function selectorsOf(spec: ClusterExternalSecretSpec): V1LabelSelector[] {
  const selectors: V1LabelSelector[] = [];
  if (spec.namespaceSelector) {
    checkSelector(spec.namespaceSelector, 'spec.namespaceSelector');
    selectors.push(spec.namespaceSelector);
  }
  for (const [i, s] of (spec.namespaceSelectors ?? []).entries()) {
    checkSelector(s, `spec.namespaceSelectors[${i}]`);
    selectors.push(s);
  }
  return selectors;
}

/** Whether a namespace with this name and these labels is selected (no validation). */
export function selects(
  spec: ClusterExternalSecretSpec,
  selectors: V1LabelSelector[],
  name: string,
  labels: Record<string, string>,
): boolean {
  return spec.namespaces?.includes(name) === true || selectors.some((s) => selectorMatches(s, labels));
}

/**
 * The selected namespaces that can hold a copy, sorted. Namespaces being deleted are left out:
 * the API server refuses new objects there, and their copies go with them.
 */
export function selectNamespaces(spec: ClusterExternalSecretSpec, namespaces: V1Namespace[]): string[] {
  const selectors = selectorsOf(spec);
  return namespaces
    .filter((ns) => !ns.metadata?.deletionTimestamp && ns.status?.phase !== 'Terminating')
    .filter((ns) => selects(spec, selectors, ns.metadata?.name ?? '', ns.metadata?.labels ?? {}))
    .map((ns) => ns.metadata?.name ?? '')
    .sort();
}
