import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import type { Campaign, ReviewEntry } from '../../evidence/access-reviews.ts';
import { createLogger } from '../../worker/logger.ts';
import { openRuntime } from '../../worker/runtime.ts';
import { createWorker } from '../../worker/worker.ts';
import { startFakeGoogleDirectory, type DirectoryUserJson, type FakeGoogleDirectory } from '../support/fake-google-directory.ts';
import { runIsms } from '../support/cli.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'isms-review-cli-e2e-'));
const token = `ya29.review-cli-${randomUUID()}`;
const controlId = `access-${randomUUID().slice(0, 8)}`;
const taskQueue = `isms-review-cli-${randomUUID()}`;
let directory: FakeGoogleDirectory;
const users: DirectoryUserJson[] = [
  {
    id: '300000000000000000001',
    primaryEmail: 'admin@example.com',
    name: { fullName: 'Ada Admin' },
    isAdmin: true,
    isEnrolledIn2Sv: true,
    lastLoginTime: new Date().toISOString(),
    creationTime: '2020-01-01T00:00:00.000Z',
  },
  {
    id: '300000000000000000002',
    primaryEmail: 'alice@example.com',
    name: { fullName: 'Alice' },
    isAdmin: false,
    isEnrolledIn2Sv: true,
    lastLoginTime: new Date().toISOString(),
    creationTime: '2020-01-01T00:00:00.000Z',
  },
  {
    id: '300000000000000000003',
    primaryEmail: 'bob@example.com',
    name: { fullName: 'Bob' },
    isAdmin: false,
    isEnrolledIn2Sv: true,
    lastLoginTime: new Date().toISOString(),
    creationTime: '2020-01-01T00:00:00.000Z',
  },
];

beforeAll(async () => {
  directory = await startFakeGoogleDirectory({ users, accessTokens: [{ token, subject: 'admin@example.com' }] });
  writeFileSync(
    path.join(dir, 'isms.yaml'),
    stringify({
      dataDir: 'data',
      temporal: { taskQueue },
      controls: [
        {
          id: controlId,
          title: 'Access rights are reviewed',
          reference: 'A.5.18',
          owner: 'security@example.com',
          schedule: { cron: '0 6 * * *' },
          sources: [{ name: 'google', connector: 'google-workspace', config: { accessToken: { env: 'REVIEW_CLI_GOOGLE_TOKEN' }, rootUrl: directory.rootUrl } }],
          checks: [{ check: 'mfa-missing' }],
          review: { every: 'monthly', dueInDays: 1, verifyAfter: '1s' },
        },
      ],
    }),
  );
});
afterAll(async () => {
  await directory.close();
  rmSync(dir, { recursive: true, force: true });
});

const env = () => ({ ...process.env, LOG_LEVEL: 'silent', TEMPORAL_ADDRESS: inject('temporalAddress'), REVIEW_CLI_GOOGLE_TOKEN: token });
const isms = (...args: string[]) => runIsms(['--config', 'isms.yaml', 'review', ...args], { cwd: dir, env: env(), timeout: 120_000 });

describe('isms review from the command line', () => {
  it('opens a campaign, takes decisions, refuses a bad one, and shows the revocation verified', async () => {
    const opened = await isms('open', controlId, '--json');
    expect(opened.stderr).toBe('');
    const { progress, campaign } = JSON.parse(opened.stdout) as { progress: { phase: string }; campaign: Campaign };
    expect(progress.phase).toBe('open');
    expect(campaign).toMatchObject({ controlId, status: 'open', entryCount: 3, undecided: 3 });
    const campaignId = campaign.id;
    expect(campaignId).toMatch(new RegExp(`^review:${controlId}:\\d{4}-\\d{2}$`));

    const refused = await isms('decide', campaignId, '7', '--decision', 'approve', '--by', 'it-lead@example.com');
    expect(refused).toMatchObject({ code: 2, stdout: '' });
    expect(refused.stderr).toBe(`${campaignId}: decision refused: unknown entry 7: the campaign has entries 1-3\n`);

    const approved = await isms('decide', campaignId, '1-2', '--decision', 'approve', '--by', 'it-lead@example.com');
    expect(approved).toMatchObject({ code: 0, stdout: `${campaignId}: approve recorded on entries 1, 2; 1 undecided\n` });
    users[2]!.suspended = true;
    const revoked = await isms(
      'decide',
      campaignId,
      'google:bob@example.com',
      '--decision',
      'revoke',
      '--by',
      'it-lead@example.com',
      '--reason',
      'left the team',
    );
    expect(revoked.stdout).toBe(`${campaignId}: revoke recorded on entry 3; 0 undecided\n`);
    // The decision that completed the lists closed the campaign before the command's own worker stopped.
    const closed = JSON.parse((await isms('show', campaignId, '--json')).stdout) as Campaign;
    expect(closed).toMatchObject({ status: 'completed', undecided: 0 });

    // The verification runs on whichever worker serves the queue; here, one of this test's.
    const address = inject('temporalAddress');
    const runtime = await openRuntime(path.join(dir, 'isms.yaml'), createLogger({ level: 'silent' }));
    const nativeConnection = await NativeConnection.connect({ address });
    const connection = await Connection.connect({ address });
    try {
      const worker = await createWorker(runtime, nativeConnection, {
        namespace: 'default',
        workflowBundle: { codePath: inject('workflowBundlePath') },
        env: env(),
      });
      await worker.runUntil(new Client({ connection, namespace: 'default' }).workflow.getHandle(campaignId).result());
    } finally {
      await connection.close();
      await nativeConnection.close();
      runtime.close();
    }

    const shown = await isms('show', campaignId, '--json');
    const detail = JSON.parse(shown.stdout) as Campaign & { entries: ReviewEntry[] };
    expect(detail.status).toBe('completed');
    expect(detail.entries.map((entry) => [entry.username, entry.decision, entry.verification])).toEqual([
      ['admin@example.com', 'approve', null],
      ['alice@example.com', 'approve', null],
      ['bob@example.com', 'revoke', 'effective'],
    ]);
    const listed = await isms('list', '--control', controlId);
    expect(listed.stdout).toMatch(new RegExp(`^${campaignId}\\s+completed\\s`, 'm'));
  }, 240_000);
});
