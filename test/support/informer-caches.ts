// Whether a controller's informers hold what the API server holds: its caches (object key →
// resourceVersion) compared with a fresh list, for tests that prove no watch event was missed.
import type { RunningController } from './controller.ts';
import type { Objects } from './objects.ts';
import { eventually } from './wait.ts';

type Versions = Record<string, Map<string, string>>;

/** Object key → resourceVersion, as a fresh list from the API server returns them, per resource. */
export async function listed(o: Objects): Promise<Versions> {
  const versions = (items: { metadata?: { namespace?: string; name?: string; resourceVersion?: string } }[]) =>
    new Map(
      items.map((i) => [
        i.metadata?.namespace ? `${i.metadata.namespace}/${i.metadata.name}` : `${i.metadata?.name}`,
        i.metadata?.resourceVersion ?? '',
      ]),
    );
  const group = { group: 'ferry.dev', version: 'v1alpha1' };
  const all = async (plural: string) =>
    ((await o.custom.listClusterCustomObject({ ...group, plural })) as { items: [] }).items;
  return {
    externalsecrets: versions(await all('externalsecrets')),
    secretstores: versions(await all('secretstores')),
    clustersecretstores: versions(await all('clustersecretstores')),
    secrets: versions((await o.core.listSecretForAllNamespaces({ labelSelector: 'ferry.dev/managed=true' })).items),
  };
}

/** The informers converge on a fresh list: every add, update and delete reached the cache. */
export async function expectCachesMatchAList(ctl: RunningController, o: Objects): Promise<void> {
  await eventually('the informer caches equal a fresh list', async () => {
    const want = await listed(o);
    const have = ctl.controller.cachedVersions();
    const same = Object.keys(want).every(
      (r) => JSON.stringify([...(have[r] ?? [])].sort()) === JSON.stringify([...(want[r] ?? [])].sort()),
    );
    return same ? true : undefined;
  });
}
