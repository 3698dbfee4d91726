import { describe, expect, it } from 'vitest';
import { googleWorkspace } from '../../../connectors/google-workspace/index.ts';

const key = { file: '/run/secrets/google-sa.json' };

describe('google-workspace config', () => {
  it('fills the documented defaults', () => {
    expect(googleWorkspace.config.parse({ serviceAccountKey: key, subject: 'admin@example.com' })).toEqual({
      serviceAccountKey: key,
      subject: 'admin@example.com',
      maxResults: 500,
      maxRetries: 5,
      retryBaseMs: 1000,
    });
  });

  it.each([
    { name: 'both customer and domain', config: { customer: 'C03az79cb', domain: 'example.com', accessToken: key }, path: 'domain' },
    { name: 'no credentials', config: { customer: 'my_customer' }, path: 'serviceAccountKey' },
    { name: 'both kinds of credentials', config: { serviceAccountKey: key, subject: 'admin@example.com', accessToken: key }, path: 'accessToken' },
    { name: 'a key without a subject', config: { serviceAccountKey: key }, path: 'subject' },
    { name: 'a subject without a key', config: { accessToken: key, subject: 'admin@example.com' }, path: 'subject' },
    { name: 'a token URL without a key', config: { accessToken: key, tokenUrl: 'http://127.0.0.1:1/token' }, path: 'tokenUrl' },
    { name: 'a page larger than Google allows', config: { accessToken: key, maxResults: 501 }, path: 'maxResults' },
    { name: 'a secret written inline', config: { accessToken: 'ya29.inline' }, path: 'accessToken' },
    { name: 'an unknown option', config: { accessToken: key, credentials: key }, path: '' },
    { name: 'a subject that is not an email', config: { serviceAccountKey: key, subject: 'admin' }, path: 'subject' },
  ])('refuses $name', ({ config, path }) => {
    const result = googleWorkspace.config.safeParse(config);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toContain(path);
  });
});
