// Sprig's `semver` and `semverCompare`: github.com/Masterminds/semver/v3 v3.3.0 (the version Sprig
// v3.3.0's go.mod pins) NewVersion, NewConstraint and Constraints.Check, re-written from its
// version.go and constraints.go.
//
// Written here rather than on npm `semver` because the grammars differ where no translation layer
// can bridge them: Masterminds lets any prerelease version satisfy a constraint that names a
// prerelease (npm only one with the same major.minor.patch), `!=1.x` excludes a whole range, `<=1.2`
// and `>1.2` compare only the given segments, `~0` / `~0.0.0` match everything from there up, `^0`
// pins the major version only, and versions like "1.2", "v1" or "1.2.3.4"-less forms parse loosely
// with the original text kept for `.Original`. Porting the rules (about 200 lines) is smaller and
// exactly faithful; the test tables of Masterminds/semver run against it in semver.test.ts.
//
// Errors never carry the version or constraint text (Masterminds' do): they name what was wrong.
import { FunctionError, type TemplateFunction } from '../execute.ts';
import { GoNumber, GoValue } from '../values.ts';
import { fixed, strval } from './arguments.ts';

const MAX_UINT64 = 2n ** 64n - 1n;

// Go's \s in RE2 is [\t\n\f\r ].
const S = '[\\t\\n\\f\\r ]';
const SEMVER_RE = new RegExp(
  '^v?([0-9]+)(\\.[0-9]+)?(\\.[0-9]+)?' +
    '(-([0-9A-Za-z\\-]+(\\.[0-9A-Za-z\\-]+)*))?' +
    '(\\+([0-9A-Za-z\\-]+(\\.[0-9A-Za-z\\-]+)*))?$',
);

function parseUint(s: string, fn: string): bigint {
  const n = BigInt(s);
  if (n > MAX_UINT64) throw new FunctionError(`${fn}: Error parsing version segment: value out of range`);
  return n;
}

function isNumeric(s: string): boolean {
  return /^[0-9]*$/.test(s);
}

function validatePrerelease(p: string, fn: string): void {
  for (const part of p.split('.')) {
    if (isNumeric(part)) {
      if (part.length > 1 && part[0] === '0') throw new FunctionError(`${fn}: Version segment starts with 0`);
    } else if (!/^[0-9A-Za-z-]*$/.test(part)) throw new FunctionError(`${fn}: Invalid Prerelease string`);
  }
}

/** Masterminds' *semver.Version. Go's fields are unexported: templates reach its methods. */
export class SemverVersion extends GoValue {
  readonly major: bigint;
  readonly minor: bigint;
  readonly patch: bigint;
  readonly pre: string;
  readonly metadata: string;
  readonly original: string;
  /** A *Version (from `semver`) rather than a Version value (from `.IncMajor`): only it has Original. */
  readonly pointer: boolean;

  constructor(
    parts: { major: bigint; minor: bigint; patch: bigint; pre: string; metadata: string; original: string },
    pointer: boolean,
  ) {
    super();
    this.major = parts.major;
    this.minor = parts.minor;
    this.patch = parts.patch;
    this.pre = parts.pre;
    this.metadata = parts.metadata;
    this.original = parts.original;
    this.pointer = pointer;
  }

  get goType(): string {
    return this.pointer ? '*semver.Version' : 'semver.Version';
  }

  /** Version.String: both forms print through it (fmt uses the Stringer). */
  goString(): string {
    let s = `${this.major}.${this.minor}.${this.patch}`;
    if (this.pre !== '') s += `-${this.pre}`;
    if (this.metadata !== '') s += `+${this.metadata}`;
    return s;
  }

  /** json.Marshal calls MarshalJSON: the version as a string. */
  toJSON(): string {
    return this.goString();
  }

  /** text/template reaches methods without arguments as fields: `.Major`, `.IncMinor.String`. */
  override field(name: string): unknown {
    switch (name) {
      case 'Major':
        return new GoNumber(Number(this.major), 'uint64');
      case 'Minor':
        return new GoNumber(Number(this.minor), 'uint64');
      case 'Patch':
        return new GoNumber(Number(this.patch), 'uint64');
      case 'Prerelease':
        return this.pre;
      case 'Metadata':
        return this.metadata;
      case 'String':
        return this.goString();
      case 'Original':
        // A pointer method: Go cannot call it on the unaddressable value a method returned.
        return this.pointer ? this.original : undefined;
      case 'IncPatch':
        return this.bump(this.pre !== '' ? this.patch : this.patch + 1n, this.minor, this.major);
      case 'IncMinor':
        return this.bump(0n, this.minor + 1n, this.major);
      case 'IncMajor':
        return this.bump(0n, 0n, this.major + 1n);
      default:
        return undefined;
    }
  }

  private bump(patch: bigint, minor: bigint, major: bigint): SemverVersion {
    // uint64 arithmetic, as in Go.
    const parts = {
      major: BigInt.asUintN(64, major),
      minor: BigInt.asUintN(64, minor),
      patch: BigInt.asUintN(64, patch),
      pre: '',
      metadata: '',
    };
    const prefix = this.original.startsWith('v') ? 'v' : '';
    return new SemverVersion({ ...parts, original: `${prefix}${parts.major}.${parts.minor}.${parts.patch}` }, false);
  }
}

/** semver.NewVersion: the loose parser (missing minor/patch are 0, a leading "v" allowed). */
export function newVersion(text: string, fn: string): SemverVersion {
  const m = SEMVER_RE.exec(text);
  if (!m) throw new FunctionError(`${fn}: Invalid Semantic Version`);
  const pre = m[5] ?? '';
  const metadata = m[8] ?? '';
  const v = new SemverVersion(
    {
      major: parseUint(m[1] as string, fn),
      minor: m[2] ? parseUint(m[2].slice(1), fn) : 0n,
      patch: m[3] ? parseUint(m[3].slice(1), fn) : 0n,
      pre,
      metadata,
      original: text,
    },
    true,
  );
  if (pre !== '') validatePrerelease(pre, fn);
  return v;
}

function compareSegment(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function parseUintOrNull(s: string): bigint | null {
  if (!/^[0-9]+$/.test(s)) return null;
  const n = BigInt(s);
  return n > MAX_UINT64 ? null : n;
}

function comparePrePart(s: string, o: string): number {
  if (s === o) return 0;
  if (s === '') return -1;
  if (o === '') return 1;
  const oi = parseUintOrNull(o);
  const si = parseUintOrNull(s);
  // Identifiers that are not numbers compare as byte strings; numbers sort before them.
  if (oi === null && si === null) return s > o ? 1 : -1;
  if (oi === null) return -1;
  if (si === null) return 1;
  return (si as bigint) > (oi as bigint) ? 1 : -1;
}

function comparePrerelease(v: string, o: string): number {
  const sp = v.split('.');
  const op = o.split('.');
  for (let i = 0; i < Math.max(sp.length, op.length); i++) {
    const d = comparePrePart(sp[i] ?? '', op[i] ?? '');
    if (d !== 0) return d;
  }
  return 0;
}

/** Version.Compare. */
export function compareVersions(v: SemverVersion, o: SemverVersion): number {
  const d = compareSegment(v.major, o.major) || compareSegment(v.minor, o.minor) || compareSegment(v.patch, o.patch);
  if (d !== 0) return d;
  if (v.pre === '' && o.pre === '') return 0;
  if (v.pre === '') return 1;
  if (o.pre === '') return -1;
  return comparePrerelease(v.pre, o.pre);
}

// ---- constraints ----

const OPS = '=||!=|>|<|>=|=>|<=|=<|~|~>|\\^';
const CV =
  'v?([0-9|x|X|\\*]+)(\\.[0-9|x|X|\\*]+)?(\\.[0-9|x|X|\\*]+)?' +
  '(-([0-9A-Za-z\\-]+(\\.[0-9A-Za-z\\-]+)*))?' +
  '(\\+([0-9A-Za-z\\-]+(\\.[0-9A-Za-z\\-]+)*))?';
const CONSTRAINT_RE = new RegExp(`^${S}*(${OPS})${S}*(${CV})${S}*$`);
const RANGE_RE = new RegExp(`${S}*(${CV})${S}+-${S}+(${CV})${S}*`, 'g');
const FIND_RE = new RegExp(`(${OPS})${S}*(${CV})`, 'g');
// Masterminds' validConstraintRegex, `^(\s*(OPS)\s*(CV)\s*)((?:\s+|,\s*)(OPS)\s*(CV)\s*)*$`, over text
// whose white space is collapsed to single spaces, written without adjacent optional spaces: the
// same strings match, and a backtracking engine has one way to match each, so a failing match
// costs linear rather than exponential time ("1, 1, 1, … !").
// The empty operator is written as an absent one, so a space after a comma has one place to go, and
// ".2" in "1.2" can only be the minor segment (in CV it could be either optional group).
const SEG = '[0-9|x|X|\\*]+';
const ID = '[0-9A-Za-z\\-]+(?:\\.[0-9A-Za-z\\-]+)*';
const ELEMENT = `(?:(?:!=|>|<|>=|=>|<=|=<|~|~>|\\^|=) ?)?v?${SEG}(?:\\.${SEG}(?:\\.${SEG})?)?(?:-${ID})?(?:\\+${ID})?`;
const VALID_RE = new RegExp(`^ ?${ELEMENT}(?:(?: ?, ?| )${ELEMENT})* ?$`);

/** Longer constraints are refused: matching them costs quadratic time here (Go's regexps are linear). */
const MAX_CONSTRAINT = 1024;

interface Constraint {
  con: SemverVersion;
  op: string;
  dirty: boolean;
  minorDirty: boolean;
  patchDirty: boolean;
}

function isX(s: string): boolean {
  return s === 'x' || s === 'X' || s === '*';
}

function parseConstraint(c: string, fn: string): Constraint {
  const m = CONSTRAINT_RE.exec(c);
  if (!m) throw new FunctionError(`${fn}: improper constraint`);
  const [major, minor, patch, pre] = [m[3] ?? '', m[4] ?? '', m[5] ?? '', m[6] ?? ''];
  let ver = m[2] as string;
  let dirty = false;
  let minorDirty = false;
  let patchDirty = false;
  if (isX(major) || major === '') {
    ver = `0.0.0${pre}`;
    dirty = true;
  } else if (isX(minor.slice(1)) || minor === '') {
    minorDirty = true;
    dirty = true;
    ver = `${major}.0.0${pre}`;
  } else if (isX(patch.slice(1)) || patch === '') {
    dirty = true;
    patchDirty = true;
    ver = `${major}${minor}.0${pre}`;
  }
  let con: SemverVersion;
  try {
    con = newVersion(ver, fn);
  } catch {
    throw new FunctionError(`${fn}: constraint Parser Error`);
  }
  return { con, op: m[1] as string, dirty, minorDirty, patchDirty };
}

/** Releases only satisfy a constraint without a prerelease; Masterminds' first check in each op. */
function preBlocked(v: SemverVersion, c: Constraint): boolean {
  return v.pre !== '' && c.con.pre === '';
}

function notEqual(v: SemverVersion, c: Constraint): boolean {
  if (c.dirty) {
    if (preBlocked(v, c)) return false;
    if (c.con.major !== v.major) return true;
    if (c.con.minor !== v.minor && !c.minorDirty) return true;
    if (c.minorDirty) return false;
    if (c.con.patch !== v.patch && !c.patchDirty) return true;
    if (c.patchDirty) {
      if (v.pre !== '' || c.con.pre !== '') return comparePrerelease(v.pre, c.con.pre) !== 0;
      return false;
    }
  }
  return compareVersions(v, c.con) !== 0;
}

function greaterThan(v: SemverVersion, c: Constraint): boolean {
  if (preBlocked(v, c)) return false;
  if (!c.dirty) return compareVersions(v, c.con) === 1;
  if (v.major > c.con.major) return true;
  if (v.major < c.con.major) return false;
  if (c.minorDirty) return false;
  if (c.patchDirty) return v.minor > c.con.minor;
  return compareVersions(v, c.con) === 1;
}

function lessThanEqual(v: SemverVersion, c: Constraint): boolean {
  if (preBlocked(v, c)) return false;
  if (!c.dirty) return compareVersions(v, c.con) <= 0;
  if (v.major > c.con.major) return false;
  if (v.major === c.con.major && v.minor > c.con.minor && !c.minorDirty) return false;
  return true;
}

function tilde(v: SemverVersion, c: Constraint): boolean {
  if (preBlocked(v, c)) return false;
  if (compareVersions(v, c.con) < 0) return false;
  // ~0.0.0 is a special case: everything from it up.
  if (c.con.major === 0n && c.con.minor === 0n && c.con.patch === 0n && !c.minorDirty && !c.patchDirty) return true;
  if (v.major !== c.con.major) return false;
  if (v.minor !== c.con.minor && !c.minorDirty) return false;
  return true;
}

function tildeOrEqual(v: SemverVersion, c: Constraint): boolean {
  if (preBlocked(v, c)) return false;
  if (c.dirty) return tilde(v, c);
  return compareVersions(v, c.con) === 0;
}

function caret(v: SemverVersion, c: Constraint): boolean {
  if (preBlocked(v, c)) return false;
  if (compareVersions(v, c.con) < 0) return false;
  if (c.con.major > 0n || c.minorDirty) return v.major === c.con.major;
  if (c.con.major === 0n && v.major > 0n) return false;
  if (c.con.minor > 0n || c.patchDirty) return v.minor === c.con.minor;
  if (c.con.minor === 0n && v.minor > 0n) return false;
  return c.con.patch === v.patch;
}

const CHECKS: Record<string, (v: SemverVersion, c: Constraint) => boolean> = {
  '': tildeOrEqual,
  '=': tildeOrEqual,
  '!=': notEqual,
  '>': greaterThan,
  '<': (v, c) => !preBlocked(v, c) && compareVersions(v, c.con) < 0,
  '>=': (v, c) => !preBlocked(v, c) && compareVersions(v, c.con) >= 0,
  '=>': (v, c) => !preBlocked(v, c) && compareVersions(v, c.con) >= 0,
  '<=': lessThanEqual,
  '=<': lessThanEqual,
  '~': tilde,
  '~>': tilde,
  '^': caret,
};

/** Hyphen ranges ("1.2 - 1.4.5") become ">= 1.2, <= 1.4.5". */
function rewriteRange(text: string): string {
  let out = text;
  for (const m of text.matchAll(RANGE_RE)) {
    const replacement = `>= ${m[1]}, <= ${m[11]} `;
    out = out.replace(m[0], () => replacement);
  }
  return out;
}

/** semver.NewConstraint: `||` separates alternatives, `,` or spaces join constraints that all must hold. */
export function newConstraint(text: string, fn: string): Constraint[][] {
  // Runs of white space collapse to one space first: every rule reads them as \s* or \s+ alike.
  if (text.length > MAX_CONSTRAINT) {
    throw new FunctionError(`${fn}: constraint longer than ${MAX_CONSTRAINT} characters`);
  }
  const c = rewriteRange(text.replace(/[\t\n\f\r ]+/g, ' '));
  return c.split('||').map((alt) => {
    if (!VALID_RE.test(alt)) throw new FunctionError(`${fn}: improper constraint`);
    const found = alt.match(FIND_RE) ?? [alt];
    return found.map((s) => parseConstraint(s, fn));
  });
}

/** Constraints.Check. */
export function checkConstraint(cs: Constraint[][], v: SemverVersion): boolean {
  return cs.some((and) => and.every((c) => (CHECKS[c.op] as (v: SemverVersion, c: Constraint) => boolean)(v, c)));
}

export const semverFunctions: Record<string, TemplateFunction> = Object.fromEntries([
  fixed('semver', 1, (v) => newVersion(strval(v), 'semver')),
  fixed('semverCompare', 2, (c, v) =>
    checkConstraint(newConstraint(strval(c), 'semverCompare'), newVersion(strval(v), 'semverCompare')),
  ),
]);
