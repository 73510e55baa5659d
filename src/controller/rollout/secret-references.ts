// Where a pod spec names Secrets: secret and projected volumes, env secretKeyRef and envFrom, in
// every container. Read to find consumers and old versions still in use; rewritten to repoint a
// workload at a new Secret version.
import type { V1Container, V1PodSpec } from '@kubernetes/client-node';

type SecretNameSlot = { get(): string | undefined; set(name: string): void };

function slots(spec: V1PodSpec | undefined): SecretNameSlot[] {
  if (!spec) return [];
  const out: SecretNameSlot[] = [];
  const slot = <T extends object>(obj: T | undefined, key: keyof T) => {
    if (!obj) return;
    out.push({
      get: () => obj[key] as unknown as string | undefined,
      set: (name) => {
        obj[key] = name as T[keyof T];
      },
    });
  };
  for (const volume of spec.volumes ?? []) {
    slot(volume.secret, 'secretName');
    for (const source of volume.projected?.sources ?? []) slot(source.secret, 'name');
  }
  const containers: V1Container[] = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  for (const c of containers) {
    for (const env of c.env ?? []) slot(env.valueFrom?.secretKeyRef, 'name');
    for (const from of c.envFrom ?? []) slot(from.secretRef, 'name');
  }
  return out;
}

/** Every Secret name the pod spec references. */
export function referencedSecrets(spec: V1PodSpec | undefined): Set<string> {
  return new Set(
    slots(spec)
      .map((s) => s.get())
      .filter((n): n is string => Boolean(n)),
  );
}

/** Points every reference `matches` accepts at `to`; true when anything changed. */
export function repointSecrets(spec: V1PodSpec | undefined, matches: (name: string) => boolean, to: string): boolean {
  let changed = false;
  for (const s of slots(spec)) {
    const name = s.get();
    if (name && name !== to && matches(name)) {
      s.set(to);
      changed = true;
    }
  }
  return changed;
}
