// Fetches the protocol files `ferry csi-node` loads (csi.proto of the CSI spec, the kubelet's
// plugin-registration API) from the Go module proxy into a directory, each module zip checked
// against the sha256 pinned in csi-protos.json, with the modules' licences beside them. The
// Dockerfile runs it, so an image builds from a clean clone; so does the test bed's provisioning.
// Usage: node .ci/fetch-protos.ts DIR   (GOPROXY, when set, replaces the proxy; its first entry).
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { unzipSync } from 'fflate';

interface Pin {
  module: string;
  version: string;
  sha256: string;
  /** Path inside the module → name in DIR. */
  files: Record<string, string>;
}

const config = JSON.parse(await readFile(new URL('./csi-protos.json', import.meta.url), 'utf8')) as {
  proxy: string;
  modules: Pin[];
};
const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: node .ci/fetch-protos.ts DIR\n');
  process.exit(2);
}
const proxy = (process.env.GOPROXY?.split(/[,|]/)[0] || config.proxy).replace(/\/+$/, '');
const tmp = `${out}.tmp`;
await rm(tmp, { recursive: true, force: true });
await mkdir(tmp, { recursive: true });
for (const pin of config.modules) {
  const url = `${proxy}/${pin.module}/@v/${pin.version}.zip`;
  const res = await fetch(url).catch((err: Error) => {
    throw new Error(`${url}: ${(err.cause as Error | undefined)?.message ?? err.message}`);
  });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  const zip = new Uint8Array(await res.arrayBuffer());
  const sha256 = createHash('sha256').update(zip).digest('hex');
  if (sha256 !== pin.sha256) throw new Error(`${url}: sha256 ${sha256}, expected ${pin.sha256}`);
  const prefix = `${pin.module}@${pin.version}/`;
  const wanted = new Set(Object.keys(pin.files).map((f) => prefix + f));
  const entries = unzipSync(zip, { filter: (file) => wanted.has(file.name) });
  for (const [inside, name] of Object.entries(pin.files)) {
    const bytes = entries[prefix + inside];
    if (!bytes) throw new Error(`${url} has no ${inside}`);
    await writeFile(join(tmp, name), bytes);
  }
}
await rm(out, { recursive: true, force: true });
await rename(tmp, out);
process.stdout.write(`CSI protocol files in ${out}\n`);
