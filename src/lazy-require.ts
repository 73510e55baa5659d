// Dependencies only some objects need (node-forge for PKCS#12, bcryptjs for htpasswd, yaml
// for fromYaml/toYaml and KeysAndValues output, re2js for regexps), loaded the first time one is
// used rather than at start: the first three together are ~3 MiB of resident memory (2 MiB of
// heap) in every controller, most of which never renders such a template. Template functions run synchronously, so a dynamic import()
// cannot serve them; all four are CommonJS-loadable and are required synchronously instead.
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

/** A function returning the module `name`, required on its first call and kept. */
export function lazyRequire<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => {
    loaded ??= load(name) as T;
    return loaded;
  };
}
