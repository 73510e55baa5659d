/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates */
// regexQuoteMeta and the must* regex forms.
import { describe, expect, it } from 'vitest';
import { renderTemplate, templateData } from '../engine.ts';

const CANARY = 'canary-51d0-sprig';
const render = (src: string) =>
  renderTemplate('k', src, templateData(new Map([['secret', Buffer.from(CANARY)]]))).toString('utf8');

describe('regexQuoteMeta, mustRegex*', () => {
  it.each([
    ['{{ regexQuoteMeta "1.2.3" }} {{ regexQuoteMeta "pretzel" }}', '1\\.2\\.3 pretzel'],
    ['{{ mustRegexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }} {{ mustRegexMatch "^[a-z]+$" "abc" }}', '-W-xxW- true'],
  ])('%s', (src, want) => {
    expect(render(src)).toBe(want);
  });
});
