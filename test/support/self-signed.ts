// A self-signed certificate and its unencrypted private key, made by the openssl binary.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** PEMs of a self-signed certificate whose subject CN is `cn`, with an RSA 2048 or P-256 key. */
export async function selfSigned(cn: string, key: 'rsa' | 'ec' = 'rsa'): Promise<{ cert: string; key: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-cert-'));
  try {
    const keyArgs = key === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
    await promisify(execFile)(
      'openssl',
      [
        'req',
        '-x509',
        ...keyArgs,
        '-nodes',
        '-days',
        '2',
        '-subj',
        `/CN=${cn}`,
        '-keyout',
        'key.pem',
        '-out',
        'cert.pem',
      ],
      { cwd: dir },
    );
    const [cert, pem] = await Promise.all(['cert.pem', 'key.pem'].map((f) => readFile(join(dir, f), 'utf8')));
    return { cert: cert as string, key: pem as string };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
