// `ferry migrate` on ESO's own documentation (the pinned module's docs/, provisioned by
// `provision.sh eso-docs`): a round trip that loses nothing, and the command's exit codes, --out
// and stdin as a user runs it.
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { migrateText } from '../../src/cli/migrate.ts';
import { convertDocument, isEsoObject } from '../../src/migrate/convert.ts';
import { runFerry } from '../support/cli.ts';
import { withoutJinja, yamlBlocks } from '../support/eso-docs.ts';
import { esoModule } from '../testbed/tools.ts';

function run(args: string[], stdin = '') {
  return runFerry(['migrate', ...args], { stdin });
}

async function docsTexts(): Promise<{ name: string; text: string }[]> {
  const { docsDir } = esoModule();
  const out: { name: string; text: string }[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (/\.ya?ml$/.test(entry.name)) out.push({ name: path, text: withoutJinja(await readFile(path, 'utf8')) });
      else if (entry.name.endsWith('.md')) {
        yamlBlocks(await readFile(path, 'utf8')).forEach((b, i) => {
          out.push({ name: `${path} block ${i + 1}`, text: withoutJinja(b) });
        });
      }
    }
  };
  await walk(docsDir);
  return out;
}

function values(text: string): unknown[] {
  return parseAllDocuments(text)
    .map((d) => {
      try {
        return d.errors.length ? Symbol.for('unparseable') : d.toJS();
      } catch {
        return Symbol.for('unparseable');
      }
    })
    .filter((v) => v !== null && v !== undefined);
}

describe('ferry migrate on the ESO docs corpus', () => {
  it('round-trips every document: ESO ones get only the new apiVersion, others stay as they were, nothing is dropped', async () => {
    const texts = await docsTexts();
    process.stdout.write(
      `ESO docs: ${esoModule().origin.module}@${esoModule().origin.version} (${esoModule().origin.zipHash})\n`,
    );
    let converted = 0;
    let findings = 0;
    for (const input of texts) {
      const before = values(input.text);
      if (before.some((v) => v === Symbol.for('unparseable'))) continue; // not YAML: migrate reports it (unit test)
      const result = migrateText(input);
      expect(result.errors, input.name).toEqual([]);
      const after = values(result.text);
      expect(after.length, input.name).toBe(before.length);
      const expectedFindings: string[] = [];
      before.forEach((doc, i) => {
        const c = convertDocument(doc);
        if (c.kind === 'converted') {
          converted++;
          const { status: _s, ...rest } = doc as Record<string, unknown>;
          expect(after[i], `${input.name} #${i + 1}`).toEqual({ ...rest, apiVersion: 'ferry.dev/v1alpha1' });
          expectedFindings.push(...c.unsupported.map((u) => u.path));
        } else {
          expect(after[i], `${input.name} #${i + 1}`).toEqual(doc);
          if (c.kind === 'unconvertible') expectedFindings.push(...c.unsupported.map((u) => u.path));
          else expect(isEsoObject(doc)).toBe(false);
        }
      });
      expect(
        result.findings.map((f) => f.path),
        input.name,
      ).toEqual(expectedFindings);
      findings += result.findings.length;
    }
    process.stdout.write(`migrate: ${converted} ESO documents converted, ${findings} unsupported fields listed\n`);
    expect(converted).toBeGreaterThan(200);
  });

  it('writes one file per input under --out (directories recursed) and exits 3 when something is unsupported', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'ferry-migrate-'));
    try {
      const snippets = join(esoModule().docsDir, 'snippets');
      const inputs = join(tmp, 'in');
      await mkdir(join(inputs, 'stores'), { recursive: true });
      // Google workload identity federation is one of the ESO fields Ferry does not have.
      const unsupported = 'gcpsm-wif-non-native-iam-secret-store.yaml';
      for (const name of [unsupported, 'aws-sm-store.yaml', 'aws-sm-external-secret.yaml']) {
        await copyFile(join(snippets, name), join(inputs, 'stores', name));
      }
      await writeFile(join(inputs, 'notes.txt'), 'not a manifest');
      const { code, stderr } = await run(['--out', join(tmp, 'out'), inputs]);
      expect(code).toBe(3);
      expect(stderr).toMatch(
        /^unsupported: stores\/gcpsm-wif-non-native-iam-secret-store\.yaml#1 SecretStore\/demo-store: spec\.provider\.gcpsm\.auth\.workloadIdentityFederation: unknown field/m,
      );
      expect((await readdir(join(tmp, 'out', 'stores'))).sort()).toEqual([
        'aws-sm-external-secret.yaml',
        'aws-sm-store.yaml',
        unsupported,
      ]);
      expect(await readFile(join(tmp, 'out', 'stores', 'aws-sm-store.yaml'), 'utf8')).toContain(
        'apiVersion: ferry.dev/v1alpha1',
      );
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('exits 1 on input that is not YAML, still writing the rest', async () => {
    const { code, stderr, stdout } = await run([join(esoModule().docsDir, 'snippets', 'full-external-secret.yaml')]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error: full-external-secret\.yaml#\d+: not valid YAML/m);
    expect(stdout.length).toBeGreaterThan(0);
  });

  it('reads stdin with -, exits 0 when everything converts, 1 on a missing path', async () => {
    const es =
      'apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: a}\nspec:\n  secretStoreRef: {name: s}\n  data: [{secretKey: k, remoteRef: {key: r}}]\n';
    const ok = await run(['-'], es);
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    expect(values(ok.stdout)).toEqual(values(es.replace('external-secrets.io/v1', 'ferry.dev/v1alpha1')));
    const missing = await run(['/nonexistent/file.yaml']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('/nonexistent/file.yaml: ENOENT');
  });
});
