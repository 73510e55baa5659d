// Sprig's urlParse and urlJoin over Go's net/url rules (url.Parse, URL.String, its escaping),
// which differ from WHATWG's URL that Node ships: no host normalisation, paths and fragments
// unescaped, the query kept raw. A URL often carries a password, so errors say what is wrong,
// never the URL or a part of it (Go's own messages quote the input).
import { FunctionError, type TemplateFunction } from '../execute.ts';
import { isMap, typeName } from '../values.ts';
import { fixed, strval } from './arguments.ts';

type Mode = 'path' | 'host' | 'userPassword' | 'fragment';

function isAlnum(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39);
}

/** Go's shouldEscape. */
function shouldEscape(c: number, mode: Mode): boolean {
  if (isAlnum(c)) return false;
  const ch = String.fromCharCode(c);
  if (mode === 'host' && `!$&'()*+,;=:[]<>"`.includes(ch)) return false;
  if ('-_.~'.includes(ch)) return false;
  if ('$&+,/:;=?@'.includes(ch)) {
    if (mode === 'path') return ch === '?';
    if (mode === 'userPassword') return '@/?:'.includes(ch);
    if (mode === 'fragment') return false;
  }
  if (mode === 'fragment' && '!()*'.includes(ch)) return false;
  return true;
}

function goEscape(s: string, mode: Mode): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    out += shouldEscape(b, mode) ? `%${b.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(b);
  }
  return out;
}

const HEX = /^[0-9A-Fa-f]{2}$/;

/** Go's unescape: %XX decoded (no '+' rule outside queries); a host may not hold reserved ASCII. */
function goUnescape(s: string, mode: Mode, what: string): string {
  const bytes: number[] = [];
  const raw = Buffer.from(s, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as number;
    if (c === 0x25) {
      const hex = raw.subarray(i + 1, i + 3).toString('latin1');
      if (!HEX.test(hex)) throw new FunctionError(`urlParse: invalid URL escape in the ${what}`);
      const v = Number.parseInt(hex, 16);
      // Go: in a host, %-escapes stand only for non-ASCII bytes (and %25 in a zone).
      if (mode === 'host' && v < 0x80 && hex !== '25') {
        throw new FunctionError(`urlParse: invalid URL escape in the ${what}`);
      }
      bytes.push(v);
      i += 2;
    } else {
      if (mode === 'host' && c < 0x80 && shouldEscape(c, mode)) {
        throw new FunctionError('urlParse: invalid character in host name');
      }
      bytes.push(c);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

export interface GoUrl {
  scheme: string;
  opaque: string;
  user?: { username: string; password?: string };
  host: string;
  path: string;
  rawQuery: string;
  forceQuery: boolean;
  fragment: string;
  omitHost: boolean;
}

function userString(u: NonNullable<GoUrl['user']>): string {
  const name = goEscape(u.username, 'userPassword');
  return u.password === undefined ? name : `${name}:${goEscape(u.password, 'userPassword')}`;
}

const USERINFO = /^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/;

function parseAuthority(authority: string): Pick<GoUrl, 'user' | 'host'> {
  const at = authority.lastIndexOf('@');
  const host = parseHost(at < 0 ? authority : authority.slice(at + 1));
  if (at < 0) return { host };
  const info = authority.slice(0, at);
  if (!USERINFO.test(info)) throw new FunctionError('urlParse: net/url: invalid userinfo');
  const colon = info.indexOf(':');
  if (colon < 0) return { host, user: { username: goUnescape(info, 'userPassword', 'user name') } };
  return {
    host,
    user: {
      username: goUnescape(info.slice(0, colon), 'userPassword', 'user name'),
      password: goUnescape(info.slice(colon + 1), 'userPassword', 'password'),
    },
  };
}

function validPort(p: string): boolean {
  return p === '' || /^:[0-9]*$/.test(p);
}

function parseHost(host: string): string {
  if (host.startsWith('[')) {
    const end = host.lastIndexOf(']');
    if (end < 0) throw new FunctionError("urlParse: missing ']' in host");
    if (!validPort(host.slice(end + 1))) throw new FunctionError('urlParse: invalid port after host');
    const zone = host.slice(0, end).indexOf('%25');
    if (zone >= 0) {
      return (
        goUnescape(host.slice(0, zone), 'host', 'host') +
        goUnescape(host.slice(zone, end), 'fragment', 'zone') +
        goUnescape(host.slice(end), 'host', 'host')
      );
    }
  } else {
    const colon = host.lastIndexOf(':');
    if (colon >= 0 && !validPort(host.slice(colon))) throw new FunctionError('urlParse: invalid port after host');
  }
  return goUnescape(host, 'host', 'host');
}

/** Go's url.Parse. */
export function parseUrl(raw: string): GoUrl {
  const hash = raw.indexOf('#');
  const [rest0, frag] = hash < 0 ? [raw, ''] : [raw.slice(0, hash), raw.slice(hash + 1)];
  if ([...raw].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f))
    throw new FunctionError('urlParse: net/url: invalid control character in URL');
  const u: GoUrl = {
    scheme: '',
    opaque: '',
    host: '',
    path: '',
    rawQuery: '',
    forceQuery: false,
    fragment: goUnescape(frag, 'fragment', 'fragment'),
    omitHost: false,
  };
  if (rest0 === '*') {
    u.path = '*';
    return u;
  }
  let rest = rest0;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(rest);
  if (rest.startsWith(':')) throw new FunctionError('urlParse: missing protocol scheme');
  if (scheme) {
    u.scheme = (scheme[1] as string).toLowerCase();
    rest = rest.slice(scheme[0].length);
  }
  if (rest.endsWith('?') && rest.split('?').length === 2) {
    u.forceQuery = true;
    rest = rest.slice(0, -1);
  } else {
    const q = rest.indexOf('?');
    if (q >= 0) {
      u.rawQuery = rest.slice(q + 1);
      rest = rest.slice(0, q);
    }
  }
  if (!rest.startsWith('/')) {
    if (u.scheme !== '') {
      u.opaque = rest;
      return u;
    }
    const slash = rest.indexOf('/');
    if ((slash < 0 ? rest : rest.slice(0, slash)).includes(':')) {
      throw new FunctionError('urlParse: first path segment in URL cannot contain colon');
    }
  }
  if ((u.scheme !== '' || !rest.startsWith('///')) && rest.startsWith('//')) {
    const slash = rest.indexOf('/', 2);
    const authority = slash < 0 ? rest.slice(2) : rest.slice(2, slash);
    rest = slash < 0 ? '' : rest.slice(slash);
    Object.assign(u, parseAuthority(authority));
  } else if (u.scheme !== '' && rest.startsWith('/')) u.omitHost = true;
  u.path = goUnescape(rest, 'path', 'path');
  return u;
}

/** Go's URL.Hostname: the host without its port or IPv6 brackets. */
export function hostname(host: string): string {
  const colon = host.lastIndexOf(':');
  let h = host;
  if (host.startsWith('[')) {
    const end = host.lastIndexOf(']');
    h = end >= 0 ? host.slice(0, end + 1) : host;
  } else if (colon >= 0) h = host.slice(0, colon);
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

/** Go's URL.String. */
export function urlString(u: GoUrl): string {
  let out = u.scheme === '' ? '' : `${u.scheme}:`;
  if (u.opaque !== '') out += u.opaque;
  else {
    if (u.scheme !== '' || u.host !== '' || u.user) {
      if (!(u.omitHost && u.host === '' && !u.user)) {
        if (u.host !== '' || u.path !== '' || u.user) out += '//';
        if (u.user) out += `${userString(u.user)}@`;
        if (u.host !== '') out += goEscape(u.host, 'host');
      }
    }
    const path = u.path === '*' ? '*' : goEscape(u.path, 'path');
    if (path !== '' && !path.startsWith('/') && u.host !== '') out += '/';
    if (out === '' && (path.split('/')[0] as string).includes(':')) out += './';
    out += path;
  }
  if (u.forceQuery || u.rawQuery !== '') out += `?${u.rawQuery}`;
  if (u.fragment !== '') out += `#${goEscape(u.fragment, 'fragment')}`;
  return out;
}

/** Sprig's urlParse: a dict of the parts. */
export function urlParse(raw: string): Record<string, string> {
  const u = parseUrl(raw);
  return {
    scheme: u.scheme,
    host: u.host,
    hostname: hostname(u.host),
    path: u.path,
    query: u.rawQuery,
    opaque: u.opaque,
    fragment: u.fragment,
    userinfo: u.user ? userString(u.user) : '',
  };
}

/** Sprig's urlJoin: the dict's string parts put back together. */
export function urlJoin(d: Record<string, unknown>): string {
  const get = (key: string): string => {
    if (!Object.hasOwn(d, key)) return '';
    const v = d[key];
    if (typeof v !== 'string') throw new FunctionError(`urlJoin: unable to parse ${key} key, must be of type string`);
    return v;
  };
  const userinfo = get('userinfo');
  let user: GoUrl['user'];
  if (userinfo !== '') {
    try {
      user = parseUrl(`proto://${userinfo}@host`).user;
    } catch {
      throw new FunctionError('urlJoin: unable to parse userinfo in dict');
    }
  }
  return urlString({
    scheme: get('scheme'),
    host: get('host'),
    path: get('path'),
    rawQuery: get('query'),
    opaque: get('opaque'),
    fragment: get('fragment'),
    user,
    forceQuery: false,
    omitHost: false,
  });
}

export const urlFunctions: Record<string, TemplateFunction> = Object.fromEntries([
  fixed('urlParse', 1, (u) => urlParse(strval(u))),
  fixed('urlJoin', 1, (d) => {
    if (!isMap(d))
      throw new FunctionError(`wrong type for value; expected map[string]interface {}; got ${typeName(d)} (urlJoin)`);
    return urlJoin(d);
  }),
]);
