// Go's time.ParseInLocation for Sprig's toDate: a value read with a Go layout string.
import { FunctionError } from '../execute.ts';
import { GoTime, NS_PER_S, UTC, type Zone } from './go-time.ts';
import { DAYS, layoutChunks, MONTHS } from './layout.ts';

/** Go's time.ParseInLocation with the UTC location (time.Local here). Throws FunctionError. */
export function parseTime(layout: string, value: string): GoTime {
  let s = value;
  const fail = (what = ''): never => {
    throw new FunctionError(`parsing time ${JSON.stringify(value)} as ${JSON.stringify(layout)}${what}`);
  };
  // Omitted elements are zero, or one where zero is impossible: year 0, January 1 (Go's rule).
  let year = 0;
  let month = 1;
  let day = 1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let nanos = 0;
  let pm: boolean | undefined;
  let offset: number | undefined;
  let zoneName: string | undefined;
  let yday: number | undefined;
  const num = (min: number, max: number, fixed: boolean): number => {
    const m = (fixed ? new RegExp(`^[0-9]{${max}}`) : new RegExp(`^[0-9]{${min},${max}}`)).exec(s);
    if (!m) fail(': cannot parse');
    const text = (m as RegExpExecArray)[0];
    s = s.slice(text.length);
    return Number(text);
  };
  const word = (names: string[], len?: number): number => {
    const i = names.findIndex((n) => s.toLowerCase().startsWith((len ? n.slice(0, len) : n).toLowerCase()));
    if (i < 0) fail(': cannot parse');
    s = s.slice(len ?? (names[i] as string).length);
    return i;
  };
  const readZone = (std: string) => {
    if (std.startsWith('Z') && s.startsWith('Z')) {
      s = s.slice(1);
      offset = 0;
      zoneName = 'UTC';
      return;
    }
    const form = std.slice(1);
    const re =
      form === '07'
        ? /^([+-])(\d\d)/
        : form === '0700'
          ? /^([+-])(\d\d)(\d\d)/
          : form === '07:00'
            ? /^([+-])(\d\d):(\d\d)/
            : form === '070000'
              ? /^([+-])(\d\d)(\d\d)(\d\d)/
              : /^([+-])(\d\d):(\d\d):(\d\d)/;
    const m = re.exec(s);
    if (!m) return fail(': cannot parse');
    s = s.slice(m[0].length);
    const secs = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
    offset = m[1] === '-' ? -secs : secs;
  };
  const chunks = layoutChunks(layout);
  for (const [index, chunk] of chunks.entries()) {
    if (chunk.kind === 'lit') {
      if (!s.startsWith(chunk.text)) fail(': cannot parse');
      s = s.slice(chunk.text.length);
      continue;
    }
    if (chunk.kind === 'frac') {
      if (chunk.trim) {
        const m = /^[.,]([0-9]+)/.exec(s);
        if (m) {
          nanos = Number((m[1] as string).slice(0, 9).padEnd(9, '0'));
          s = s.slice(m[0].length);
        }
      } else {
        const m = new RegExp(`^[.,]([0-9]{${chunk.digits}})`).exec(s);
        if (!m) fail(': cannot parse');
        nanos = Number(((m as RegExpExecArray)[1] as string).padEnd(9, '0'));
        s = s.slice((m as RegExpExecArray)[0].length);
      }
      continue;
    }
    switch (chunk.std) {
      case 'January':
        month = word(MONTHS) + 1;
        break;
      case 'Jan':
        month = word(MONTHS, 3) + 1;
        break;
      case 'Monday':
        word(DAYS);
        break;
      case 'Mon':
        word(DAYS, 3);
        break;
      case 'MST': {
        const m = /^(UTC|GMT[+-]?\d*|[A-Z]{3,5}T?)/.exec(s);
        if (!m) return fail(': cannot parse');
        zoneName = m[0];
        s = s.slice(m[0].length);
        if (zoneName === 'UTC') offset ??= 0;
        break;
      }
      case '2006':
        year = num(4, 4, true);
        break;
      case '06': {
        const y = num(2, 2, true);
        year = y >= 69 ? 1900 + y : 2000 + y;
        break;
      }
      case '01':
        month = num(2, 2, true);
        break;
      case '1':
        month = num(1, 2, false);
        break;
      case '02':
        day = num(2, 2, true);
        break;
      case '_2':
        if (s.startsWith(' ')) s = s.slice(1);
        day = num(1, 2, false);
        break;
      case '2':
        day = num(1, 2, false);
        break;
      case '002':
        yday = num(3, 3, true);
        break;
      case '__2':
        s = s.replace(/^ {1,2}/, '');
        yday = num(1, 3, false);
        break;
      case '15':
        hour = num(1, 2, false);
        break;
      case '03':
        hour = num(2, 2, true);
        break;
      case '3':
        hour = num(1, 2, false);
        break;
      case '04':
        minute = num(2, 2, true);
        break;
      case '4':
        minute = num(1, 2, false);
        break;
      case '05':
        second = num(2, 2, true);
        break;
      case '5':
        second = num(1, 2, false);
        break;
      case 'PM':
      case 'pm': {
        const m = /^(AM|PM)/i.exec(s);
        if (!m) return fail(': cannot parse');
        pm = m[0].toUpperCase() === 'PM';
        s = s.slice(2);
        break;
      }
      default:
        readZone(chunk.std);
    }
    // A fractional second after seconds in the value even when the layout has none (Go accepts it).
    if ((chunk.std === '05' || chunk.std === '5') && /^[.,][0-9]/.test(s)) {
      const m = /^[.,]([0-9]+)/.exec(s) as RegExpExecArray;
      if (chunks[index + 1]?.kind !== 'frac') {
        nanos = Number((m[1] as string).slice(0, 9).padEnd(9, '0'));
        s = s.slice(m[0].length);
      }
    }
  }
  if (s !== '') fail(`: extra text: ${JSON.stringify(s)}`);
  if (pm !== undefined) {
    if (hour > 12) fail(': hour out of range');
    if (pm && hour < 12) hour += 12;
    if (!pm && hour === 12) hour = 0;
  }
  if (month < 1 || month > 12) fail(': month out of range');
  if (hour > 23 || minute > 59 || second > 59) fail(': value out of range');
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, 1);
  if (yday !== undefined) d.setUTCDate(yday);
  else {
    d.setUTCDate(day);
    if (d.getUTCMonth() !== month - 1 || day < 1) fail(': day out of range');
  }
  d.setUTCHours(hour, minute, second, 0);
  const utcSecs = BigInt(Math.floor(d.getTime() / 1000)) - BigInt(offset ?? 0);
  const ns = utcSecs * NS_PER_S + BigInt(nanos);
  const zone: Zone =
    offset === undefined
      ? { name: zoneName ?? 'UTC', offset: 0 }
      : offset === 0 && (zoneName === undefined || zoneName === 'UTC')
        ? UTC
        : { name: zoneName ?? '', offset };
  return new GoTime(ns, zone);
}
