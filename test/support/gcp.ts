// Google credentials for tests: a throwaway service-account key (drongo checks no signature, but
// the client really signs its JWTs with it) and the environment the Google libraries read.
import { generateKeyPairSync } from 'node:crypto';

let key: string | undefined;

/** A service-account key file's JSON for `email`, with a fresh RSA key (made once per process). */
export function serviceAccountKeyJson(email = 'ferry-test@p1.iam.gserviceaccount.com'): string {
  key ??= generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  return JSON.stringify({
    type: 'service_account',
    project_id: 'p1',
    private_key_id: 'test-key',
    private_key: key,
    client_email: email,
    client_id: '1',
    token_uri: 'https://oauth2.googleapis.com/token',
  });
}

/** Keeps google-auth-library from probing a metadata server (there is none here). */
export function withoutMetadataServer(): void {
  process.env.METADATA_SERVER_DETECTION = 'none';
}
