/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates */
// regexQuoteMeta and the must* regex forms.
import { describe, expect, it } from 'vitest';
import { render } from '../../../test/support/template-render.ts';

describe('regexQuoteMeta, mustRegex*', () => {
  it.each([
    ['{{ regexQuoteMeta "1.2.3" }} {{ regexQuoteMeta "pretzel" }}', '1\\.2\\.3 pretzel'],
    ['{{ mustRegexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }} {{ mustRegexMatch "^[a-z]+$" "abc" }}', '-W-xxW- true'],
  ])('%s', (src, want) => {
    expect(render(src)).toBe(want);
  });
});
