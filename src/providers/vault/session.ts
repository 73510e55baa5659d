// The Vault token of one store identity: obtained once (a login, or read from a Secret), reused
// by every read, renewed in the background once two thirds of its TTL have passed (so a store
// refreshed less often than the TTL still keeps its token), replaced when renewal fails or Vault
// refuses it, and revoked on close if Ferry created it. Never a login per reconcile.

import { MAX_TOKEN_SECONDS } from '../../api/v1alpha1/providers/vault.ts';
import { MAX_TIMER_MS } from '../../rate-limit.ts';
import { SecretValue } from '../../values.ts';
import { ProviderError, type StoreContext } from '../provider.ts';
import type { VaultHttp } from './http.ts';
import { DEFAULT_IAM_PATH, iamLoginPayload } from './iam.ts';
import type { VaultAuthSpec } from './spec.ts';

interface Token {
  value: SecretValue;
  /** Ferry logged in for it, so Ferry renews and revokes it. */
  ours: boolean;
  renewable: boolean;
  ttlMs: number;
  /** TTL granted at login; a renewal that grants far less means the max TTL is near. */
  loginTtlMs: number;
  since: number;
}

interface LoginAuth {
  client_token?: string;
  lease_duration?: number;
  renewable?: boolean;
}

const CALL_TIMEOUT_MS = 10_000;
/** A token this close to its expiry is not used: a new one is obtained first. */
const EXPIRY_MARGIN = 0.9;

export function authMethod(auth: VaultAuthSpec): string {
  if (auth.tokenSecretRef) return 'token';
  if (auth.appRole) return 'approle';
  if (auth.kubernetes) return 'kubernetes';
  if (auth.userPass) return 'userpass';
  if (auth.ldap) return 'ldap';
  if (auth.iam) return 'iam';
  return 'jwt';
}

export class VaultSession {
  private token: Token | undefined;
  private pending: Promise<Token> | undefined;
  private checking: { token: Token; result: Promise<boolean> } | undefined;
  private renewal: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly auth: VaultAuthSpec;
  private readonly http: VaultHttp;
  private readonly ctx: StoreContext;

  constructor(auth: VaultAuthSpec, http: VaultHttp, ctx: StoreContext) {
    this.auth = auth;
    this.http = http;
    this.ctx = ctx;
  }

  /** A usable token: the current one, or a new one when there is none or it is about to expire. */
  async current(signal: AbortSignal): Promise<SecretValue> {
    const token = this.token;
    if (token && !this.expiring(token)) return token.value;
    this.pending ??= this.obtain(signal)
      .then((fresh) => this.adopt(fresh))
      .finally(() => {
        this.pending = undefined;
      });
    return (await this.pending).value;
  }

  /**
   * Vault refused `used` with a 403. True when a retry with a new token may succeed (the token
   * was replaced meanwhile, or it is no longer valid and was dropped); false when the token is
   * fine and the policy denies the request, so logging in again would not help.
   */
  async refused(used: SecretValue, signal: AbortSignal): Promise<boolean> {
    const token = this.token;
    if (!token || token.value !== used) return true;
    if (this.checking?.token !== token) {
      this.checking = { token, result: this.stillValid(token, signal) };
    }
    const valid = await this.checking.result;
    if (!valid && this.token === token) this.token = undefined;
    return !valid;
  }

  /** Revokes a token Ferry logged in for; a token read from a Secret belongs to its owner. */
  async revoke(): Promise<void> {
    const token = this.token;
    this.closed = true;
    this.token = undefined;
    clearTimeout(this.renewal);
    if (token) await this.revokeToken(token);
  }

  private async revokeToken(token: Token): Promise<void> {
    if (!token.ours) return;
    await this.http
      .send({
        method: 'POST',
        path: 'auth/token/revoke-self',
        token: token.value.revealText(),
        signal: AbortSignal.timeout(3000),
        what: 'revoking its token',
      })
      .catch(() => undefined);
  }

  private expiring(token: Token): boolean {
    return token.ttlMs > 0 && Date.now() - token.since >= token.ttlMs * EXPIRY_MARGIN;
  }

  /** Makes `token` the current one and schedules its renewal at two thirds of its TTL. */
  private adopt(token: Token): Token {
    // A login that finished after close: its token is nobody's, so it is revoked at once.
    if (this.closed) void this.revokeToken(token);
    else this.token = token;
    clearTimeout(this.renewal);
    this.renewal = undefined;
    if (this.closed || !token.ours || !token.renewable || token.ttlMs <= 0) return token;
    // A TTL over five weeks would overflow setTimeout (see MAX_TIMER_MS): renewed sooner then.
    this.renewal = setTimeout(() => void this.renewInBackground(token), Math.min((token.ttlMs * 2) / 3, MAX_TIMER_MS));
    this.renewal.unref();
    return token;
  }

  /** A failed renewal leaves the token as it is: near its expiry, the next use logs in again. */
  private async renewInBackground(token: Token): Promise<void> {
    if (this.token !== token || this.closed) return;
    const renewed = await this.renew(token, AbortSignal.timeout(CALL_TIMEOUT_MS)).catch(() => undefined);
    if (renewed && this.token === token && !this.closed) this.adopt(renewed);
  }

  private async renew(old: Token, signal: AbortSignal): Promise<Token | undefined> {
    const { body } = await this.http.ok({
      method: 'POST',
      path: 'auth/token/renew-self',
      token: old.value.revealText(),
      json: {},
      signal,
      what: 'renewing its token',
    });
    const auth = (body as { auth?: LoginAuth } | undefined)?.auth;
    if (!auth?.lease_duration) return undefined;
    const ttlMs = auth.lease_duration * 1000;
    // Near the token's max TTL renewals grant less and less; log in afresh rather than creep.
    const renewable = auth.renewable === true && ttlMs >= old.loginTtlMs / 3;
    return { ...old, ttlMs, renewable, since: Date.now() };
  }

  private async stillValid(token: Token, signal: AbortSignal): Promise<boolean> {
    const answer = await this.http.send({
      method: 'GET',
      path: 'auth/token/lookup-self',
      token: token.value.revealText(),
      signal: AbortSignal.any([signal, AbortSignal.timeout(CALL_TIMEOUT_MS)]),
      what: 'looking up its token',
    });
    return answer.status === 200;
  }

  private async obtain(signal: AbortSignal): Promise<Token> {
    const { auth } = this;
    if (auth.tokenSecretRef) {
      const value = await this.ctx.readSecretKey(auth.tokenSecretRef);
      const text = value.revealText().trim();
      if (!text)
        throw new ProviderError('Invalid', `auth.tokenSecretRef: Secret key "${auth.tokenSecretRef.key}" is empty`);
      return {
        value: SecretValue.fromString(text),
        ours: false,
        renewable: false,
        ttlMs: 0,
        loginTtlMs: 0,
        since: Date.now(),
      };
    }
    const method = authMethod(auth);
    try {
      const token = await this.login(signal);
      this.ctx.recordLogin(method, 'ok');
      return token;
    } catch (err) {
      this.ctx.recordLogin(method, err instanceof ProviderError ? err.kind : 'Transient');
      throw err;
    }
  }

  private async login(signal: AbortSignal): Promise<Token> {
    const { path, payload, user, about } = await this.loginRequest();
    const { body } = await this.http.ok(
      {
        method: 'POST',
        // userpass and ldap name the user in the path: auth/<mount>/login/<username>.
        path: `auth/${path}/login${user === undefined ? '' : `/${encodeURIComponent(user)}`}`,
        namespace: this.auth.namespace,
        json: payload,
        signal,
        what: `logging in with auth/${path}${about ? ` ${about}` : ''}`,
      },
      { login: true },
    );
    const auth = (body as { auth?: LoginAuth } | undefined)?.auth;
    if (!auth?.client_token) {
      throw new ProviderError('Transient', `Vault logging in with auth/${path}: the answer carried no token`);
    }
    const ttlMs = (auth.lease_duration ?? 0) * 1000;
    return {
      value: SecretValue.fromString(auth.client_token),
      ours: true,
      renewable: auth.renewable === true,
      ttlMs,
      loginTtlMs: ttlMs,
      since: Date.now(),
    };
  }

  private async loginRequest(): Promise<LoginRequest> {
    const { appRole, kubernetes, jwt, userPass, ldap, iam } = this.auth;
    const text = async (ref: Parameters<StoreContext['readSecretKey']>[0]) =>
      (await this.ctx.readSecretKey(ref)).revealText().trim();
    if (appRole) {
      const [roleId, secretId] = await Promise.all([
        appRole.roleRef ? text(appRole.roleRef) : Promise.resolve(appRole.roleId ?? ''),
        text(appRole.secretRef),
      ]);
      return { path: mount(appRole.path, 'approle'), payload: { role_id: roleId, secret_id: secretId } };
    }
    if (iam) {
      // Fresh AWS credentials and a fresh signature at each login: a signed request is valid for
      // minutes only, and the keys in a Secret may have been rotated since the last login.
      return {
        path: mount(iam.path, DEFAULT_IAM_PATH),
        payload: await iamLoginPayload(iam, this.ctx),
        about: `as spec.provider.vault.auth.iam.vaultRole "${iam.vaultRole}"`,
      };
    }
    if (kubernetes) {
      const token = kubernetes.serviceAccountRef
        ? await this.ctx.requestToken(kubernetes.serviceAccountRef, [], 600)
        : kubernetes.secretRef
          ? await text(kubernetes.secretRef)
          : '';
      return { path: mount(kubernetes.mountPath, 'kubernetes'), payload: { role: kubernetes.role, jwt: token } };
    }
    if (jwt) return jwtLogin(jwt, this.ctx, text);
    const password = userPass ?? ldap;
    if (password) return passwordLogin(password, userPass ? 'userPass' : 'ldap', this.ctx);
    throw new ProviderError('Invalid', 'spec.provider.vault.auth must set one login method');
  }
}

interface LoginRequest {
  path: string;
  payload: Record<string, string>;
  user?: string;
  /** Names the fields behind the login in its error messages. */
  about?: string;
}

type Auth = VaultAuthSpec;

/** An auth method's mount, as given or its default, without slashes or an auth/ prefix. */
function mount(path: string | undefined, fallback: string): string {
  return (path ?? fallback).replace(/^\/+|\/+$/g, '').replace(/^auth\//, '');
}

/** JWT auth: a ServiceAccount token (audience vault unless set) or a token from a Secret. */
async function jwtLogin(
  jwt: NonNullable<Auth['jwt']>,
  ctx: StoreContext,
  text: (ref: Parameters<StoreContext['readSecretKey']>[0]) => Promise<string>,
): Promise<LoginRequest> {
  const sat = jwt.kubernetesServiceAccountToken;
  // Refused at admission too (CRD maximum); here for stores admitted before the bound existed.
  if (sat?.expirationSeconds !== undefined && sat.expirationSeconds > MAX_TOKEN_SECONDS) {
    throw new ProviderError(
      'Invalid',
      `spec.provider.vault.auth.jwt.kubernetesServiceAccountToken.expirationSeconds: ${sat.expirationSeconds} is over the ${MAX_TOKEN_SECONDS} s Ferry asks for (the token is used once, to log in)`,
    );
  }
  const token = sat
    ? await ctx.requestToken(
        { ...sat.serviceAccountRef, audiences: sat.audiences ?? sat.serviceAccountRef.audiences },
        ['vault'],
        sat.expirationSeconds ?? 600,
      )
    : jwt.secretRef
      ? await text(jwt.secretRef)
      : '';
  const payload: Record<string, string> = { jwt: token };
  if (jwt.role) payload.role = jwt.role;
  return { path: mount(jwt.path, 'jwt'), payload };
}

/** userPass or ldap: the user, and the password exactly as stored (as ESO sends it: it may begin or end with spaces). */
async function passwordLogin(
  password: NonNullable<Auth['userPass']>,
  field: 'userPass' | 'ldap',
  ctx: StoreContext,
): Promise<LoginRequest> {
  const user = password.username.trim();
  const secret = (await ctx.readSecretKey(password.secretRef)).revealText();
  if (!user) throw new ProviderError('Invalid', `spec.provider.vault.auth.${field}.username is empty`);
  if (!secret) {
    throw new ProviderError(
      'Invalid',
      `auth.${field}.secretRef: Secret ${password.secretRef.name} key "${password.secretRef.key}" is empty`,
    );
  }
  return {
    path: mount(password.path, field === 'userPass' ? 'userpass' : 'ldap'),
    payload: { password: secret },
    user,
  };
}
