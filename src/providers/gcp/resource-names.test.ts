import { describe, expect, it } from 'vitest';
import { apiEndpoint, secretParent, versionName, versionOf } from './resource-names.ts';

describe('Secret Manager resource names', () => {
  it('names global secrets under the project and regional ones under their location', () => {
    expect(versionName({ projectID: 'p1' }, 'db', undefined)).toBe('projects/p1/secrets/db/versions/latest');
    expect(versionName({ projectID: 'p1', location: 'europe-west1' }, 'db', '3')).toBe(
      'projects/p1/locations/europe-west1/secrets/db/versions/3',
    );
    expect(secretParent({ projectID: 'p1', location: 'us-east4' })).toBe('projects/p1/locations/us-east4');
  });

  it('refuses keys and versions that are not Secret Manager identifiers, naming them', () => {
    expect(() => versionName({ projectID: 'p1' }, 'app/db', undefined)).toThrow(/remote key "app\/db" is not a/);
    expect(() => versionName({ projectID: 'p1' }, 'db', '../1')).toThrow(/version "..\/1" is not latest/);
  });

  it('reads the version number back from a version name', () => {
    expect(versionOf('projects/p1/secrets/db/versions/7')).toBe('7');
    expect(versionOf(undefined)).toBeUndefined();
  });

  it('uses the regional endpoint for a location, the global one otherwise, and an explicit endpoint first', () => {
    expect(apiEndpoint({ projectID: 'p' }, undefined)).toEqual({
      host: 'secretmanager.googleapis.com',
      port: 443,
      protocol: 'https',
    });
    expect(apiEndpoint({ projectID: 'p', location: 'europe-west1' }, undefined).host).toBe(
      'secretmanager.europe-west1.rep.googleapis.com',
    );
    expect(apiEndpoint({ projectID: 'p', location: 'europe-west1' }, 'http://127.0.0.1:8085')).toEqual({
      host: '127.0.0.1',
      port: 8085,
      protocol: 'http',
    });
    expect(apiEndpoint({ projectID: 'p' }, 'https://secretmanager-psc.p.googleapis.com').port).toBe(443);
  });
});
