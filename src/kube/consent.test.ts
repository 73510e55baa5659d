import { describe, expect, it } from 'vitest';
import { consents, MERGE_CONSENT_ANNOTATION } from './consent.ts';

describe('consents', () => {
  const on = (value: string) => ({ [MERGE_CONSENT_ANNOTATION]: value });

  it('accepts the ExternalSecret named in the list, with spaces around the commas', () => {
    expect(consents(on('app'), MERGE_CONSENT_ANNOTATION, 'app')).toBe(true);
    expect(consents(on('one, app ,two'), MERGE_CONSENT_ANNOTATION, 'app')).toBe(true);
    expect(consents(on('*'), MERGE_CONSENT_ANNOTATION, 'anything')).toBe(true);
  });

  it('refuses without the annotation, with another name, or an empty or prefix match', () => {
    expect(consents(undefined, MERGE_CONSENT_ANNOTATION, 'app')).toBe(false);
    expect(consents({}, MERGE_CONSENT_ANNOTATION, 'app')).toBe(false);
    expect(consents(on('other'), MERGE_CONSENT_ANNOTATION, 'app')).toBe(false);
    expect(consents(on('app-2,ap'), MERGE_CONSENT_ANNOTATION, 'app')).toBe(false);
    expect(consents(on(''), MERGE_CONSENT_ANNOTATION, '')).toBe(false);
    expect(consents({ 'ferry.dev/rollout-from': 'app' }, MERGE_CONSENT_ANNOTATION, 'app')).toBe(false);
  });
});
