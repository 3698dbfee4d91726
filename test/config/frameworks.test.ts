import { describe, expect, it } from 'vitest';
import { defaultChecks } from '../../checks/index.ts';
import { DEFAULT_ACTIVITIES } from '../../config/calendar.ts';
import { ConfigError } from '../../core/errors.ts';
import { annexAControls, catalogOf, FRAMEWORKS } from '../../config/frameworks/catalog.ts';
import { crosswalkOf, crosswalkSources, mappedAnnexAControls, referencesIn } from '../../config/frameworks/crosswalk.ts';
import { parseReference } from '../../config/frameworks/reference.ts';
import { parseConfig } from '../../config/load.ts';
import { testRegistries } from '../support/test-connectors.ts';

const range = (prefix: string, last: number) => Array.from({ length: last }, (_, index) => `${prefix}.${index + 1}`);

describe('the control catalogs', () => {
  it('hold the 93 Annex A controls of ISO/IEC 27001:2022 by id, in order, each with a title of our own', () => {
    const controls = annexAControls();
    expect(controls.map((control) => control.id)).toEqual([...range('A.5', 37), ...range('A.6', 8), ...range('A.7', 14), ...range('A.8', 34)]);
    expect(new Set(controls.map((control) => control.group))).toEqual(
      new Set(['Organisational controls', 'People controls', 'Physical controls', 'Technological controls']),
    );
    expect(controls.every((control) => control.title.length > 3)).toBe(true);
    expect(catalogOf('iso27001:2022').byId.get('A.8.8')!.title).toBe('Finding and fixing technical vulnerabilities');
  });

  it('hold the requirements of clauses 4 to 10 by number', () => {
    const clauses = catalogOf('iso27001:2022')
      .entries.filter((entry) => !entry.id.startsWith('A.'))
      .map((entry) => entry.id);
    expect(clauses).toHaveLength(41);
    expect(clauses).toEqual(expect.arrayContaining(['4', '4.4', '5.2', '6.1.2', '6.1.3', '6.3', '7.5.3', '8.3', '9', '9.2.2', '9.3.3', '10.1', '10.2']));
    expect(clauses).not.toContain('9.4');
  });

  it('hold the 106 subcategories of NIST CSF 2.0 and the SOC 2 common criteria with availability', () => {
    const csf = catalogOf('nist-csf-2.0').entries;
    expect(csf).toHaveLength(106);
    const perFunction = Object.fromEntries(['GV', 'ID', 'PR', 'DE', 'RS', 'RC'].map((fn) => [fn, csf.filter((entry) => entry.id.startsWith(`${fn}.`)).length]));
    expect(perFunction).toEqual({ GV: 31, ID: 21, PR: 22, DE: 11, RS: 13, RC: 8 });
    // Withdrawn or moved in 2.0: these numbers are not subcategories any more.
    for (const withdrawn of ['ID.AM-06', 'DE.CM-04', 'DE.CM-05', 'DE.CM-07', 'DE.CM-08', 'PR.DS-03', 'RS.CO-01'])
      expect(csf.map((entry) => entry.id)).not.toContain(withdrawn);
    const soc2 = catalogOf('soc2').entries.map((entry) => entry.id);
    expect(soc2.filter((id) => id.startsWith('CC'))).toHaveLength(33);
    expect(soc2).toEqual(expect.arrayContaining(['CC1.1', 'CC6.8', 'CC7.5', 'CC8.1', 'CC9.2', 'A1.2', 'A1.3']));
    expect(FRAMEWORKS).toEqual(['iso27001:2022', 'soc2', 'nist-csf-2.0']);
  });
});

describe('references', () => {
  it.each([
    ['A.8.8', { framework: 'iso27001:2022', id: 'A.8.8' }],
    ['6.1.3', { framework: 'iso27001:2022', id: '6.1.3' }],
    ['iso27001:2022/A.5.18', { framework: 'iso27001:2022', id: 'A.5.18' }],
    ['soc2/CC7.1', { framework: 'soc2', id: 'CC7.1' }],
    ['nist-csf-2.0/ID.RA-01', { framework: 'nist-csf-2.0', id: 'ID.RA-01' }],
  ])('parses %s', (text, expected) => {
    expect(parseReference(text)).toEqual(expected);
  });

  it.each([
    ['A.5.38', /^no ISO\/IEC 27001:2022 id "A\.5\.38" \(Annex A: A\.5\.1-A\.5\.37, A\.6\.1-A\.6\.8, A\.7\.1-A\.7\.14, A\.8\.1-A\.8\.34; clauses 4 to 10/],
    ['9.4', /^no ISO\/IEC 27001:2022 id "9\.4"/],
    ['soc2/CC10.1', /^no SOC 2 \(2017 Trust Services Criteria\) id "CC10\.1" \(config\/frameworks\/soc2-2017\.yaml lists them\)$/],
    ['nist-csf-2.0/ID.AM-06', /^no NIST CSF 2\.0 id "ID\.AM-06"/],
    ['pci-dss/1.1', /^unknown framework "pci-dss" in "pci-dss\/1\.1" \(known: iso27001:2022, nist-csf-2\.0, soc2\)$/],
    ['A 8 8', /^a reference such as "A\.8\.8" or "9\.2" \(ISO\/IEC 27001:2022\), "soc2\/CC7\.1" or "nist-csf-2\.0\/ID\.RA-01"$/],
  ])('refuses %s', (text, message) => {
    const parsed = parseReference(text);
    expect('error' in parsed && parsed.error).toMatch(message);
  });
});

describe('the crosswalk', () => {
  it('maps every Annex A control that a shipped check or calendar activity references, and names its sources', () => {
    const referenced = new Set([...defaultChecks.values()].flatMap((check) => check.references).filter((id) => id.startsWith('A.')));
    for (const activity of DEFAULT_ACTIVITIES) for (const id of [activity.reference ?? []].flat()) if (id.startsWith('A.')) referenced.add(id);
    expect(mappedAnnexAControls()).toEqual(expect.arrayContaining([...referenced]));
    for (const id of referenced) expect(crosswalkOf('nist-csf-2.0', id).length, id).toBeGreaterThan(0);
    expect(crosswalkSources().map((source) => source.name)).toEqual([
      expect.stringMatching(/^NIST Cybersecurity Framework 2\.0/),
      expect.stringMatching(/^AICPA, 2017 Trust Services Criteria mapped to ISO\/IEC 27001/),
    ]);
  });

  it.each([
    ['A.8.8', ['CC7.1'], ['ID.RA-01', 'PR.PS-02']],
    ['A.5.18', ['CC6.2', 'CC6.3'], ['PR.AA-05']],
    ['A.8.5', ['CC6.1'], ['PR.AA-03']],
    ['A.8.13', ['A1.2', 'A1.3'], ['PR.DS-11']],
    ['A.7.4', [], []],
  ])('maps %s to SOC 2 %j and NIST CSF 2.0 %j', (annexA, soc2, csf) => {
    expect(crosswalkOf('soc2', annexA)).toEqual(soc2);
    expect(crosswalkOf('nist-csf-2.0', annexA)).toEqual(csf);
    expect(crosswalkOf('iso27001:2022', annexA)).toEqual([annexA]);
  });

  it("resolves a control's references per framework: its own ids there, plus the crosswalk of its ISO ones, in the framework's order", () => {
    const control = { references: ['A.8.8', 'soc2/CC8.1', 'iso27001:2022/A.5.18', 'nist-csf-2.0/DE.CM-09', '9.2'] };
    expect(referencesIn('iso27001:2022', control)).toEqual(['9.2', 'A.5.18', 'A.8.8']);
    expect(referencesIn('soc2', control)).toEqual(['CC6.2', 'CC6.3', 'CC7.1', 'CC8.1']);
    expect(referencesIn('nist-csf-2.0', control)).toEqual(['ID.RA-01', 'PR.AA-05', 'PR.PS-02', 'DE.CM-09']);
    // One way only: naming a SOC 2 criterion does not claim the Annex A controls that map to it.
    expect(referencesIn('iso27001:2022', { references: ['soc2/CC6.1'] })).toEqual([]);
    expect(referencesIn('soc2', { references: ['A.8.8', 'soc2/CC7.1'] })).toEqual(['CC7.1']);
  });
});

const control = (reference: string) => `
controls:
  - id: vuln-mgmt
    title: Vulnerabilities are fixed on time
    reference: ${reference}
    owner: security@example.com
    schedule: { cron: "0 6 * * *" }
    sources: [{ name: scan, connector: paged-findings }]
    checks: [{ check: vulnerability-sla }]
`;

function issuesOf(text: string): string[] {
  try {
    parseConfig(text, 'isms.yaml', testRegistries);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).issues];
  }
  throw new Error('expected the config to be refused');
}

describe('references in the config', () => {
  it('takes several frameworks in one control, and bare ids as ISO', () => {
    const loaded = parseConfig(control('[iso27001:2022/A.8.8, soc2/CC7.1, nist-csf-2.0/ID.RA-01, A.5.18]'), 'isms.yaml', testRegistries);
    expect(loaded.controls.get('vuln-mgmt')!.references).toEqual(['iso27001:2022/A.8.8', 'soc2/CC7.1', 'nist-csf-2.0/ID.RA-01', 'A.5.18']);
  });

  it('refuses a control or requirement that does not exist, and an unknown framework, each with its YAML path and line', () => {
    expect(issuesOf(control('A.5.38'))).toEqual([
      expect.stringMatching(/^controls\[0\]\.reference: no ISO\/IEC 27001:2022 id "A\.5\.38" \(Annex A: .*\) \(line 5, column 16\)$/),
    ]);
    expect(issuesOf(control('[A.8.8, soc2/CC7.9, pci/1.1]'))).toEqual([
      expect.stringMatching(/^controls\[0\]\.reference\[1\]: no SOC 2 .* id "CC7\.9" .*\(line 5, column 24\)$/),
      expect.stringMatching(
        /^controls\[0\]\.reference\[2\]: unknown framework "pci" in "pci\/1\.1" \(known: iso27001:2022, nist-csf-2\.0, soc2\) \(line 5, column 36\)$/,
      ),
    ]);
    const activity = [
      'calendar:',
      '  owner: o@example.com',
      '  activities:',
      '    - { id: rules, title: Rules, reference: [A.8.20, nist-csf-2.0/PR.IR-09], every: 1 year, anchor: 2026-01-01 }',
      '',
    ].join('\n');
    expect(issuesOf(activity)).toEqual([
      expect.stringMatching(/^calendar\.activities\[0\]\.reference\[1\]: no NIST CSF 2\.0 id "PR\.IR-09" .*\(line 4, column 54\)$/),
    ]);
  });
});

describe('the soa section', () => {
  it('takes exclusions with their justification, inclusion reasons with risks, owners and a titles file', () => {
    const loaded = parseConfig(
      [
        'soa:',
        '  owner: isms@example.com',
        '  defaultReasons: [best-practice]',
        '  titles: licensed-titles.csv',
        '  controls:',
        '    A.7.4: { applicable: false, justification: No premises of our own; the co-working operator monitors the building }',
        '    A.8.8: { reasons: [risk-treatment, contractual], risks: [R-3, R-7], owner: security@example.com }',
        '',
      ].join('\n'),
      'isms.yaml',
      testRegistries,
    );
    expect(loaded.config.soa).toEqual({
      owner: 'isms@example.com',
      defaultReasons: ['best-practice'],
      titles: 'licensed-titles.csv',
      controls: {
        'A.7.4': { applicable: false, justification: 'No premises of our own; the co-working operator monitors the building' },
        'A.8.8': { applicable: true, reasons: ['risk-treatment', 'contractual'], risks: ['R-3', 'R-7'], owner: 'security@example.com' },
      },
    });
  });

  it('refuses an unknown control id, an exclusion without justification and risks without risk treatment, with paths and lines', () => {
    expect(
      issuesOf(
        [
          'soa:',
          '  controls:',
          '    A.7.4: { applicable: false, reasons: [legal] }',
          '    A.8.8: { reasons: [legal], risks: [R-1] }',
          '    A.8.9: { reasons: [because] }',
          '',
        ].join('\n'),
      ),
    ).toEqual([
      'soa.controls.A.7.4.justification: an excluded control needs the justification for its exclusion (line 3, column 12)',
      'soa.controls.A.7.4.reasons: reasons for inclusion do not apply to an excluded control (line 3, column 42)',
      'soa.controls.A.8.8.risks: risks belong to the reason risk-treatment: add it to reasons (line 4, column 39)',
      expect.stringMatching(/^soa\.controls\.A\.8\.9\.reasons\[0\]: .*"risk-treatment".*\(line 5, column 24\)$/),
    ]);
    expect(
      issuesOf(
        [
          'soa:',
          '  controls:',
          '    A.7.4: { applicable: false, justification: no premises }',
          '    A.5.38: { applicable: false, justification: gone }',
          '',
        ].join('\n'),
      ),
    ).toEqual([
      'soa.controls.A.5.38: "A.5.38" is not an Annex A control of ISO/IEC 27001:2022 (A.5.1-A.5.37, A.6.1-A.6.8, A.7.1-A.7.14, A.8.1-A.8.34) (line 4, column 13)',
    ]);
  });
});
