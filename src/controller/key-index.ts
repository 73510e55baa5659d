// A one-to-many index (store → ExternalSecrets, Secret → ExternalSecrets). Most keys have one
// value (a Secret belongs to one ExternalSecret), so a lone value is kept as a plain string and
// becomes a Set only when a second arrives: a Set per entry cost ~0.2 KiB per ExternalSecret.
export class KeyIndex {
  private readonly map = new Map<string, string | Set<string>>();

  add(key: string | undefined, value: string): void {
    if (key === undefined) return;
    const held = this.map.get(key);
    if (held === undefined) this.map.set(key, value);
    else if (typeof held === 'string') {
      if (held !== value) this.map.set(key, new Set([held, value]));
    } else held.add(value);
  }

  remove(key: string | undefined, value: string): void {
    if (key === undefined) return;
    const held = this.map.get(key);
    if (held === undefined) return;
    if (typeof held === 'string') {
      if (held === value) this.map.delete(key);
      return;
    }
    held.delete(value);
    if (held.size === 1) this.map.set(key, held.values().next().value as string);
  }

  get(key: string): string[] {
    const held = this.map.get(key);
    if (held === undefined) return [];
    return typeof held === 'string' ? [held] : [...held];
  }
}
