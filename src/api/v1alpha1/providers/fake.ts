// spec.provider.fake: values declared in the store itself, for first steps and tests (ESO's `fake`).
import { arrayOf, object, required, string } from '../../schema.ts';

export function fakeProvider() {
  return object(
    'A built-in provider that serves the values declared here. Values are stored in the SecretStore object, so use it only for non-sensitive data, demos and tests.',
    {
      data: required(
        arrayOf(
          'The remote keys this store serves.',
          object('One remote key and its value.', {
            key: required(string('Remote key, as used in remoteRef.key.', { minLength: 1, maxLength: 2048 })),
            value: required(string('The value served for the key.')),
            version: string('Version this value is served for; an entry without version is the current one.', {
              maxLength: 256,
            }),
          }),
          { maxItems: 1000 },
        ),
      ),
    },
  );
}
