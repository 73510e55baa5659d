/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates */
// urlParse and urlJoin; expectations from Sprig's url_test.go and Go's net/url.
import { describe, expect, it } from 'vitest';
import { CANARY, render } from '../../../test/support/template-render.ts';

describe('urlParse and urlJoin', () => {
  it.each([
    // Sprig's url_test.go: each URL parses into these parts and joins back to itself
    ['proto://auth@host:80/path?query#fragment', 'fragment|host:80|host||/path|query|proto|auth'],
    ['proto://host:80/path', '|host:80|host||/path||proto|'],
    ['something', '||||something|||'],
    ['proto://user:passwor%20d@host:80/path', '|host:80|host||/path||proto|user:passwor%20d'],
    ['proto://host:80/pa%20th?key=val%20ue', '|host:80|host||/pa th|key=val%20ue|proto|'],
    // Go's url.Parse: opaque, IPv6 hosts, escaped fragments
    ['mailto:ops@example.com', '||||||mailto|', 'ops@example.com'],
    ['https://[::1]:8443/x#a%20b', 'a b|[::1]:8443|::1||/x||https|'],
  ])('urlParse %s, and urlJoin back', (url, parts, opaque = '') => {
    const keys = ['fragment', 'host', 'hostname', 'opaque', 'path', 'query', 'scheme', 'userinfo'];
    const got = render(`{{ $u := urlParse "${url}" }}${keys.map((k) => `{{ $u.${k} }}`).join('|')}`);
    expect(got).toBe(
      parts
        .split('|')
        .map((p, i) => (i === 3 ? opaque : p))
        .join('|'),
    );
    expect(render(`{{ urlParse "${url}" | urlJoin }}`)).toBe(url);
  });

  it("urlJoin writes Go's escaping; urlParse errors never carry the URL", () => {
    expect(
      render(
        '{{ urlJoin (dict "fragment" "fragment" "host" "host:80" "path" "/path" "query" "query" "scheme" "proto") }}',
      ),
    ).toBe('proto://host:80/path?query#fragment');
    expect(render('{{ urlJoin (dict "host" "h" "path" "/a b?c" "userinfo" "u:p@ss") }}')).toBe(
      '//u:p%40ss@h/a%20b%3Fc',
    );
    for (const [src, want] of [
      ['{{ urlParse (printf "postgres://u:%s@db:port/x" .secret) }}', /urlParse: invalid port after host/],
      ['{{ urlParse (printf "postgres://u:%s%%zz@db/x" .secret) }}', /urlParse: invalid URL escape in the password/],
      ['{{ urlParse (printf "%s:x" (printf "a b%s" .secret)) }}', /first path segment in URL cannot contain colon/],
      ['{{ urlJoin (dict "host" 1) }}', /urlJoin: unable to parse host key, must be of type string/],
    ] as const) {
      let message = '';
      try {
        render(src);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(want);
      expect(message).not.toContain(CANARY);
    }
  });
});
