import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MalformedResponseError } from '../../../connectors/errors.ts';
import { KNOWN_FORMATS } from '../../../connectors/scanner-files/formats/index.ts';
import { sniffContainer } from '../../../connectors/scanner-files/sniff.ts';
import { collectUntilError } from './helpers.ts';

describe('sniffContainer', () => {
  it.each([
    ['{"runs": []}', { kind: 'json' }],
    ['\uFEFF  \n[1]', { kind: 'json' }],
    ['<?xml version="1.0"?>\n<!-- exported -->\n<NessusClientData_v2>', { kind: 'xml', root: 'NessusClientData_v2' }],
    ['<!DOCTYPE report [ <!ENTITY a "b>"> ]>\n<report id="1">', { kind: 'xml', root: 'report' }],
    ['<!DOCTYPE html>\n<html>', { kind: 'xml', root: 'html' }],
    ['', { kind: 'unknown', reason: 'the file is empty' }],
    [' \n\t', { kind: 'unknown', reason: 'only white space' }],
    ['PK\u0003\u0004', { kind: 'unknown', reason: 'neither JSON nor XML: UTF-8 text starting with an ASCII letter' }],
    ['<?xml version="1.0"?><!-- a comment that never ends', { kind: 'unknown', reason: 'no XML root element in the first 16384 bytes' }],
  ])('%j is %j', (head, container) => {
    expect(sniffContainer(Buffer.from(head))).toEqual(container);
  });
});

describe('an unknown file is described, never quoted', () => {
  it.each([
    ['a passwd file', Buffer.from('root:x:0:0:root:/root:/bin/bash\n'), 'UTF-8 text starting with an ASCII letter'],
    ['an environment', Buffer.from('SHELL=/bin/bash\0API_KEY=sk-live-0123456789abcdef\0'), 'binary data (NUL bytes)'],
    ['an API key', Buffer.from('  sk-live-0123456789abcdef0123456789\n'), 'UTF-8 text starting with an ASCII letter'],
    ['a number', Buffer.from('4242424242424242'), 'UTF-8 text starting with a digit'],
    ['a PEM key', Buffer.from('-----BEGIN PRIVATE KEY-----\nMIIEvQ'), 'UTF-8 text starting with ASCII punctuation'],
    ['UTF-16 JSON', Buffer.from('\uFEFF{"runs":[]}', 'utf16le'), 'UTF-16LE text (byte order mark); exports are read as UTF-8'],
    ['UTF-16BE', Buffer.from([0xfe, 0xff, 0x00, 0x7b]), 'UTF-16BE text (byte order mark); exports are read as UTF-8'],
    ['Latin-1 text', Buffer.from([0xe9, 0x74, 0xe9]), 'text that is not UTF-8 (binary, or a legacy encoding) starting with a byte that is not UTF-8'],
    ['a control character', Buffer.from([0x1b, 0x5b, 0x30, 0x6d]), 'UTF-8 text starting with a control character'],
    ['non-ASCII text', Buffer.from('é secret'), 'UTF-8 text starting with a non-ASCII character'],
    ['a head cut inside a character', Buffer.from('secret é').subarray(0, 8), 'UTF-8 text starting with an ASCII letter'],
  ])('%s', (_what, head, description) => {
    const container = sniffContainer(head);
    expect(container).toEqual({ kind: 'unknown', reason: `neither JSON nor XML: ${description}` });
  });

  it('an unknown file read through the connector: the error gives its size and kind, none of its bytes', async () => {
    const secret = 'sk-live-0123456789abcdef0123456789';
    const dir = await mkdtemp(join(tmpdir(), 'scanner-files-unknown-'));
    try {
      await writeFile(join(dir, 'api-key'), `${secret}\n`);
      await writeFile(join(dir, 'passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
      await writeFile(join(dir, 'page.xml'), '<html><body>token=abc123</body></html>');
      const key = await collectUntilError({ paths: [join(dir, 'api-key')] });
      expect(key.error).toBeInstanceOf(MalformedResponseError);
      expect(key.error.message).toBe(
        `scanner-files: ${join(dir, 'api-key')}: unknown format (neither JSON nor XML: UTF-8 text starting with an ASCII letter; ${secret.length + 1} bytes); expected ${KNOWN_FORMATS}`,
      );
      const passwd = await collectUntilError({ paths: [join(dir, 'passwd')] });
      expect(passwd.error.message).not.toMatch(/root|bash/);
      const page = await collectUntilError({ paths: [join(dir, 'page.xml')] });
      expect(page.error.message).toBe(
        `scanner-files: ${join(dir, 'page.xml')}: unknown format (XML whose root element no known format uses; 38 bytes); expected ${KNOWN_FORMATS}`,
      );
      for (const text of [key.error.message, passwd.error.message, page.error.message, ...key.warnings, ...key.logLines]) {
        expect(text).not.toContain('sk-live');
        expect(text).not.toContain('html');
        expect(text).not.toContain('token');
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
