// Go's layout strings ("2006-01-02T15:04:05Z07:00"): how a layout splits into literal text and
// the standard chunks Format writes and Parse reads (Go's nextStdChunk), and the names both use.

export const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
export const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

export type Chunk =
  | { kind: 'lit'; text: string }
  | { kind: 'std'; std: string }
  | { kind: 'frac'; digits: number; trim: boolean; sep: string };

const PREFIXES = [
  'January',
  'Jan',
  'Monday',
  'Mon',
  'MST',
  '2006',
  '002',
  '01',
  '02',
  '03',
  '04',
  '05',
  '06',
  '15',
  '__2',
  '_2',
  '1',
  '2',
  '3',
  '4',
  '5',
  'PM',
  'pm',
  '-07:00:00',
  '-070000',
  '-07:00',
  '-0700',
  '-07',
  'Z07:00:00',
  'Z070000',
  'Z07:00',
  'Z0700',
  'Z07',
];

/** Splits a layout the way Go's nextStdChunk does. */
export function layoutChunks(layout: string): Chunk[] {
  const out: Chunk[] = [];
  let lit = '';
  let i = 0;
  const push = (c: Chunk) => {
    if (lit) out.push({ kind: 'lit', text: lit });
    lit = '';
    out.push(c);
  };
  while (i < layout.length) {
    const rest = layout.slice(i);
    const c = rest[0] as string;
    if ((c === '.' || c === ',') && (rest[1] === '0' || rest[1] === '9')) {
      const digit = rest[1];
      let j = 1;
      while (rest[j] === digit) j++;
      if (!/[0-9]/.test(rest[j] ?? '')) {
        push({ kind: 'frac', digits: j - 1, trim: digit === '9', sep: c });
        i += j;
        continue;
      }
    }
    let matched: string | undefined;
    for (const p of PREFIXES) {
      if (!rest.startsWith(p)) continue;
      // "Mon" not followed by a lower-case letter, as Go's startsWithLowerCase check.
      if (
        (p === 'Jan' || p === 'Mon') &&
        /^[a-z]/.test(rest.slice(3)) &&
        !rest.startsWith(p === 'Jan' ? 'January' : 'Monday')
      )
        continue;
      if (p === '_2' && rest.startsWith('_2006')) continue;
      matched = p;
      break;
    }
    if (matched) {
      push({ kind: 'std', std: matched });
      i += matched.length;
    } else {
      lit += c;
      i++;
    }
  }
  if (lit) out.push({ kind: 'lit', text: lit });
  return out;
}
