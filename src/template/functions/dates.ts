// Sprig's date functions (date.go): now, date, dateInZone, toDate, dateModify, ago, duration,
// durationRound, unixEpoch, with Go layouts and durations (../time/).
import { FunctionError, type TemplateFunction } from '../execute.ts';
import { durationString, parseDuration, roundDuration } from '../time/duration.ts';
import { GoTime, inLocation, NS_PER_S, ZERO_TIME } from '../time/go-time.ts';
import { parseTime } from '../time/parse.ts';
import { GoNumber, typeName } from '../values.ts';
import { alias, checked, stringNamed } from './arguments.ts';

function time(v: unknown, fn: string): GoTime {
  if (v instanceof GoTime) return v;
  throw new FunctionError(`wrong type for value; expected time.Time; got ${typeName(v)} (${fn})`);
}

/** Unix seconds of an int or an int64 (Sprig's type switches take no other number), else undefined. */
function unixSeconds(v: unknown): bigint | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  return v instanceof GoNumber && v.type === 'int64' ? BigInt(v.value) : undefined;
}

/** Sprig's dateInZone: a time.Time, or Unix seconds (an int or int64); anything else means now. */
function dateInZone(layout: unknown, date: unknown, zone: unknown): string {
  const seconds = unixSeconds(date);
  let t: GoTime;
  if (date instanceof GoTime) t = date;
  else if (seconds !== undefined) t = new GoTime(seconds * NS_PER_S);
  else t = GoTime.now();
  return inLocation(t.ns, stringNamed(zone, 'dateInZone', 'the zone')).format(
    stringNamed(layout, 'date', 'the layout'),
  );
}

const table: Record<string, TemplateFunction> = {
  now: checked('now', 0, () => GoTime.now()),
  date: checked('date', 2, (layout, d) => dateInZone(layout, d, 'Local')),
  dateInZone: checked('dateInZone', 3, dateInZone),
  date_in_zone: checked('date_in_zone', 3, dateInZone),
  htmlDate: checked('htmlDate', 1, (d) => dateInZone('2006-01-02', d, 'Local')),
  htmlDateInZone: checked('htmlDateInZone', 2, (d, zone) => dateInZone('2006-01-02', d, zone)),
  toDate: checked('toDate', 2, (layout, value) => {
    try {
      return parseTime(stringNamed(layout, 'toDate'), stringNamed(value, 'toDate'));
    } catch (err) {
      if (err instanceof FunctionError) return ZERO_TIME;
      throw err;
    }
  }),
  mustToDate: checked('mustToDate', 2, (layout, value) =>
    parseTime(stringNamed(layout, 'mustToDate'), stringNamed(value, 'mustToDate')),
  ),
  unixEpoch: checked('unixEpoch', 1, (d) => time(d, 'unixEpoch').unix().toString()),
  dateModify: checked('dateModify', 2, (mod, d) => {
    const t = time(d, 'dateModify');
    try {
      return t.add(parseDuration(stringNamed(mod, 'dateModify')));
    } catch (err) {
      if (err instanceof FunctionError) return t;
      throw err;
    }
  }),
  mustDateModify: checked('mustDateModify', 2, (mod, d) =>
    time(d, 'mustDateModify').add(parseDuration(stringNamed(mod, 'mustDateModify'))),
  ),
  ago: checked('ago', 1, (d) => {
    const seconds = unixSeconds(d);
    let t: GoTime;
    if (d instanceof GoTime) t = d;
    else if (seconds !== undefined) t = new GoTime(seconds * NS_PER_S);
    else t = GoTime.now();
    return durationString(roundDuration(GoTime.now().ns - t.ns, NS_PER_S));
  }),
  duration: checked('duration', 1, (sec) => {
    // Sprig takes a string (strconv.ParseInt) or an int64 of seconds, anything else is 0; Ferry
    // takes an int too (deliberately: Go's reads the literal in `duration 95` as 0s).
    let n = 0n;
    if (typeof sec === 'string') n = /^[+-]?[0-9]+$/.test(sec) ? BigInt(sec) : 0n;
    else n = unixSeconds(sec) ?? 0n;
    return durationString(n * NS_PER_S);
  }),
  durationRound: checked('durationRound', 1, (v) => {
    let d = 0n;
    if (typeof v === 'string') {
      try {
        d = parseDuration(v);
      } catch {
        d = 0n;
      }
    } else if (v instanceof GoNumber && v.type === 'int64') d = BigInt(v.value);
    else if (v instanceof GoTime) d = GoTime.now().ns - v.ns;
    const u = d < 0n ? -d : d;
    const units: [bigint, string][] = [
      [365n * 24n * 3600n * NS_PER_S, 'y'],
      [30n * 24n * 3600n * NS_PER_S, 'mo'],
      [24n * 3600n * NS_PER_S, 'd'],
      [3600n * NS_PER_S, 'h'],
      [60n * NS_PER_S, 'm'],
      [NS_PER_S, 's'],
    ];
    for (const [size, unit] of units) if (u > size) return `${u / size}${unit}`;
    return '0s';
  }),
};

export const dateFunctions: Record<string, TemplateFunction> = {
  ...table,
  ...Object.fromEntries([
    alias('date_modify', table.dateModify, 2),
    alias('must_date_modify', table.mustDateModify, 2),
  ]),
};
