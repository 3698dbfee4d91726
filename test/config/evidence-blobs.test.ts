import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.ts';
import { parseConfig } from '../../config/load.ts';
import { testRegistries } from '../support/test-connectors.ts';

const parse = (text: string) => parseConfig(text, 'isms.yaml', testRegistries);
function errorsOf(text: string): string[] {
  try {
    parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).issues];
  }
  throw new Error('expected the config to be refused');
}

describe('evidence.blobs', () => {
  it('is the filesystem unless the config names S3', () => {
    expect(parse('timezone: UTC\n').config.evidence.blobs).toEqual({ kind: 'filesystem' });
  });

  it('takes an S3 bucket with Object Lock and SSE-KMS, with defaults for the rest', () => {
    const blobs = parse(`
evidence:
  blobs:
    kind: s3
    bucket: acme-isms-evidence
    objectLock: { mode: COMPLIANCE, retainDays: 1095 }
    serverSideEncryption: { kind: SSE-KMS, kmsKeyId: alias/isms }
`).config.evidence.blobs;
    expect(blobs).toEqual({
      kind: 's3',
      bucket: 'acme-isms-evidence',
      prefix: '',
      forcePathStyle: false,
      partSizeMiB: 64,
      objectLock: { mode: 'COMPLIANCE', retainDays: 1095 },
      serverSideEncryption: { kind: 'SSE-KMS', kmsKeyId: 'alias/isms' },
    });
  });

  it("refuses a prefix without its slash, an unknown lock mode and a part below S3's minimum, naming each key", () => {
    const errors = errorsOf(`
evidence:
  blobs:
    kind: s3
    bucket: acme-isms-evidence
    prefix: isms
    objectLock: { mode: FOREVER, retainDays: 30 }
    partSizeMiB: 1
`).join('\n');
    expect(errors).toContain('evidence.blobs.prefix');
    expect(errors).toContain('evidence.blobs.objectLock.mode');
    expect(errors).toContain('evidence.blobs.partSizeMiB');
  });
});
