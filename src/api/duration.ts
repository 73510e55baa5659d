// Go duration strings (`1h`, `1h30m`, `1.5s`, `0`), the syntax ESO manifests use.
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /([0-9]+(?:\.[0-9]+)?)(ns|us|\u00b5s|ms|s|m|h)/gy; // \u00b5: see build-bundle.ts

/** Milliseconds of a Go duration; throws naming the input when it is not one. */
export function parseDuration(text: string): number {
  if (text === '0') return 0;
  PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let m = PART.exec(text); m; m = PART.exec(text)) {
    total += Number(m[1]) * (UNIT_MS[m[2] as string] ?? Number.NaN);
    consumed = PART.lastIndex;
  }
  if (consumed === 0 || consumed !== text.length || !Number.isFinite(total)) {
    throw new Error(`"${text}" is not a duration (examples: 1h, 15m, 1h30m, 90s, 0)`);
  }
  return total;
}
