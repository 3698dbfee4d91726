import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.ts';
import { readAssessmentPeriod } from '../../evidence/assessment-period.ts';
import { Scan } from '../../core/records.ts';
import type { EvidenceRow } from '../../evidence/evidence-row.ts';
import { assessedControlsOf, assessmentResults, ISMS_NS, oscalControlIdOf, serialize, uuidV5 } from '../../worker/oscal.ts';
import type { ReportRuntime } from '../../worker/audit-report-data.ts';
import { HOSTILE, periodRange, seedAuditCatalog } from '../support/audit-report-seed.ts';
import { validateOscal } from '../support/oscal-validator.ts';

/* eslint-disable @typescript-eslint/no-explicit-any -- the tests walk the generated JSON */

const dir = mkdtempSync(path.join(tmpdir(), 'isms-oscal-'));
let runtime: ReportRuntime;
const iso = (instant: number) => new Date(instant).toISOString();
const PERIOD = { from: iso(periodRange().from), to: iso(periodRange().to) };
/** The snapshot a seeded control run of daily-scans collected and its check run judged (the seed's own runs carry no evidence). */
let linked: EvidenceRow;

async function generate(period = PERIOD) {
  return assessmentResults({
    organisation: runtime.config.config.organisation ?? null,
    timeZone: runtime.config.config.timezone,
    period,
    controls: assessedControlsOf(runtime.config),
    config: { name: 'isms.yaml', sha256: 'c'.repeat(64) },
    data: await readAssessmentPeriod(runtime.store, runtime.register, period),
  });
}
const resultOf = (document: object): any => (document as any)['assessment-results'].results[0];

beforeAll(async () => {
  runtime = await seedAuditCatalog(dir);
  const { store, register } = runtime;
  // A run of daily-scans whose snapshot the check judged and whose deviation names it, then a run with an evidence gap.
  const runId = 'control:daily-scans:2026-10-27T05:00:00.000Z';
  const staged = await store.stage(runId, 'scans-api');
  await staged.append(
    Scan.parse({ kind: 'scan', source: 'scans-api', scanner: 'trivy', asset: 'api', scannedAt: '2026-10-27T05:00:00.000Z', origin: 'seed', findingCount: 1 }),
  );
  linked = await store.commit(staged, {
    runId,
    controlId: 'daily-scans',
    sourceName: 'scans-api',
    connector: 'scanner-files',
    connectorVersion: '1',
    kinds: ['scan'],
    collectedAt: '2026-10-27T05:00:00.000Z',
    provenance: {},
    warnings: ['one file skipped'],
  });
  const deviation = {
    checkId: 'vulnerability-sla',
    subject: 'web|CVE-D|pkg@1',
    title: 'CVE-D past SLA',
    severity: 'high' as const,
    detail: 'still open',
    values: {},
    evidenceIds: [linked.id],
  };
  const judged = await register.saveCheckRun(
    {
      runId,
      controlId: 'daily-scans',
      evaluatedAt: '2026-10-27T05:01:00.000Z',
      status: 'fail',
      results: [{ checkId: 'vulnerability-sla', status: 'fail', deviations: 1 }],
    },
    [deviation],
  );
  await register.reconcile({
    checkRunId: judged.id,
    controlId: 'daily-scans',
    reference: 'A.8.8',
    owner: 'security@example.com',
    at: '2026-10-27T05:01:00.000Z',
    gaps: [],
    collectedSources: ['scans-api'],
  });
  const gapRun = await register.saveCheckRun(
    {
      runId: 'control:daily-scans:2026-10-28T05:00:00.000Z',
      controlId: 'daily-scans',
      evaluatedAt: '2026-10-28T05:01:00.000Z',
      status: 'error',
      results: [{ checkId: 'vulnerability-sla', status: 'error', deviations: 0, message: 'source scans-web: evidence gap' }],
    },
    [],
  );
  await register.reconcile({
    checkRunId: gapRun.id,
    controlId: 'daily-scans',
    reference: 'A.8.8',
    owner: 'security@example.com',
    at: '2026-10-28T05:01:00.000Z',
    gaps: [{ sourceName: 'scans-web', reason: 'bucket denied', errorType: 'PermissionError' }],
    collectedSources: ['scans-api'],
  });
  // After the period NC-0002 is verified: the period's document still shows it as it stood at the period's end.
  await register.transition('NC-0002', 'verified', { actor: 'sec-lead', at: '2026-11-20T10:00:00.000Z' });
});
afterAll(async () => {
  await runtime.store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('UUIDs and control ids', () => {
  it('derives UUID v5 as RFC 9562 does (its example: the DNS namespace and www.example.com)', () => {
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('turns ISO/IEC 27001:2022 references into OSCAL control-id tokens', () => {
    expect(['A.8.8', 'A.5.09', 'A.5.37', '9.2', '6.1.3', '10'].map(oscalControlIdOf)).toEqual([
      'a.8.8',
      'a.5.9',
      'a.5.37',
      'clause-9.2',
      'clause-6.1.3',
      'clause-10',
    ]);
    expect(() => oscalControlIdOf('PR.AC-1')).toThrow('PR.AC-1: not an ISO/IEC 27001:2022 clause or Annex A reference');
  });
});

describe('OSCAL assessment results of a period', () => {
  it('makes an observation of every snapshot collected in the period, with its evidence id and sha256', async () => {
    const result = resultOf((await generate()).document);
    const inPeriod = (await runtime.store.list()).filter((row) => row.collectedAt >= PERIOD.from && row.collectedAt < PERIOD.to);
    expect(inPeriod.length).toBeGreaterThan(100);
    expect(result.observations).toHaveLength(inPeriod.length);
    const observation = result.observations.find((entry: any) => entry['relevant-evidence'][0].props[0].value === linked.id);
    expect(observation).toEqual({
      uuid: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      title: 'Evidence scans-api of daily-scans',
      description: `1 record (scan) from source scans-api (connector scanner-files 1), collected for control daily-scans by run ${linked.runId}.`,
      props: [
        { name: 'control', ns: ISMS_NS, value: 'daily-scans' },
        { name: 'source', ns: ISMS_NS, value: 'scans-api' },
      ],
      methods: ['TEST'],
      collected: '2026-10-27T05:00:00.000Z',
      'relevant-evidence': [
        {
          href: `evidence/${linked.id}.ndjson.zst`,
          description: expect.stringContaining(linked.id),
          props: [
            { name: 'evidence-id', ns: ISMS_NS, value: linked.id },
            { name: 'sha256', ns: ISMS_NS, value: linked.sha256 },
          ],
        },
      ],
      remarks: 'Collected with warnings: one file skipped',
    });
    expect(result.observations.map((entry: any) => entry.collected)).toEqual(inPeriod.map((row) => row.collectedAt).sort());
  });

  it('judges each control, reference and check: satisfied only when every run in the period passed', async () => {
    const result = resultOf((await generate()).document);
    const risks = new Map(result.risks.map((risk: any) => [risk.uuid, risk.props[0].value]));
    const observations = new Map(result.observations.map((entry: any) => [entry.uuid, entry['relevant-evidence'][0].props[0].value]));
    const summary = result.findings.map((entry: any) => ({
      props: entry.props.map((prop: any) => prop.value),
      target: entry.target,
      risks: (entry['related-risks'] ?? []).map((related: any) => risks.get(related['risk-uuid'])),
      observations: (entry['related-observations'] ?? []).map((related: any) => observations.get(related['observation-uuid'])),
    }));
    expect(summary).toEqual([
      {
        props: ['daily-scans', 'vulnerability-sla', 'A.8.8'],
        target: { type: 'objective-id', 'target-id': 'a.8.8_obj', status: { state: 'not-satisfied', reason: 'fail' } },
        risks: ['NC-0002', 'NC-0006'],
        observations: [linked.id],
      },
      {
        props: ['weekly-scans', 'scan-staleness', 'A.8.8'],
        target: { type: 'objective-id', 'target-id': 'a.8.8_obj', status: { state: 'satisfied', reason: 'pass' } },
        risks: [],
        observations: [],
      },
    ]);
    expect(result.findings[0].description).toBe(
      'Check vulnerability-sla ran 4 times for control daily-scans in this period: 0 passed, 3 failed, 1 could not be evaluated (evidence gap or error). Latest 2026-10-28T05:01:00.000Z: error (source scans-web: evidence gap).',
    );
    expect(result['reviewed-controls']).toEqual({ 'control-selections': [{ 'include-controls': [{ 'control-id': 'a.8.8' }] }] });
  });

  it('reports the nonconformities open at the end of the period as risks, as they stood then', async () => {
    const result = resultOf((await generate()).document);
    expect(result.risks.map((risk: any) => [risk.props[0].value, risk.props[1].value, risk.status])).toEqual([
      ['NC-0002', 'corrective-action', 'remediating'],
      ['NC-0005', 'open', 'open'],
      ['NC-0006', 'open', 'open'],
    ]);
    const nc2 = result.risks[0];
    expect(nc2.deadline).toBe('2026-11-14T23:00:00.000Z');
    expect(nc2['risk-log'].entries.map((entry: any) => [entry.start, entry['status-change']])).toEqual([
      ['2026-09-21T04:00:00.000Z', 'open'],
      ['2026-09-23T09:00:00.000Z', 'investigating'],
      ['2026-09-25T09:00:00.000Z', 'remediating'],
    ]);
    expect(nc2['related-observations']).toEqual([
      { 'observation-uuid': result.observations.find((entry: any) => entry['relevant-evidence'][0].props[0].value === linked.id).uuid },
    ]);
    expect(nc2.statement).toContain('Corrective action: Rebuild weekly from a patched base');
  });

  it('refers only to observations and risks it holds, and escapes markup from the catalog', async () => {
    const { document } = await generate();
    const result = resultOf(document);
    const uuids = new Set([...result.observations, ...result.risks].map((entry: any) => entry.uuid));
    const references = [...result.findings, ...result.risks].flatMap((entry: any) => [
      ...(entry['related-observations'] ?? []).map((related: any) => related['observation-uuid']),
      ...(entry['related-risks'] ?? []).map((related: any) => related['risk-uuid']),
    ]);
    expect(references.length).toBeGreaterThan(3);
    for (const uuid of references) expect(uuids.has(uuid)).toBe(true);
    const text = serialize(document);
    expect(text).not.toContain('<script');
    expect(text).not.toContain(HOSTILE);
    expect(result.findings[0].title).toBe(
      'A.8.8 Vulnerabilities are remediated within their SLA: Daily scans &lt;script&gt;alert(1)&lt;/script&gt; "onmouseover=alert(2) x="',
    );
  });

  it('gives the same bytes for the same input, dated by its data and not by the clock', async () => {
    const first = serialize((await generate()).document);
    expect(serialize((await generate()).document)).toBe(first);
    const metadata = JSON.parse(first)['assessment-results'].metadata;
    expect(metadata['last-modified']).toBe('2026-11-01T05:05:00.000Z');
    expect(metadata.version).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(metadata['oscal-version']).toBe('1.1.2');
  });

  it('keeps the identity of evidence and nonconformities across periods, and gives a period its own findings', async () => {
    const whole = resultOf((await generate()).document);
    const october = resultOf((await generate({ from: '2026-10-01T00:00:00.000Z', to: '2026-11-01T00:00:00.000Z' })).document);
    const observationOf = (result: any) => result.observations.find((entry: any) => entry['relevant-evidence'][0].props[0].value === linked.id).uuid;
    expect(observationOf(october)).toBe(observationOf(whole));
    expect(october.risks.find((risk: any) => risk.props[0].value === 'NC-0002').uuid).toBe(whole.risks[0].uuid);
    expect(october.findings[0].uuid).not.toBe(whole.findings[0].uuid);
    expect(october.uuid).not.toBe(whole.uuid);
  });

  it('embeds the assessment plan it imports: one TEST activity per control and check, scoped by the config', async () => {
    const { document, plan } = await generate();
    const results = (document as any)['assessment-results'];
    const resource = results['back-matter'].resources[0];
    expect(results['import-ap'].href).toBe(`#${resource.uuid}`);
    expect(resource.base64['media-type']).toBe('application/oscal.ap+json');
    expect(Buffer.from(resource.base64.value, 'base64').toString('utf8')).toBe(serialize(plan));
    const activities = (plan as any)['assessment-plan']['local-definitions'].activities;
    expect(activities.map((activity: any) => [activity.props[0], activity.props[2].value, activity['related-controls']])).toEqual([
      [{ name: 'method', value: 'TEST' }, 'vulnerability-sla', { 'control-selections': [{ 'include-controls': [{ 'control-id': 'a.8.8' }] }] }],
      [{ name: 'method', value: 'TEST' }, 'scan-staleness', { 'control-selections': [{ 'include-controls': [{ 'control-id': 'a.8.8' }] }] }],
    ]);
    const scope = (plan as any)['assessment-plan']['back-matter'].resources[0];
    expect((plan as any)['assessment-plan']['import-ssp'].href).toBe(`#${scope.uuid}`);
    expect(scope.props).toEqual([{ name: 'sha256', ns: ISMS_NS, value: 'c'.repeat(64) }]);
  });

  it('says so when a period has no evidence: no observation, every objective not satisfied for want of a run', async () => {
    const { document, summary } = await generate({ from: '2030-01-01T00:00:00.000Z', to: '2030-02-01T00:00:00.000Z' });
    const result = resultOf(document);
    expect(result.observations).toBeUndefined();
    expect(result.description).toContain('No evidence was collected in this period');
    expect(result.findings.map((entry: any) => entry.target.status)).toEqual([
      { state: 'not-satisfied', reason: 'other' },
      { state: 'not-satisfied', reason: 'other' },
    ]);
    expect(result.findings[1].description).toBe(
      'Check scan-staleness did not run for control weekly-scans in this period: no evidence was evaluated, so the objective is not shown to be satisfied.',
    );
    expect(summary).toEqual({ observations: 0, findings: 2, notSatisfied: 2, risks: 4 });
    expect((document as any)['assessment-results'].metadata['last-modified']).toBe('2030-01-01T00:00:00.000Z');
  });

  it('refuses a config without controls: there would be nothing to review', () => {
    expect(() =>
      assessmentResults({
        organisation: null,
        timeZone: 'UTC',
        period: PERIOD,
        controls: [],
        config: { name: 'isms.yaml', sha256: 'c'.repeat(64) },
        data: { evidence: [], checkRuns: [], openAtEnd: [] },
      }),
    ).toThrow(ConfigError);
  });
});

describe('the independent validator (NIST liboscal-java: OSCAL JSON schema and constraints)', () => {
  const write = (name: string, document: object) => {
    const file = path.join(dir, name);
    writeFileSync(file, serialize(document));
    return file;
  };

  it('finds the results of a period, of an empty period and the embedded plan valid, without a warning', async () => {
    const { document, plan } = await generate();
    const files = [
      write('ar.json', document),
      write('ap.json', plan),
      write('ar-empty.json', (await generate({ from: '2030-01-01T00:00:00.000Z', to: '2030-02-01T00:00:00.000Z' })).document),
    ];
    const { code, output } = await validateOscal(files);
    expect(output.trim().split('\n')).toEqual(files.map((file) => `${file}: valid OSCAL ${file.endsWith('ap.json') ? 'ap' : 'ar'}`));
    expect(code).toBe(0);
  });

  it('rejects a document with one field corrupted, so a pass is not vacuous', async () => {
    const document = JSON.parse(serialize((await generate()).document));
    document['assessment-results'].results[0].findings[1].target.status.state = 'passed';
    const file = write('ar-corrupted.json', document);
    const { code, output } = await validateOscal([file]);
    expect(output).toContain('#/assessment-results/results/0/findings/1/target/status/state: passed is not a valid enum value');
    expect(output).toContain(`${file}: INVALID OSCAL ar`);
    expect(code).toBe(1);
  });

  it('rejects a collected time without a time zone', async () => {
    const document = JSON.parse(serialize((await generate()).document));
    document['assessment-results'].results[0].observations[0].collected = '2026-09-07T06:05:00';
    const { code, output } = await validateOscal([write('ar-no-zone.json', document)]);
    expect(output).toContain('#/assessment-results/results/0/observations/0/collected');
    expect(code).toBe(1);
  });
});
