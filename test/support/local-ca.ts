// A CA made for one test run and a serving certificate it signed for 127.0.0.1, for the HTTPS
// stand-ins of cloud services (the Azure Key Vault test server, Google's token endpoints).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { promisify } from 'node:util';

export interface LocalServingCert {
  caPem: string;
  key: string;
  cert: string;
}

/** Makes a CA (named `name`) and a certificate for 127.0.0.1 and localhost, with openssl. */
export async function localServingCert(name: string): Promise<LocalServingCert> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-ca-'));
  try {
    await promisify(execFile)(
      'sh',
      [
        '-c',
        `printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext &&
       openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=${name} -keyout ca.key -out ca.crt 2>/dev/null &&
       openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout tls.key -out tls.csr 2>/dev/null &&
       openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out tls.crt 2>/dev/null`,
      ],
      { cwd: dir },
    );
    const [caPem, key, cert] = await Promise.all(
      ['ca.crt', 'tls.key', 'tls.crt'].map((f) => readFile(join(dir, f), 'utf8')),
    );
    return { caPem: caPem ?? '', key: key ?? '', cert: cert ?? '' };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Makes this process trust `caPem`, as NODE_EXTRA_CA_CERTS would at start-up. */
export function trustInThisProcess(caPem: string): void {
  if (!getCACertificates('default').includes(caPem)) {
    setDefaultCACertificates([...getCACertificates('default'), caPem]);
  }
}
