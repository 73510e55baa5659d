import { describe, expect, it } from 'vitest';
import { apiServerAudiencesIn } from './api-audiences.ts';

describe('apiServerAudiencesIn', () => {
  const issuer = new Set(['https://oidc.example/cluster-1']);

  it('finds an empty list, an empty audience, the in-cluster names and the published issuer', () => {
    expect(apiServerAudiencesIn([], issuer)).toHaveLength(1);
    expect(apiServerAudiencesIn([''], issuer)).toEqual(['']);
    expect(apiServerAudiencesIn(['vault', 'https://kubernetes.default.svc/'], issuer)).toEqual([
      'https://kubernetes.default.svc/',
    ]);
    expect(apiServerAudiencesIn(['https://oidc.example/cluster-1'], issuer)).toEqual([
      'https://oidc.example/cluster-1',
    ]);
  });

  it('lets provider audiences through', () => {
    expect(apiServerAudiencesIn(['vault', 'sts.amazonaws.com', 'api://AzureADTokenExchange'], issuer)).toEqual([]);
    expect(apiServerAudiencesIn(['https://oidc.example/cluster-2'], issuer)).toEqual([]);
  });
});
