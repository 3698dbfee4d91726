import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { fixture } from './helpers.ts';

const SHARED = '/work/shared/fixtures/scanners';

/** sha256 of each copied file as taken from the shared fixtures (the upstream bytes; see SOURCES.md). */
const COPIED: Record<string, string> = {
  'SOURCES.md': 'd2e21af789e6021253b480d960ca827e51af2b736960828ef03798d67f7d8010',
  'grype-busybox-1.32.1-epss.json': 'b03b4787f2b9104166825205faf3cc3a0d932d7c4e1a449682c6d58accd76d95',
  'grype-cxf-3.4.6.sarif': '64a00e64f8ad207783c57b12228afccccf1dbeeb60ddf5f043f9f37971f9fa61',
  'grype-fix-available.json': '77e4ae2903dd9024de567e6b3da1cc2a083d81d2aaf2dfd0008573a49c95c6a3',
  'nessus-ruby-nessus-example-v2.nessus': '02d8311857352fbf60400b2d297d5914d16f7cbec0e4b1c5d76779e9c0fd04dc',
  'openvas-gmp22-report-detail-v2.xml': '3a0876e30d45f4f462c165112fc3250eb56a7fc6aaa1b81d4083f8dca118cc15',
  'openvas-many-vuln.xml': '135edfa30a4eb39bbe548d7e5f8373d2b27b5b6841b6d2506ec39fa94aee3c6b',
  'openvas-one-vuln.xml': 'f78cbc429c0f156bd8cd1678288835de76a71ce3bf37184da88cc80fc8522bb5',
  'semgrep-juice-shop.sarif': '28e6d4aa44850cad10b6208f90a002a20ed120246cd135ec45b2e6a4429f08dd',
  'trivy-alpine-310.json': '3320485c817ca9a88e424a18a4490643ace8ba8d042284997f6d36cceca4ddaa',
  'trivy-alpine-310.sarif': '030e1258377520d96e99786127290a386f2688e45533f7ae861e9b187b38c9eb',
};

describe('scanner fixtures', () => {
  it('the project copies are the upstream bytes, and byte-identical to /work/shared/fixtures/scanners when it exists', async () => {
    for (const [name, sha256] of Object.entries(COPIED)) {
      const bytes = await readFile(fixture(name));
      expect(createHash('sha256').update(bytes).digest('hex'), name).toBe(sha256);
    }
    if (existsSync(SHARED)) {
      const shared = (await readdir(SHARED)).sort();
      expect(shared).toEqual(Object.keys(COPIED).sort());
      for (const name of shared) {
        const [original, copy] = await Promise.all([readFile(`${SHARED}/${name}`), readFile(fixture(name))]);
        expect(copy.equals(original), name).toBe(true);
      }
    }
  });

  it('keeps the attribution of every copied file', async () => {
    const sources = await readFile(fixture('SOURCES.md'), 'utf8');
    for (const name of Object.keys(COPIED).filter((file) => file !== 'SOURCES.md')) {
      expect(sources, name).toMatch(
        new RegExp(`^\\| ${name.replace(/\./g, '\\.')} \\| [\\w-]+/[\\w-]+ \\| .+ \\| [0-9a-f]{40} \\| (Apache-2\\.0|BSD-3-Clause|MIT) \\|`, 'm'),
      );
    }
  });
});
