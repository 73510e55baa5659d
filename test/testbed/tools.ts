// Where the test bed's servers are cached, and which versions it expects (versions.env).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export type ToolName =
  | 'etcd'
  | 'kube-apiserver'
  | 'moto'
  | 'openbao'
  | 'vault-aws-plugin'
  | 'drongo'
  | 'csi-sanity'
  | 'helm'
  | NodeToolName;
/** Built by `provision.sh k8s-node` (test/testbed/node/provision-node.sh). */
export type NodeToolName = 'kubelet' | 'kube-controller-manager' | 'kube-scheduler';

function readVersions(): Record<string, string> {
  const text = readFileSync(new URL('./versions.env', import.meta.url), 'utf8');
  const entries = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => line.split('=', 2) as [string, string]);
  return Object.fromEntries(entries);
}

const versions = readVersions();

export function cacheDir(): string {
  return process.env.FERRY_CACHE ?? join(homedir(), '.cache', 'ferry');
}

const binaryNames: Record<ToolName, () => string> = {
  etcd: () => `etcd-${versions.ETCD_VERSION}`,
  'kube-apiserver': () => `kube-apiserver-${versions.K8S_VERSION}`,
  moto: () => `moto_server-${versions.MOTO_VERSION}`,
  openbao: () => `bao-${versions.OPENBAO_VERSION}`,
  'vault-aws-plugin': () => `vault-plugin-auth-aws-${versions.VAULT_AWS_PLUGIN_VERSION}`,
  drongo: () => `drongo-${versions.DRONGO_VERSION}`,
  'csi-sanity': () => `csi-sanity-${versions.CSI_SANITY_VERSION}`,
  helm: () => `helm-${versions.HELM_VERSION}`,
  kubelet: () => `kubelet-${versions.K8S_VERSION}`,
  'kube-controller-manager': () => `kube-controller-manager-${versions.K8S_VERSION}`,
  'kube-scheduler': () => `kube-scheduler-${versions.K8S_VERSION}`,
};

/** Path of a provisioned tool; throws a message that says how to provision it when missing. */
export function toolPath(tool: ToolName): string {
  const path = join(cacheDir(), 'bin', binaryNames[tool]());
  if (!existsSync(path)) {
    throw new Error(
      `${tool} is not provisioned (expected ${path}). Run \`npm run testbed:setup\`; its build log is under ${join(cacheDir(), 'logs')}.`,
    );
  }
  return path;
}

/** ESO's docs/ and deploy/crds/ from its Go module (`provision.sh eso-docs`), and where they came from. */
export interface EsoModule {
  dir: string;
  docsDir: string;
  crdBundle: string;
  origin: { module: string; version: string; zipHash: string };
}

export function esoModule(): EsoModule {
  const dir = join(cacheDir(), 'eso', `external-secrets-${versions.ESO_VERSION}`);
  const originFile = join(dir, 'ORIGIN');
  if (!existsSync(originFile)) {
    throw new Error(
      `ESO ${versions.ESO_VERSION} docs are not provisioned (expected ${dir}). Run \`npm run testbed:setup\` (or \`bash test/testbed/provision.sh eso-docs\`).`,
    );
  }
  const fields = Object.fromEntries(
    readFileSync(originFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => l.split('=', 2) as [string, string]),
  );
  return {
    dir,
    docsDir: join(dir, 'docs'),
    crdBundle: join(dir, 'deploy', 'crds', 'bundle.yaml'),
    origin: { module: fields.module ?? '', version: fields.version ?? '', zipHash: fields.zipHash ?? '' },
  };
}

/** The ESO controller built for `npm run bench:eso` (`provision.sh eso`, opt-in), and its CRD bundle. */
export interface EsoController {
  version: string;
  binary: string;
  /** The folder holding the module's deploy/crds/bundle.yaml, the only file in it (for installCrds). */
  crdDir: string;
}

export function esoController(): EsoController {
  const version = versions.ESO_BENCH_VERSION ?? '';
  const binary = join(cacheDir(), 'bin', `eso-${version}`);
  const crdDir = join(cacheDir(), `eso-${version}`);
  if (!existsSync(binary) || !existsSync(join(crdDir, 'bundle.yaml'))) {
    throw new Error(
      `the ESO controller ${version} is not provisioned (expected ${binary} and ${join(crdDir, 'bundle.yaml')}). Run \`bash test/testbed/provision.sh eso\` (opt-in, 7-15 min); its build log is under ${join(cacheDir(), 'logs')}.`,
    );
  }
  return { version, binary, crdDir };
}

/** ESO's template engine v2 as a reference program (`provision.sh eso-template`, test/reference/eso-template). */
export interface EsoTemplateReference {
  /** The ESO release whose pkg/template/v2 it runs, with ESO's Sprig fork of versions.env. */
  version: string;
  binary: string;
}

export function esoTemplateReference(): EsoTemplateReference {
  const version = versions.ESO_BENCH_VERSION ?? '';
  // The program's own hash is in the name (as provision.sh computes it), so an edited program is rebuilt.
  const source = new URL('../reference/eso-template/', import.meta.url);
  const hash = createHash('sha256')
    .update(readFileSync(new URL('main.go', source)))
    .update(readFileSync(new URL('go.mod', source)))
    .digest('hex')
    .slice(0, 12);
  const binary = join(cacheDir(), 'bin', `eso-template-${version}-${hash}`);
  if (!existsSync(binary)) {
    throw new Error(
      `ESO's template engine ${version} is not provisioned (expected ${binary}). Run \`bash test/testbed/provision.sh eso-template\` (about 3 min cold; also part of \`npm run testbed:setup\`); its build log is under ${join(cacheDir(), 'logs')}.`,
    );
  }
  return { version, binary };
}
