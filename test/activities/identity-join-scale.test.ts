import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateControl } from '../../activities/evaluate.ts';
import { checkEvidence, type EvidenceSnapshot } from '../../checks/kit/contract.ts';
import { orphanAccount } from '../../checks/orphan-account.ts';
import type { AnyConnector } from '../../connectors/contract.ts';
import { createLogger } from '../../worker/logger.ts';
import { openRuntime, type Runtime } from '../../worker/runtime.ts';
import { collectAll, testContext } from '../support/connector-context.ts';
import { FakeIam, type FakeUser } from '../support/fake-iam.ts';
import { testRegistries } from '../support/test-connectors.ts';

/**
 * 2,000 IAM users named first.last joined to 2,000 HR people by first.last@example.com with one line of config, end
 * to end: the config loaded from a file, IAM collected through the SDK from the fake IAM, the HR export through the
 * CSV connector, both snapshots stored, the control evaluated and reconciled into the register.
 */

const ACCOUNT = '111111111111';
const AT = new Date('2026-11-20T06:00:00.000Z');
const DAY_MS = 86_400_000;
const ago = (days: number) => new Date(AT.getTime() - days * DAY_MS).toISOString();

const FIRST = [
  'ada',
  'alan',
  'barbara',
  'claude',
  'donald',
  'edsger',
  'frances',
  'grace',
  'hedy',
  'ivan',
  'john',
  'katherine',
  'leslie',
  'margaret',
  'niklaus',
  'ole',
  'peter',
  'radia',
  'shafi',
  'tony',
];
const LAST = Array.from({ length: 100 }, (_, index) => `surname${String(index).padStart(3, '0')}`);
/** Every 100th person has left, 10 days ago; their IAM users are still there. */
const isLeaver = (index: number) => index % 100 === 7;
const CONTRACTORS = ['temp.contractor', 'audit.guest', 'old.intern'];

const people = FIRST.flatMap((first) => LAST.map((last) => `${first}.${last}`));
const JOIN_LINE = 'join: { template: "{username}@example.com" }';

let dir: string;
let iam: FakeIam;
let runtime: Runtime;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'isms-join-scale-'));
  const users: FakeUser[] = [...people, ...CONTRACTORS, 'svc-deploy'].map((name) => ({
    name,
    createdAt: ago(400),
    password: { changedAt: ago(300), lastUsedAt: ago(1) },
    mfaDevices: [`arn:aws:iam::${ACCOUNT}:mfa/${name}`],
  }));
  iam = new FakeIam({
    credentials: { accessKeyId: 'AKIASCALECOLLECTOR01', secretAccessKey: 'scale-secret-not-real', account: ACCOUNT },
    accounts: [{ id: ACCOUNT, createdAt: ago(2000), rootMfa: true, users }],
    renderUsersOnce: true,
  });
  const endpoint = await iam.start();

  const hrRows = people.map((name, index) => `E${10_000 + index},${name}@example.com,${isLeaver(index) ? `Terminated,${ago(10).slice(0, 10)}` : 'Active,'}`);
  writeFileSync(path.join(dir, 'hr.csv'), `id,email,status,terminated\n${hrRows.join('\n')}\n`);
  writeFileSync(
    path.join(dir, 'isms.yaml'),
    `dataDir: data
connectors:
  aws-prod:
    type: aws-iam
    config:
      endpoint: ${endpoint}
      credentials: { accessKeyId: { env: SCALE_KEY_ID }, secretAccessKey: { env: SCALE_SECRET } }
      accounts: [{ id: "${ACCOUNT}" }]
      perUserDetails: false
      reportPollIntervalMs: 5
    ${JOIN_LINE}
controls:
  - id: access-control
    title: Access rights follow the HR record
    reference: [A.5.18]
    owner: security@example.com
    schedule: { cron: "0 6 * * *" }
    sources:
      - { name: aws, connector: aws-prod }
      - { name: hr, connector: hr-csv, config: { path: hr.csv, columns: { employeeId: id, email: email, status: status, terminationDate: terminated } } }
    checks:
      - check: leaver-still-active
      - check: orphan-account
        params: { exemptAccounts: ["<root_account>"] }
`,
  );
  runtime = await openRuntime(path.join(dir, 'isms.yaml'), createLogger({ level: 'silent' }), testRegistries);
}, 120_000);

afterAll(async () => {
  runtime?.close();
  await iam?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a one-line join of 2,000 IAM users named first.last to HR', () => {
  it('is one line of the config', () => {
    const config = readFileSync(path.join(dir, 'isms.yaml'), 'utf8');
    expect(config.split('\n').filter((line) => /join|template|mapping/i.test(line))).toEqual([`    ${JOIN_LINE}`]);
  });

  it('raises exactly the leavers and the accounts no one owns, through collection, evaluation and the register', async () => {
    const control = runtime.config.controls.get('access-control')!;
    const runId = 'control:access-control:scale';
    const refs = [];
    const snapshots: EvidenceSnapshot[] = [];
    const started = performance.now();
    for (const source of control.sources) {
      const { ctx } = testContext({ baseDir: dir, env: { SCALE_KEY_ID: 'AKIASCALECOLLECTOR01', SCALE_SECRET: 'scale-secret-not-real' }, now: () => AT });
      const connector: AnyConnector = source.connector;
      const records = await collectAll(connector.collect(source.config, ctx));
      const staged = await runtime.store.stage(runId, source.name);
      for (const record of records) await staged.append(record);
      const row = await runtime.store.commit(staged, {
        runId,
        controlId: control.control.id,
        sourceName: source.name,
        connector: connector.name,
        connectorVersion: connector.version,
        kinds: [...connector.kinds],
        collectedAt: AT.toISOString(),
        provenance: {},
        warnings: [],
      });
      refs.push(runtime.store.ref(row));
      snapshots.push({ evidenceId: row.id, records });
    }
    expect(refs.map((ref) => [ref.sourceName, ref.recordCount])).toEqual([
      ['aws', people.length + CONTRACTORS.length + 2],
      ['hr', people.length],
    ]);
    const collected = performance.now();

    const summary = await evaluateControl(runtime, { runId, controlId: control.control.id, occurrence: AT.toISOString(), refs, gaps: [] });
    const evaluated = performance.now();
    expect(summary.checks).toEqual([
      { checkId: 'leaver-still-active', status: 'fail', deviations: 20 },
      { checkId: 'orphan-account', status: 'fail', deviations: CONTRACTORS.length },
    ]);
    await runtime.register.reconcile({
      checkRunId: summary.checkRunId,
      controlId: control.control.id,
      reference: 'A.5.18',
      owner: 'security@example.com',
      at: AT.toISOString(),
      gaps: [],
      collectedSources: ['aws', 'hr'],
    });
    const opened = await runtime.register.list({ controlId: control.control.id });
    const leavers = people.filter((_name, index) => isLeaver(index));
    expect(opened.filter((nc) => nc.checkId === 'leaver-still-active').map((nc) => nc.values['account'])).toEqual(leavers);
    expect(opened.filter((nc) => nc.checkId === 'leaver-still-active').every((nc) => nc.values['joinedBy'] === 'template {username}@example.com')).toBe(true);
    expect(opened.filter((nc) => nc.checkId === 'orphan-account').map((nc) => nc.values['account'])).toEqual(CONTRACTORS);
    // The same evidence without the join: IAM users carry no email, so every one of them would be an orphan.
    const unjoined = orphanAccount.evaluate(checkEvidence(snapshots), orphanAccount.params.parse({ exemptAccounts: ['<root_account>'] }), AT);
    expect(unjoined).toHaveLength(people.length + CONTRACTORS.length);
    console.info(
      `identity join at scale: ${people.length} IAM users collected in ${Math.round(collected - started)} ms, evaluated in ${Math.round(evaluated - collected)} ms`,
    );
  }, 120_000);
});
