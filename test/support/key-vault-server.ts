// A SPEC-FAITHFUL AZURE KEY VAULT TEST SERVER, written in this project's test code from the public
// Key Vault REST API reference (api-version 7.6) and the Microsoft identity platform docs. It is
// NOT a third-party server: none can be had on this machine (reference/test-bed.md §4), so the
// azurekv provider is proven against this, driven by the real @azure/keyvault-secrets and
// @azure/identity clients. It serves, over HTTPS with a CA made per run:
// * Key Vault secrets: get by name (current version) and version, list secrets and versions with
//   nextLink paging (maxresults ≤ 25), set (409 on a soft-deleted name), update attributes, delete
//   (soft); a disabled version answers 403 Forbidden/SecretDisabled, a missing one 404
//   SecretNotFound, and on demand 429 with Retry-After. Every call needs api-version, and a
//   bearer token for audience https://vault.azure.net from this server's tenant; without one it
//   answers 401 with the WWW-Authenticate challenge the SDK follows.
// * Key Vault certificates and keys, get only (GET certificates/{name}[/{version}] and
//   keys/{name}[/{version}]): a CertificateBundle (id, kid, sid, x5t, cer, attributes with nbf/exp
//   from the certificate, policy, tags) and a KeyBundle (key as a public JWK with kid, kty, key_ops,
//   n/e or crv/x/y, attributes, tags); a missing one answers 404 CertificateNotFound/KeyNotFound.
//   Throttling and authorization as for secrets.
// * Entra: OpenID discovery and /{tenant}/oauth2/v2.0/token for client_credentials with a client
//   secret, a certificate-signed client assertion, or a federated one (a Kubernetes ServiceAccount
//   token, checked against the API server's signing key, issuer, subject and audience
//   api://AzureADTokenExchange).
// * Managed identity: IMDS GET /metadata/identity/oauth2/token (plain HTTP, header Metadata: true).
// What it does not model: RBAC/access policies beyond "registered or not", exp/nbf enforcement,
// purge and recovery, listing or writing certificates and keys, disabled certificates and keys,
// pending certificate issuance, regional failover, real Entra error catalogues.
import {
  constants,
  createHash,
  createHmac,
  createPublicKey,
  type KeyObject,
  type JsonWebKey as NodeJwk,
  randomBytes,
  timingSafeEqual,
  verify,
  X509Certificate,
} from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { localServingCert, trustInThisProcess } from './local-ca.ts';

export const KEY_VAULT_RESOURCE = 'https://vault.azure.net';
const API_VERSIONS = new Set(['7.0', '7.1', '7.2', '7.3', '7.4', '7.5', '7.6']);
const MAX_RESULTS = 25;

interface Version {
  id: string;
  value: string;
  enabled: boolean;
  created: number;
  updated: number;
  contentType?: string;
  tags?: Record<string, string>;
}

interface CertificateVersion {
  id: string;
  der: Buffer;
  created: number;
  updated: number;
  notBefore: number;
  expires: number;
  subject: string;
  tags?: Record<string, string>;
}

interface KeyVersion {
  id: string;
  /** The public JWK members Key Vault returns: kty and n, e or crv, x, y. */
  jwk: Record<string, string>;
  keyOps: string[];
  created: number;
  updated: number;
  tags?: Record<string, string>;
}

export interface App {
  clientId: string;
  secret?: string;
  /** PEM of the certificate whose key signs client assertions. */
  certificatePem?: string;
  /** A federated credential: the ServiceAccount token's subject, e.g. system:serviceaccount:ns:sa. */
  federatedSubject?: string;
}

export interface KeyVaultServerOptions {
  tenantId: string;
  /** The Kubernetes API server's ServiceAccount issuer and signing key (for federated credentials). */
  kubeIssuer: string;
  kubeSigningKeyPem: string;
  tokenLifetimeSeconds?: number;
}

/** Requests served, by kind; tests assert "one read per secret" on `reads`. */
export interface Counts {
  requests: number;
  challenges: number;
  reads: Map<string, number>;
  /** Pages of GET /secrets (list secret properties) served. */
  secretListPages: number;
  tokens: { clientSecret: number; clientCertificate: number; federated: number; imds: number };
  throttled: number;
}

class Reply extends Error {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Record<string, string>;

  constructor(status: number, body: unknown, headers: Record<string, string> = {}) {
    super(`HTTP ${status}`);
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

const kvError = (status: number, code: string, message: string, inner?: string) =>
  new Reply(status, { error: { code, message, ...(inner ? { innererror: { code: inner } } : {}) } });
const oauthError = (status: number, error: string, description: string) =>
  new Reply(status, { error, error_description: `${description}\r\nTrace ID: ${randomBytes(8).toString('hex')}` });

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const nowSeconds = () => Math.floor(Date.now() / 1000);

function decodeJwt(jwt: string): {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  parts: string[];
} {
  const parts = jwt.split('.');
  if (parts.length !== 3) throw oauthError(400, 'invalid_client', 'AADSTS50027: JWT token is invalid or malformed.');
  const [h, p] = parts.slice(0, 2).map((x) => JSON.parse(Buffer.from(x, 'base64url').toString() || 'null'));
  return { header: h ?? {}, payload: p ?? {}, parts };
}

function verifyRsa(parts: string[], alg: unknown, key: KeyObject): boolean {
  const data = Buffer.from(`${parts[0]}.${parts[1]}`);
  const sig = Buffer.from(parts[2] ?? '', 'base64url');
  if (alg === 'RS256') return verify('sha256', data, key, sig);
  if (alg === 'PS256')
    return verify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig);
  return false;
}

export class KeyVaultTestServer {
  readonly counts: Counts = {
    requests: 0,
    challenges: 0,
    reads: new Map(),
    secretListPages: 0,
    tokens: { clientSecret: 0, clientCertificate: 0, federated: 0, imds: 0 },
    throttled: 0,
  };
  /** While set, secret calls (of `name`, or all) answer 429 with this Retry-After. */
  throttle: { retryAfterSeconds: number; name?: string } | undefined;
  readonly apps = new Map<string, App>();
  /** Managed identities the IMDS endpoint serves: 'system' and user-assigned client/resource IDs. */
  readonly identities = new Set<string>();
  private readonly secrets = new Map<string, Version[]>();
  private readonly certificates = new Map<string, CertificateVersion[]>();
  private readonly keys = new Map<string, KeyVersion[]>();
  private readonly deleted = new Set<string>();
  private readonly signingKey = randomBytes(32);
  private readonly kubeKey: KeyObject;
  private port = 0;
  private imdsPort = 0;
  private https: Server | undefined;
  private imds: Server | undefined;

  readonly opts: KeyVaultServerOptions;
  readonly caPem: string;
  private readonly tls: { key: string; cert: string };

  private constructor(opts: KeyVaultServerOptions, caPem: string, tls: { key: string; cert: string }) {
    this.opts = opts;
    this.caPem = caPem;
    this.tls = tls;
    this.kubeKey = createPublicKey(opts.kubeSigningKeyPem);
  }

  /** Starts the server with a new CA and serving certificate for 127.0.0.1. */
  static async start(opts: KeyVaultServerOptions): Promise<KeyVaultTestServer> {
    const { caPem, key, cert } = await localServingCert('ferry-kv-test-ca');
    const server = new KeyVaultTestServer(opts, caPem, { key, cert });
    await server.listen();
    return server;
  }

  /** Makes this process trust the per-run CA, as NODE_EXTRA_CA_CERTS would at start-up. */
  trustInThisProcess(): void {
    trustInThisProcess(this.caPem);
  }

  /** The serving key and certificate, for a proxy that must present the same identity. */
  get servingTls(): { key: string; cert: string } {
    return this.tls;
  }
  get vaultUrl(): string {
    return `https://127.0.0.1:${this.port}`;
  }
  get authorityHost(): string {
    return `https://127.0.0.1:${this.port}`;
  }
  /** For AZURE_POD_IDENTITY_AUTHORITY_HOST, which points @azure/identity's managed identity here. */
  get imdsHost(): string {
    return `http://127.0.0.1:${this.imdsPort}`;
  }
  get running(): boolean {
    return this.https?.listening === true;
  }

  async listen(): Promise<void> {
    const https = createHttpsServer(this.tls, (req, res) => void this.serve(res, () => this.route(req)));
    const imds = createHttpServer((req, res) => void this.serve(res, () => this.routeImds(req)));
    await new Promise<void>((r) => https.listen(this.port, '127.0.0.1', r));
    await new Promise<void>((r) => imds.listen(this.imdsPort, '127.0.0.1', r));
    this.port = (https.address() as { port: number }).port;
    this.imdsPort = (imds.address() as { port: number }).port;
    this.https = https;
    this.imds = imds;
  }

  /** Stops answering (an outage); listen() brings it back on the same ports with the same data. */
  async stop(): Promise<void> {
    for (const s of [this.https, this.imds]) {
      s?.closeAllConnections();
      await new Promise((r) => s?.close(r) ?? r(undefined));
    }
  }

  // ---- data, for tests (the same state the REST API changes) ----

  /** Adds a new version and returns its ID. */
  setSecret(name: string, value: string, opts: { contentType?: string; tags?: Record<string, string> } = {}): string {
    if (this.deleted.has(name)) throw new Error(`secret ${name} is soft-deleted`);
    const t = nowSeconds();
    const version: Version = {
      id: randomBytes(16).toString('hex'),
      value,
      enabled: true,
      created: t,
      updated: t,
      ...opts,
    };
    this.secrets.set(name, [...(this.secrets.get(name) ?? []), version]);
    return version.id;
  }

  setEnabled(name: string, version: string, enabled: boolean): void {
    const v = this.secrets.get(name)?.find((x) => x.id === version);
    if (!v) throw new Error(`no version ${version} of ${name}`);
    v.enabled = enabled;
    v.updated = nowSeconds();
  }

  /** Soft-deletes a secret: reads answer 404, setting it again answers 409 until purged. */
  deleteSecret(name: string): void {
    this.secrets.delete(name);
    this.deleted.add(name);
  }

  /**
   * Adds a certificate version (DER or PEM of an X.509 certificate) and returns its ID. Its nbf and
   * exp attributes are the certificate's validity, x5t its SHA-1 thumbprint, as Key Vault sets them.
   */
  setCertificate(name: string, certificate: Buffer | string, opts: { tags?: Record<string, string> } = {}): string {
    const x509 = new X509Certificate(certificate);
    const t = nowSeconds();
    const version: CertificateVersion = {
      id: randomBytes(16).toString('hex'),
      der: x509.raw,
      created: t,
      updated: t,
      notBefore: Math.floor(Date.parse(x509.validFrom) / 1000),
      expires: Math.floor(Date.parse(x509.validTo) / 1000),
      subject: x509.subject.replace(/\n/g, ', '),
      ...opts,
    };
    this.certificates.set(name, [...(this.certificates.get(name) ?? []), version]);
    return version.id;
  }

  /** Adds a key version holding `publicKey` (RSA or EC; only its public part is kept) and returns its ID. */
  setKey(
    name: string,
    publicKey: KeyObject | string,
    opts: { tags?: Record<string, string>; keyOps?: string[] } = {},
  ): string {
    const pub = typeof publicKey !== 'string' && publicKey.type === 'public' ? publicKey : createPublicKey(publicKey);
    const exported = pub.export({ format: 'jwk' }) as NodeJwk;
    const jwk: Record<string, string> =
      exported.kty === 'RSA'
        ? { kty: 'RSA', n: String(exported.n), e: String(exported.e) }
        : { kty: 'EC', crv: String(exported.crv), x: String(exported.x), y: String(exported.y) };
    const t = nowSeconds();
    const version: KeyVersion = {
      id: randomBytes(16).toString('hex'),
      jwk,
      keyOps:
        opts.keyOps ??
        (jwk.kty === 'RSA' ? ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey'] : ['sign', 'verify']),
      created: t,
      updated: t,
      ...(opts.tags ? { tags: opts.tags } : {}),
    };
    this.keys.set(name, [...(this.keys.get(name) ?? []), version]);
    return version.id;
  }

  /** Removes a certificate or key with all its versions: reads answer 404. */
  deleteObject(kind: 'cert' | 'key', name: string): void {
    (kind === 'cert' ? this.certificates : this.keys).delete(name);
  }

  reads(name: string): number {
    return this.counts.reads.get(name) ?? 0;
  }

  // ---- HTTP ----

  /** Key Vault's 429 with Retry-After, while a throttle is set (for every object or the one named). */
  private throttleIfAsked(name: string | undefined): void {
    if (!this.throttle || (this.throttle.name && this.throttle.name !== name)) return;
    this.counts.throttled++;
    throw new Reply(
      429,
      {
        error: {
          code: 'Throttled',
          message:
            'Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached',
        },
      },
      { 'retry-after': String(this.throttle.retryAfterSeconds) },
    );
  }

  private async serve(res: ServerResponse, route: () => Promise<unknown>): Promise<void> {
    this.counts.requests++;
    let status = 200;
    let body: unknown;
    let headers: Record<string, string> = {};
    try {
      body = await route();
    } catch (err) {
      // Anything unexpected is this server's fault: a 500, as Key Vault answers an internal error.
      const reply = err instanceof Reply ? err : kvError(500, 'InternalServerError', String(err));
      ({ status, body, headers } = reply);
    }
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  }

  private async readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString();
  }

  private async route(req: IncomingMessage): Promise<unknown> {
    const url = new URL(req.url ?? '/', this.vaultUrl);
    const tenant = this.opts.tenantId;
    const path = url.pathname.replace(/\/+$/, '');
    if (req.method === 'GET' && path === `/${tenant}/v2.0/.well-known/openid-configuration`) {
      const base = `${this.authorityHost}/${tenant}`;
      return {
        issuer: `${this.authorityHost}/${tenant}/v2.0`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        token_endpoint: `${base}/oauth2/v2.0/token`,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        jwks_uri: `${this.authorityHost}/${tenant}/discovery/v2.0/keys`,
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      };
    }
    const tokenPath = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path);
    if (req.method === 'POST' && tokenPath) return this.token(tokenPath[1] ?? '', await this.readBody(req));
    if (path === '/secrets' || path.startsWith('/secrets/')) return this.vault(req, url, path);
    if (path.startsWith('/certificates/') || path.startsWith('/keys/')) return this.objects(req, url, path);
    throw kvError(404, 'NotFound', `No route for ${req.method} ${path}`);
  }

  // ---- Entra token endpoint ----

  private accessToken(sub: string): { access_token: string; expires_in: number } {
    const lifetime = this.opts.tokenLifetimeSeconds ?? 3600;
    const now = nowSeconds();
    const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
    const payload = b64url(
      JSON.stringify({
        aud: KEY_VAULT_RESOURCE,
        iss: `https://sts.windows.net/${this.opts.tenantId}/`,
        tid: this.opts.tenantId,
        sub,
        iat: now,
        nbf: now,
        exp: now + lifetime,
        jti: randomBytes(8).toString('hex'),
      }),
    );
    const sig = createHmac('sha256', this.signingKey).update(`${header}.${payload}`).digest('base64url');
    return { access_token: `${header}.${payload}.${sig}`, expires_in: lifetime };
  }

  private token(tenant: string, text: string): unknown {
    if (tenant !== this.opts.tenantId) {
      throw oauthError(400, 'invalid_request', `AADSTS90002: Tenant '${tenant}' not found.`);
    }
    const form = new URLSearchParams(text);
    if (form.get('grant_type') !== 'client_credentials') {
      throw oauthError(400, 'unsupported_grant_type', 'AADSTS70003: The app requested an unsupported grant type.');
    }
    const scopes = (form.get('scope') ?? '').split(' ');
    if (!scopes.includes(`${KEY_VAULT_RESOURCE}/.default`)) {
      throw oauthError(400, 'invalid_scope', `AADSTS70011: The provided scope '${form.get('scope')}' is not valid.`);
    }
    const clientId = form.get('client_id') ?? '';
    const app = this.apps.get(clientId);
    if (!app) {
      throw oauthError(
        400,
        'unauthorized_client',
        `AADSTS700016: Application with identifier '${clientId}' was not found.`,
      );
    }
    const secret = form.get('client_secret');
    const assertion = form.get('client_assertion');
    if (secret !== null) {
      const ok =
        app.secret !== undefined &&
        secret.length === app.secret.length &&
        timingSafeEqual(Buffer.from(secret), Buffer.from(app.secret));
      if (!ok) throw oauthError(401, 'invalid_client', 'AADSTS7000215: Invalid client secret provided.');
      this.counts.tokens.clientSecret++;
    } else if (assertion !== null) {
      if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
        throw oauthError(400, 'invalid_request', 'AADSTS50027: client_assertion_type is not jwt-bearer.');
      }
      this.checkAssertion(app, tenant, assertion);
    } else {
      throw oauthError(
        401,
        'invalid_client',
        'AADSTS7000218: The request body must contain client_assertion or client_secret.',
      );
    }
    return { token_type: 'Bearer', ext_expires_in: 3600, ...this.accessToken(clientId) };
  }

  private checkAssertion(app: App, tenant: string, assertion: string): void {
    const { header, payload, parts } = decodeJwt(assertion);
    const exp = Number(payload.exp);
    if (!(exp > nowSeconds()))
      throw oauthError(401, 'invalid_client', 'AADSTS700024: Client assertion is not within its valid time range.');
    if (typeof payload.iss === 'string' && payload.iss === this.opts.kubeIssuer) {
      // A federated credential: Entra checks issuer, subject and audience, and the issuer's signing key.
      const aud = ([] as unknown[]).concat(payload.aud);
      if (!verifyRsa(parts, header.alg, this.kubeKey))
        throw oauthError(401, 'invalid_client', 'AADSTS700212: No matching signing key found for the assertion.');
      if (!aud.includes('api://AzureADTokenExchange'))
        throw oauthError(
          400,
          'invalid_request',
          `AADSTS700212: No matching federated identity record found for presented assertion audience '${aud.join(',')}'.`,
        );
      if (!app.federatedSubject || payload.sub !== app.federatedSubject) {
        throw oauthError(
          400,
          'invalid_request',
          `AADSTS70021: No matching federated identity record found for presented assertion subject '${String(payload.sub)}'.`,
        );
      }
      this.counts.tokens.federated++;
      return;
    }
    // A certificate credential: the assertion is signed by the app's certificate key, for this token endpoint.
    if (!app.certificatePem)
      throw oauthError(
        401,
        'invalid_client',
        'AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application.',
      );
    const cert = new X509Certificate(app.certificatePem);
    if (!verifyRsa(parts, header.alg, cert.publicKey))
      throw oauthError(401, 'invalid_client', 'AADSTS700027: Client assertion failed signature validation.');
    const endpoint = `${this.authorityHost}/${tenant}/oauth2/v2.0/token`;
    if (payload.aud !== endpoint)
      throw oauthError(
        401,
        'invalid_client',
        `AADSTS700027: Client assertion audience '${String(payload.aud)}' is not the token endpoint.`,
      );
    this.counts.tokens.clientCertificate++;
  }

  // ---- IMDS ----

  private async routeImds(req: IncomingMessage): Promise<unknown> {
    const url = new URL(req.url ?? '/', this.imdsHost);
    // MSAL asks for the path with a trailing slash, which IMDS accepts.
    if (url.pathname.replace(/\/+$/, '') !== '/metadata/identity/oauth2/token')
      throw new Reply(404, { error: 'not_found' });
    if (req.headers.metadata !== 'true') {
      throw new Reply(400, { error: 'invalid_request', error_description: 'Required metadata header not specified' });
    }
    const resource = (url.searchParams.get('resource') ?? '').replace(/\/$/, '');
    if (resource !== KEY_VAULT_RESOURCE) {
      throw new Reply(400, {
        error: 'invalid_resource',
        error_description: `AADSTS500011: resource ${resource} not found`,
      });
    }
    const which =
      url.searchParams.get('client_id') ??
      url.searchParams.get('msi_res_id') ??
      url.searchParams.get('mi_res_id') ??
      'system';
    if (!this.identities.has(which)) {
      throw new Reply(400, { error: 'invalid_request', error_description: 'Identity not found' });
    }
    this.counts.tokens.imds++;
    const { access_token, expires_in } = this.accessToken(which);
    const now = nowSeconds();
    return {
      access_token,
      client_id: which,
      expires_in: String(expires_in),
      expires_on: String(now + expires_in),
      ext_expires_in: String(expires_in),
      not_before: String(now),
      resource: KEY_VAULT_RESOURCE,
      token_type: 'Bearer',
    };
  }

  // ---- Key Vault ----

  private authorize(req: IncomingMessage): void {
    const challenge = {
      'www-authenticate': `Bearer authorization="https://login.microsoftonline.com/${this.opts.tenantId}", resource="${KEY_VAULT_RESOURCE}"`,
    };
    const auth = req.headers.authorization ?? '';
    const refuse = (message: string) => {
      this.counts.challenges++;
      return new Reply(401, { error: { code: 'Unauthorized', message } }, challenge);
    };
    if (!auth.startsWith('Bearer ')) throw refuse('AKV10000: Request is missing a Bearer or PoP token.');
    const [h, p, s] = auth.slice(7).split('.');
    const expected = createHmac('sha256', this.signingKey).update(`${h}.${p}`).digest('base64url');
    if (!s || s !== expected) throw refuse('AKV10032: Invalid issuer or signature.');
    const claims = JSON.parse(Buffer.from(p ?? '', 'base64url').toString()) as {
      aud?: string;
      exp?: number;
      tid?: string;
    };
    if (claims.aud?.replace(/\/$/, '') !== KEY_VAULT_RESOURCE)
      throw refuse(`AKV10022: Invalid audience. Expected ${KEY_VAULT_RESOURCE}, found: ${claims.aud}.`);
    if (!(Number(claims.exp) > nowSeconds())) throw refuse('AKV10026: Token expired.');
    if (claims.tid !== this.opts.tenantId) throw refuse('AKV10032: Invalid issuer.');
  }

  private bundle(name: string, v: Version, withValue = true): Record<string, unknown> {
    return {
      ...(withValue ? { value: v.value } : {}),
      id: `${this.vaultUrl}/secrets/${name}/${v.id}`,
      attributes: {
        enabled: v.enabled,
        created: v.created,
        updated: v.updated,
        recoveryLevel: 'Recoverable+Purgeable',
        recoverableDays: 90,
      },
      ...(v.contentType ? { contentType: v.contentType } : {}),
      ...(v.tags ? { tags: v.tags } : {}),
    };
  }

  private page(items: unknown[], url: URL, path: string): unknown {
    const max = Number(url.searchParams.get('maxresults') ?? MAX_RESULTS);
    if (!Number.isInteger(max) || max < 1 || max > MAX_RESULTS) {
      throw kvError(400, 'BadParameter', `maxresults must be between 1 and ${MAX_RESULTS}.`);
    }
    const skip = Number(url.searchParams.get('$skiptoken') ?? 0);
    const next = skip + max < items.length;
    return {
      value: items.slice(skip, skip + max),
      nextLink: next ? `${this.vaultUrl}${path}?api-version=7.6&$skiptoken=${skip + max}&maxresults=${max}` : null,
    };
  }

  private async vault(req: IncomingMessage, url: URL, path: string): Promise<unknown> {
    const apiVersion = url.searchParams.get('api-version');
    if (!apiVersion) throw kvError(400, 'BadParameter', 'The api-version parameter is missing.');
    if (!API_VERSIONS.has(apiVersion))
      throw kvError(400, 'BadParameter', `The specified version (${apiVersion}) is not recognized.`);
    this.authorize(req);
    const [, , name, version, extra] = path.split('/');
    const body = req.method === 'PUT' || req.method === 'PATCH' ? await this.readBody(req) : '';
    if (name && req.method === 'GET' && version !== 'versions') this.counts.reads.set(name, this.reads(name) + 1);
    this.throttleIfAsked(name);
    if (!name) {
      if (req.method !== 'GET') throw kvError(405, 'MethodNotAllowed', 'Method not allowed.');
      this.counts.secretListPages++;
      const items = [...this.secrets].map(([n, vs]) => ({
        ...this.bundle(n, vs[vs.length - 1] as Version, false),
        id: `${this.vaultUrl}/secrets/${n}`,
      }));
      return this.page(items, url, '/secrets');
    }
    const notFound = () =>
      kvError(
        404,
        'SecretNotFound',
        `A secret with (name/id) ${name}${version ? `/${version}` : ''} was not found in this key vault.`,
      );
    if (req.method === 'PUT' && !version) {
      if (this.deleted.has(name))
        throw kvError(
          409,
          'Conflict',
          `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
        );
      const b = JSON.parse(body || '{}') as {
        value?: string;
        contentType?: string;
        tags?: Record<string, string>;
        attributes?: { enabled?: boolean };
      };
      if (typeof b.value !== 'string') throw kvError(400, 'BadParameter', 'Property value is required.');
      const id = this.setSecret(name, b.value, { contentType: b.contentType, tags: b.tags });
      if (b.attributes?.enabled === false) this.setEnabled(name, id, false);
      const versions = this.secrets.get(name) ?? [];
      return this.bundle(name, versions[versions.length - 1] as Version);
    }
    if (req.method === 'DELETE' && !version) {
      const versions = this.secrets.get(name);
      if (!versions) throw notFound();
      this.deleteSecret(name);
      return {
        ...this.bundle(name, versions[versions.length - 1] as Version, false),
        recoveryId: `${this.vaultUrl}/deletedsecrets/${name}`,
        deletedDate: nowSeconds(),
      };
    }
    const versions = this.secrets.get(name);
    if (version === 'versions' && req.method === 'GET' && !extra) {
      if (!versions) throw notFound();
      return this.page(
        [...versions].reverse().map((v) => this.bundle(name, v, false)),
        url,
        `/secrets/${name}/versions`,
      );
    }
    // The current version is the newest, enabled or not (Key Vault does not skip a disabled one).
    const v = version ? versions?.find((x) => x.id === version) : versions?.[versions.length - 1];
    if (!v || extra !== undefined) throw notFound();
    if (req.method === 'PATCH') {
      const b = JSON.parse(body || '{}') as {
        attributes?: { enabled?: boolean };
        tags?: Record<string, string>;
        contentType?: string;
      };
      if (b.attributes?.enabled !== undefined) v.enabled = b.attributes.enabled;
      if (b.tags) v.tags = b.tags;
      if (b.contentType !== undefined) v.contentType = b.contentType;
      v.updated = nowSeconds();
      return this.bundle(name, v, false);
    }
    if (req.method !== 'GET') throw kvError(405, 'MethodNotAllowed', 'Method not allowed.');
    if (!v.enabled)
      throw kvError(403, 'Forbidden', 'Operation get is not allowed on a disabled secret.', 'SecretDisabled');
    return this.bundle(name, v);
  }

  private certificateBundle(name: string, v: CertificateVersion): Record<string, unknown> {
    const attributes = {
      enabled: true,
      nbf: v.notBefore,
      exp: v.expires,
      created: v.created,
      updated: v.updated,
      recoveryLevel: 'Recoverable+Purgeable',
      recoverableDays: 90,
    };
    return {
      id: `${this.vaultUrl}/certificates/${name}/${v.id}`,
      kid: `${this.vaultUrl}/keys/${name}/${v.id}`,
      sid: `${this.vaultUrl}/secrets/${name}/${v.id}`,
      x5t: createHash('sha1').update(v.der).digest('base64url'),
      cer: v.der.toString('base64'),
      attributes,
      policy: {
        id: `${this.vaultUrl}/certificates/${name}/policy`,
        key_props: { exportable: true, kty: 'RSA', key_size: 2048, reuse_key: false },
        secret_props: { contentType: 'application/x-pkcs12' },
        x509_props: { subject: v.subject, validity_months: 12 },
        lifetime_actions: [{ trigger: { lifetime_percentage: 80 }, action: { action_type: 'AutoRenew' } }],
        issuer: { name: 'Self' },
        attributes: { enabled: true, created: v.created, updated: v.updated },
      },
      ...(v.tags ? { tags: v.tags } : {}),
    };
  }

  private keyBundle(name: string, v: KeyVersion): Record<string, unknown> {
    return {
      key: { kid: `${this.vaultUrl}/keys/${name}/${v.id}`, kty: v.jwk.kty, key_ops: v.keyOps, ...v.jwk },
      attributes: {
        enabled: true,
        created: v.created,
        updated: v.updated,
        recoveryLevel: 'Recoverable+Purgeable',
        recoverableDays: 90,
        exportable: false,
      },
      ...(v.tags ? { tags: v.tags } : {}),
    };
  }

  /** GET certificates/{name}[/{version}] and keys/{name}[/{version}]. */
  private async objects(req: IncomingMessage, url: URL, path: string): Promise<unknown> {
    const apiVersion = url.searchParams.get('api-version');
    if (!apiVersion) throw kvError(400, 'BadParameter', 'The api-version parameter is missing.');
    if (!API_VERSIONS.has(apiVersion))
      throw kvError(400, 'BadParameter', `The specified version (${apiVersion}) is not recognized.`);
    this.authorize(req);
    const [, collection, name = '', version, extra] = path.split('/');
    const kind = collection === 'certificates' ? 'cert' : 'key';
    if (req.method !== 'GET') throw kvError(405, 'MethodNotAllowed', 'Method not allowed.');
    const counted = `${kind}/${name}`;
    this.counts.reads.set(counted, this.reads(counted) + 1);
    this.throttleIfAsked(counted);
    const notFound = () =>
      kind === 'cert'
        ? kvError(
            404,
            'CertificateNotFound',
            `A certificate with (name/id) ${name}${version ? `/${version}` : ''} was not found in this key vault.`,
          )
        : kvError(
            404,
            'KeyNotFound',
            `A key with (name/id) ${name}${version ? `/${version}` : ''} was not found in this key vault.`,
          );
    if (extra !== undefined) throw notFound();
    if (kind === 'cert') {
      const versions = this.certificates.get(name);
      const v = version ? versions?.find((x) => x.id === version) : versions?.[versions.length - 1];
      if (!v) throw notFound();
      return this.certificateBundle(name, v);
    }
    const versions = this.keys.get(name);
    const v = version ? versions?.find((x) => x.id === version) : versions?.[versions.length - 1];
    if (!v) throw notFound();
    return this.keyBundle(name, v);
  }
}
