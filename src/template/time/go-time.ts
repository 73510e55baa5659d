// Go's time.Time as a template value, for Sprig's date functions: an instant in a zone, its
// arithmetic, and Format with Go layout strings ("2006-01-02T15:04:05Z07:00"). Written here
// because no npm library formats Go layouts faithfully. Nanosecond precision (BigInt). Zone
// offsets come from the runtime's ICU; zone abbreviations ("CET") from the tz database files Go
// reads (/usr/share/zoneinfo), numeric ("+04") when they are absent. Go's time.Local is taken as
// UTC, as in the controller's container (no TZ, no /etc/localtime).
import { readFileSync } from 'node:fs';
import { GoValue } from '../values.ts';
import { DAYS, layoutChunks, MONTHS } from './layout.ts';

export const NS_PER_S = 1_000_000_000n;
const NS_PER_MS = 1_000_000n;

export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

export function floorMod(a: bigint, b: bigint): bigint {
  return a - floorDiv(a, b) * b;
}

export interface Zone {
  name: string;
  /** Seconds east of UTC. */
  offset: number;
}

export const UTC: Zone = { name: 'UTC', offset: 0 };

export class GoTime extends GoValue {
  /** Nanoseconds since the Unix epoch. */
  readonly ns: bigint;
  readonly zone: Zone;
  /** An IANA zone to recompute the offset in after arithmetic (dateModify across a DST change). */
  readonly location: string | undefined;

  constructor(ns: bigint, zone: Zone = UTC, location?: string) {
    super();
    this.ns = ns;
    this.zone = zone;
    this.location = location;
  }

  get goType(): string {
    return 'time.Time';
  }

  static now(): GoTime {
    const ms = performance.timeOrigin + performance.now();
    return new GoTime(BigInt(Math.floor(ms * 1000)) * 1000n);
  }

  /** Unix seconds. */
  unix(): bigint {
    return floorDiv(this.ns, NS_PER_S);
  }

  add(d: bigint): GoTime {
    const ns = this.ns + d;
    return this.location ? inLocation(ns, this.location) : new GoTime(ns, this.zone);
  }

  format(layout: string): string {
    return formatTime(this, layout);
  }

  goString(): string {
    return this.format('2006-01-02 15:04:05.999999999 -0700 MST');
  }

  toJSON(): string {
    return this.format('2006-01-02T15:04:05.999999999Z07:00');
  }
}

/** The zero time.Time (January 1, year 1, 00:00:00 UTC), which toDate returns on a parse error. */
export const ZERO_TIME = new GoTime(-62135596800n * NS_PER_S);

const zoneFormats = new Map<string, Intl.DateTimeFormat[]>();

function formatsFor(location: string): Intl.DateTimeFormat[] | undefined {
  let f = zoneFormats.get(location);
  if (!f) {
    try {
      const opts: Intl.DateTimeFormatOptions = {
        timeZone: location,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
        timeZoneName: 'short',
        era: 'short',
      };
      f = [new Intl.DateTimeFormat('en-US', opts)];
    } catch {
      return undefined;
    }
    zoneFormats.set(location, f);
  }
  return f;
}

/** Go's name for a zone without an abbreviation in tzdata: "+03", "-0330". */
function numericZoneName(offset: number): string {
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const h = String(Math.floor(abs / 3600)).padStart(2, '0');
  const m = Math.floor((abs % 3600) / 60);
  return m ? `${sign}${h}${String(m).padStart(2, '0')}` : `${sign}${h}`;
}

/** The instant `ns` in the IANA zone `location` (UTC when unknown, as Sprig falls back). */
export function inLocation(ns: bigint, location: string): GoTime {
  if (location === 'UTC' || location === '' || location === 'Local') return new GoTime(ns);
  const formats = formatsFor(location);
  if (!formats) return new GoTime(ns);
  const ms = Number(floorDiv(ns, NS_PER_MS));
  const parts = Object.fromEntries(
    (formats[0] as Intl.DateTimeFormat).formatToParts(new Date(ms)).map((p) => [p.type, p.value]),
  );
  const local = new Date(0);
  // Years before 1 come as 1 BC, 2 BC, ... (the zero time seen west of Greenwich is in year 0).
  const year = parts.era === 'BC' ? 1 - Number(parts.year) : Number(parts.year);
  local.setUTCFullYear(year, Number(parts.month) - 1, Number(parts.day));
  local.setUTCHours(Number(parts.hour), Number(parts.minute), Number(parts.second), 0);
  const offset = Math.round((local.getTime() - Math.floor(ms / 1000) * 1000) / 1000);
  const name = tzAbbreviation(location, floorDiv(ns, NS_PER_S), offset) ?? numericZoneName(offset);
  return new GoTime(ns, { name, offset }, location);
}

interface TzFile {
  transitions: bigint[];
  types: { offset: number; abbr: string }[];
  indices: number[];
  /** POSIX TZ names and offsets for times after the last transition. */
  footer: { name: string; offset: number }[];
}

const tzFiles = new Map<string, TzFile | undefined>();

/** The std and dst names of a POSIX TZ string ("EST5EDT,M3.2.0,M11.1.0", "<+04>-4"), with offsets. */
function footerNames(tz: string): { name: string; offset: number }[] {
  const out: { name: string; offset: number }[] = [];
  const re = /^(<[^>]+>|[A-Za-z]{3,})([+-]?\d{1,2}(?::\d{2}){0,2})?/;
  let rest = tz.split(',')[0] ?? '';
  for (let i = 0; i < 2 && rest; i++) {
    const m = re.exec(rest);
    if (!m) break;
    const name = (m[1] as string).replace(/^<|>$/g, '');
    let offset: number;
    if (m[2]) {
      const sign = m[2].startsWith('-') ? 1 : -1; // POSIX offsets are west of UTC
      const [h = 0, mi = 0, se = 0] = m[2].replace(/^[+-]/, '').split(':').map(Number);
      offset = sign * (h * 3600 + mi * 60 + se);
    } else offset = (out[0]?.offset ?? 0) + 3600;
    out.push({ name, offset });
    rest = rest.slice(m[0].length);
  }
  return out;
}

/** The tz database file Go reads for `location`, from /usr/share/zoneinfo; undefined when absent. */
function tzFile(location: string): TzFile | undefined {
  if (tzFiles.has(location)) return tzFiles.get(location);
  let parsed: TzFile | undefined;
  try {
    if (!/^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+)*$/.test(location)) throw new Error('not a zone name');
    const b = readFileSync(`/usr/share/zoneinfo/${location}`);
    if (b.toString('latin1', 0, 4) !== 'TZif' || b[4] === 0) throw new Error('not TZif v2+');
    const counts = (at: number) => [0, 1, 2, 3, 4, 5].map((i) => b.readUInt32BE(at + 20 + i * 4));
    const [isut1 = 0, isstd1 = 0, leap1 = 0, time1 = 0, type1 = 0, char1 = 0] = counts(0);
    const v2 = 44 + time1 * 5 + type1 * 6 + char1 + leap1 * 8 + isstd1 + isut1;
    const [, , leap = 0, timecnt = 0, typecnt = 0, charcnt = 0] = counts(v2);
    let at = v2 + 44;
    const transitions: bigint[] = [];
    for (let i = 0; i < timecnt; i++) transitions.push(b.readBigInt64BE(at + i * 8));
    at += timecnt * 8;
    const indices = [...b.subarray(at, at + timecnt)];
    at += timecnt;
    const raw = [...Array(typecnt).keys()].map((i) => ({
      offset: b.readInt32BE(at + i * 6),
      idx: b[at + i * 6 + 5] ?? 0,
    }));
    at += typecnt * 6;
    const chars = b.toString('latin1', at, at + charcnt);
    const types = raw.map((t) => ({ offset: t.offset, abbr: chars.slice(t.idx, chars.indexOf('\0', t.idx)) }));
    const [isstd = 0, isut = 0] = [counts(v2)[1], counts(v2)[0]];
    at += charcnt + leap * 12 + isstd + isut;
    const footer = b.toString('latin1', at).split('\n')[1] ?? '';
    parsed = { transitions, types, indices, footer: footerNames(footer) };
  } catch {
    parsed = undefined;
  }
  tzFiles.set(location, parsed);
  return parsed;
}

/** The zone's abbreviation in the tz database (what Go prints for MST) at `unix` with `offset`. */
function tzAbbreviation(location: string, unix: bigint, offset: number): string | undefined {
  const tz = tzFile(location);
  if (!tz) return undefined;
  const last = tz.transitions.at(-1);
  if (last === undefined || unix >= last) {
    const named = tz.footer.find((f) => f.offset === offset);
    if (named) return named.name;
  }
  let i = tz.transitions.length - 1;
  while (i >= 0 && (tz.transitions[i] as bigint) > unix) i--;
  const type = i >= 0 ? tz.types[tz.indices[i] ?? 0] : tz.types[0];
  if (type?.offset === offset) return type.abbr;
  return tz.types.findLast((t) => t.offset === offset)?.abbr;
}

interface Civil {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
  nanos: number;
  weekday: number; // 0 = Sunday
  yday: number; // 1-366
}

function civil(t: GoTime): Civil {
  const local = t.ns + BigInt(t.zone.offset) * NS_PER_S;
  const secs = floorDiv(local, NS_PER_S);
  const nanos = Number(floorMod(local, NS_PER_S));
  const d = new Date(Number(secs) * 1000);
  const start = new Date(0);
  start.setUTCFullYear(d.getUTCFullYear(), 0, 1);
  start.setUTCHours(0, 0, 0, 0);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    nanos,
    weekday: d.getUTCDay(),
    yday: Math.floor((d.getTime() - start.getTime()) / 86_400_000) + 1,
  };
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

function zoneText(offset: number, std: string): string {
  if (std.startsWith('Z') && offset === 0) return 'Z';
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const h = pad(Math.floor(abs / 3600), 2);
  const m = pad(Math.floor((abs % 3600) / 60), 2);
  const s = pad(abs % 60, 2);
  const form = std.slice(1);
  if (form === '07') return `${sign}${h}`;
  if (form === '0700') return `${sign}${h}${m}`;
  if (form === '07:00') return `${sign}${h}:${m}`;
  if (form === '070000') return `${sign}${h}${m}${s}`;
  return `${sign}${h}:${m}:${s}`;
}

export function formatTime(t: GoTime, layout: string): string {
  const c = civil(t);
  let out = '';
  for (const chunk of layoutChunks(layout)) {
    if (chunk.kind === 'lit') {
      out += chunk.text;
      continue;
    }
    if (chunk.kind === 'frac') {
      const digits = pad(c.nanos, 9).slice(0, chunk.digits);
      if (!chunk.trim) out += chunk.sep + digits;
      else {
        const trimmed = digits.replace(/0+$/, '');
        if (trimmed) out += chunk.sep + trimmed;
      }
      continue;
    }
    const hour12 = c.hour % 12 === 0 ? 12 : c.hour % 12;
    switch (chunk.std) {
      case 'January':
        out += MONTHS[c.month - 1];
        break;
      case 'Jan':
        out += (MONTHS[c.month - 1] as string).slice(0, 3);
        break;
      case 'Monday':
        out += DAYS[c.weekday];
        break;
      case 'Mon':
        out += (DAYS[c.weekday] as string).slice(0, 3);
        break;
      case 'MST':
        out += t.zone.name || zoneText(t.zone.offset, '-0700');
        break;
      case '2006':
        out += pad(c.year, 4);
        break;
      case '06':
        out += pad(c.year % 100, 2);
        break;
      case '01':
        out += pad(c.month, 2);
        break;
      case '1':
        out += String(c.month);
        break;
      case '02':
        out += pad(c.day, 2);
        break;
      case '2':
        out += String(c.day);
        break;
      case '_2':
        out += String(c.day).padStart(2, ' ');
        break;
      case '002':
        out += pad(c.yday, 3);
        break;
      case '__2':
        out += String(c.yday).padStart(3, ' ');
        break;
      case '15':
        out += pad(c.hour, 2);
        break;
      case '03':
        out += pad(hour12, 2);
        break;
      case '3':
        out += String(hour12);
        break;
      case '04':
        out += pad(c.minute, 2);
        break;
      case '4':
        out += String(c.minute);
        break;
      case '05':
        out += pad(c.second, 2);
        break;
      case '5':
        out += String(c.second);
        break;
      case 'PM':
        out += c.hour >= 12 ? 'PM' : 'AM';
        break;
      case 'pm':
        out += c.hour >= 12 ? 'pm' : 'am';
        break;
      default:
        out += zoneText(t.zone.offset, chunk.std);
    }
  }
  return out;
}
