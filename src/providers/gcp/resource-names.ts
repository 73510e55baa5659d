// Secret Manager resource names and endpoints: global secrets live under projects/<p>/secrets/<id>
// at secretmanager.googleapis.com; regional ones under projects/<p>/locations/<l>/secrets/<id> at
// secretmanager.<l>.rep.googleapis.com.
import { ProviderError } from '../provider.ts';

const SECRET_ID = /^[A-Za-z0-9_-]{1,255}$/;
/** A version number, `latest`, or a version alias. */
const VERSION = /^[A-Za-z0-9_-]{1,63}$/;

export interface SecretLocation {
  projectID: string;
  location?: string;
}

/** The parent of secrets: projects/<p> or projects/<p>/locations/<l>. */
export function secretParent(where: SecretLocation): string {
  return where.location ? `projects/${where.projectID}/locations/${where.location}` : `projects/${where.projectID}`;
}

export function secretName(where: SecretLocation, key: string): string {
  if (!SECRET_ID.test(key)) {
    throw new ProviderError(
      'Invalid',
      `remote key "${key}" is not a Secret Manager secret ID (letters, digits, - and _, at most 255)`,
    );
  }
  return `${secretParent(where)}/secrets/${key}`;
}

export function versionName(where: SecretLocation, key: string, version: string | undefined): string {
  const v = version ?? 'latest';
  if (!VERSION.test(v)) {
    throw new ProviderError(
      'Invalid',
      `remote key "${key}": version "${v}" is not latest, a version number or a version alias`,
    );
  }
  return `${secretName(where, key)}/versions/${v}`;
}

/** The version number at the end of a version's resource name, e.g. "3". */
export function versionOf(name: string | null | undefined): string | undefined {
  const match = /\/versions\/([^/]+)$/.exec(name ?? '');
  return match?.[1];
}

export interface Endpoint {
  host: string;
  port: number;
  protocol: 'https' | 'http';
}

/** Where the API is served: an explicit endpoint URL, else the regional or global host. */
export function apiEndpoint(where: SecretLocation, endpoint: string | undefined): Endpoint {
  if (endpoint) {
    const url = new URL(endpoint);
    const protocol = url.protocol === 'http:' ? 'http' : 'https';
    const host = url.hostname.replace(/^\[|\]$/g, '');
    return { host, port: Number(url.port) || (protocol === 'http' ? 80 : 443), protocol };
  }
  const host = where.location ? `secretmanager.${where.location}.rep.googleapis.com` : 'secretmanager.googleapis.com';
  return { host, port: 443, protocol: 'https' };
}
