import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { stringify } from 'yaml';
import { startDevServer } from '../../worker/dev-server.ts';
import { createLogger, configureTemporalRuntime } from '../../worker/logger.ts';
import { runControl } from '../../worker/run-control.ts';
import { openRuntime } from '../../worker/runtime.ts';
import { createWorker, workflowsPath } from '../../worker/worker.ts';
import { table } from '../../worker/commands/context.ts';
import { startFakeBambooHr, type FakeBambooHr } from './fake-bamboohr.ts';
import { startFakeGoogleDirectory, type DirectoryUserJson, type FakeGoogleDirectory } from './fake-google-directory.ts';
import { startFakeGraph, type FakeGraph } from './fake-graph.ts';
import { FakeIam } from './fake-iam.ts';
import { startFakeOkta, type FakeOkta } from './fake-okta.ts';
import { trustFakeGraphCertificate } from './graph-env.ts';
import { seedIdentityCenter } from './identity-center-seed.ts';
import { startMoto } from './moto.ts';

/**
 * The identity demo: AWS IAM, AWS IAM Identity Center (moto), Google Workspace, Microsoft Entra ID, Okta and BambooHR
 * as local servers speaking their real protocols, an HR CSV export, and one access control running every access check
 * over them. The fakes are seeded so that exactly the demo's `expected` nonconformities are raised, each for one
 * reason a reader can follow:
 *
 *   AWS (account 111111111111): the root user has no MFA; linus left 10 days ago and still has his IAM user;
 *     svc-deploy's access key is 200 days old; grace signs in with a password and no MFA.
 *   Google Workspace: old.intern belongs to no one HR knows and last signed in 200 days ago; joan's account was
 *     created 30 days ago and never used; ken (left 3 days ago) is suspended, as he should be.
 *   Entra ID: ken's account is still enabled 3 days after he left.
 *   Okta: margaret's only enrolled factor is a security question, which is no second factor; linus was
 *     deprovisioned when he left, as he should be.
 *   Identity Center: linus still reaches the account through the ReadOnly permission set 10 days after he left. Its
 *     users' last sign-in and MFA are unknown to these APIs, so no inactivity or MFA finding is raised on a guess.
 *
 * Everything else (ada the administrator with MFA, margaret, the service account's ownerlessness) is in order.
 * Dates are relative to now, so the demo raises the same set whenever it runs.
 *
 * `npm run demo:identities` runs it on an embedded Temporal dev server and prints the nonconformities;
 * test/temporal/identities-demo.test.ts runs the same setup on the test server and asserts the set.
 */

export const DEMO_CONTROL = 'access-control';
const AWS_ACCOUNT = '111111111111';
const GOOGLE_CUSTOMER = 'C03az79cb';
const GRAPH_TENANT = '00000000-0000-4000-8000-00000000aaaa';
const DAY_MS = 86_400_000;

const IDS = {
  googleOldIntern: '100000000000000000104',
  googleJoan: '100000000000000000105',
  graphKen: '22222222-2222-4222-8222-000000000003',
};

/** The nonconformities the demo raises over the sources whose ids are fixed, by check and subject. */
const FIXED_NONCONFORMITIES: readonly { checkId: string; subject: string }[] = [
  { checkId: 'account-never-used', subject: `google-workspace:${GOOGLE_CUSTOMER}:${IDS.googleJoan}` },
  { checkId: 'aws-root-account', subject: `aws-iam:${AWS_ACCOUNT}:arn:aws:iam::${AWS_ACCOUNT}:root:mfa` },
  { checkId: 'inactive-account', subject: `google-workspace:${GOOGLE_CUSTOMER}:${IDS.googleOldIntern}` },
  { checkId: 'leaver-still-active', subject: `aws-iam:${AWS_ACCOUNT}:arn:aws:iam::${AWS_ACCOUNT}:user/linus@example.com` },
  { checkId: 'leaver-still-active', subject: `microsoft-graph:${GRAPH_TENANT}:${IDS.graphKen}` },
  { checkId: 'mfa-missing', subject: `aws-iam:${AWS_ACCOUNT}:arn:aws:iam::${AWS_ACCOUNT}:user/grace@example.com` },
  { checkId: 'orphan-account', subject: `google-workspace:${GOOGLE_CUSTOMER}:${IDS.googleOldIntern}` },
  { checkId: 'stale-credentials', subject: `aws-iam:${AWS_ACCOUNT}:arn:aws:iam::${AWS_ACCOUNT}:user/svc-deploy:access-key:AKIADEMOSVCDEPLOY001` },
];

export interface IdentityDemo {
  /** The config (without dataDir and temporal) of the access control over the fakes. */
  config: Record<string, unknown>;
  /** The secrets the config refers to, as environment variables. */
  env: Record<string, string>;
  /** The nonconformities the demo raises, by check and subject, and nothing else (Okta's and moto's ids are made at start). */
  expected: readonly { checkId: string; subject: string }[];
  /** The tenants of the sources whose tenant is made at start: Okta's host, the Identity Center's identity store. */
  tenants: { okta: string; identityCenter: string };
  close(): Promise<void>;
}

/** Starts the fakes, seeded relative to `now`, and writes the HR export into `dir`. */
export async function startIdentityDemo(dir: string, now: Date = new Date()): Promise<IdentityDemo> {
  const ago = (days: number) => new Date(now.getTime() - days * DAY_MS).toISOString();
  const day = (days: number) => ago(days).slice(0, 10);
  const env = {
    DEMO_AWS_ACCESS_KEY_ID: 'AKIADEMOCOLLECTOR001',
    DEMO_AWS_SECRET_ACCESS_KEY: 'demo-aws-secret-key-not-a-real-one',
    DEMO_GOOGLE_TOKEN: 'ya29.demo-google-access-token',
    DEMO_GRAPH_SECRET: 'demo~graph-client-secret',
    DEMO_BAMBOOHR_KEY: 'demo-bamboohr-api-key',
    DEMO_OKTA_TOKEN: '00demoOktaApiTokenNotARealOne0000000000001',
    DEMO_IDC_ACCESS_KEY_ID: 'AKIADEMOIDCREADER001',
    DEMO_IDC_SECRET_ACCESS_KEY: 'demo-identity-center-secret-key',
  };
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer();
  };

  try {
    const iam = new FakeIam({
      credentials: { accessKeyId: env.DEMO_AWS_ACCESS_KEY_ID, secretAccessKey: env.DEMO_AWS_SECRET_ACCESS_KEY, account: AWS_ACCOUNT },
      accounts: [
        {
          id: AWS_ACCOUNT,
          createdAt: ago(1500),
          rootMfa: false,
          rootPasswordLastUsedAt: ago(20),
          groups: { admins: { attachedPolicies: ['AdministratorAccess'] } },
          users: [
            {
              name: 'ada@example.com',
              createdAt: ago(900),
              password: { changedAt: ago(60), lastUsedAt: ago(1) },
              mfaDevices: [`arn:aws:iam::${AWS_ACCOUNT}:mfa/ada`],
              groups: ['admins'],
            },
            { name: 'grace@example.com', createdAt: ago(700), password: { changedAt: ago(30), lastUsedAt: ago(2) } },
            {
              name: 'linus@example.com',
              createdAt: ago(800),
              password: { changedAt: ago(90), lastUsedAt: ago(11) },
              mfaDevices: [`arn:aws:iam::${AWS_ACCOUNT}:mfa/linus`],
            },
            {
              name: 'svc-deploy',
              createdAt: ago(600),
              accessKeys: [
                { id: 'AKIADEMOSVCDEPLOY001', status: 'Active', createdAt: ago(200), lastUsed: { at: ago(1), region: 'eu-central-1', service: 's3' } },
              ],
            },
          ],
        },
      ],
    });
    const iamEndpoint = await iam.start();
    closers.push(() => iam.close());

    const googleUser = (id: string, email: string, fullName: string, extra: Record<string, unknown> = {}): DirectoryUserJson => ({
      id,
      primaryEmail: email,
      name: { fullName },
      isAdmin: false,
      isDelegatedAdmin: false,
      isEnrolledIn2Sv: true,
      isEnforcedIn2Sv: true,
      lastLoginTime: ago(1),
      creationTime: ago(900),
      suspended: false,
      archived: false,
      orgUnitPath: '/',
      ...extra,
    });
    const google: FakeGoogleDirectory = await startFakeGoogleDirectory({
      customerId: GOOGLE_CUSTOMER,
      users: [
        googleUser('100000000000000000101', 'ada@example.com', 'Ada Lovelace', { isAdmin: true }),
        googleUser('100000000000000000102', 'grace@example.com', 'Grace Hopper'),
        googleUser('100000000000000000103', 'ken@example.com', 'Ken Thompson', { suspended: true, suspensionReason: 'ADMIN', lastLoginTime: ago(4) }),
        googleUser(IDS.googleOldIntern, 'old.intern@example.com', 'Old Intern', { lastLoginTime: ago(200), creationTime: ago(400) }),
        googleUser(IDS.googleJoan, 'joan@example.com', 'Joan Clarke', { lastLoginTime: '1970-01-01T00:00:00.000Z', creationTime: ago(30) }),
      ],
      accessTokens: [{ token: env.DEMO_GOOGLE_TOKEN, subject: 'ada@example.com' }],
    });
    closers.push(() => google.close());

    trustFakeGraphCertificate();
    const signedIn = (days: number) => ({
      lastSignInDateTime: ago(days),
      lastNonInteractiveSignInDateTime: ago(days),
      lastSuccessfulSignInDateTime: ago(days),
    });
    const graph: FakeGraph = await startFakeGraph({
      tenantId: GRAPH_TENANT,
      clientSecret: env.DEMO_GRAPH_SECRET,
      users: [
        {
          id: '22222222-2222-4222-8222-000000000001',
          userPrincipalName: 'ada@example.com',
          mail: 'ada@example.com',
          displayName: 'Ada Lovelace',
          accountEnabled: true,
          userType: 'Member',
          createdDateTime: ago(900),
          signInActivity: signedIn(1),
        },
        {
          id: '22222222-2222-4222-8222-000000000002',
          userPrincipalName: 'margaret@example.com',
          mail: 'margaret@example.com',
          displayName: 'Margaret Hamilton',
          accountEnabled: true,
          userType: 'Member',
          createdDateTime: ago(500),
          signInActivity: signedIn(3),
        },
        {
          id: IDS.graphKen,
          userPrincipalName: 'ken@example.com',
          mail: 'ken@example.com',
          displayName: 'Ken Thompson',
          accountEnabled: true,
          userType: 'Member',
          createdDateTime: ago(700),
          signInActivity: signedIn(5),
        },
      ],
      registrations: [
        {
          id: '22222222-2222-4222-8222-000000000001',
          userPrincipalName: 'ada@example.com',
          isAdmin: true,
          isMfaRegistered: true,
          isMfaCapable: true,
          methodsRegistered: ['microsoftAuthenticatorPush'],
        },
        {
          id: '22222222-2222-4222-8222-000000000002',
          userPrincipalName: 'margaret@example.com',
          isAdmin: false,
          isMfaRegistered: true,
          isMfaCapable: true,
          methodsRegistered: ['fido2'],
        },
        {
          id: IDS.graphKen,
          userPrincipalName: 'ken@example.com',
          isAdmin: false,
          isMfaRegistered: true,
          isMfaCapable: true,
          methodsRegistered: ['softwareOneTimePasscode'],
        },
      ],
    });
    closers.push(() => graph.close());

    const bamboo: FakeBambooHr = await startFakeBambooHr({
      subdomain: 'example',
      apiKey: env.DEMO_BAMBOOHR_KEY,
      employees: [
        {
          id: '103',
          employeeNumber: '103',
          firstName: 'Margaret',
          lastName: 'Hamilton',
          displayName: 'Margaret Hamilton',
          workEmail: 'margaret@example.com',
          status: 'Active',
          terminationDate: null,
          hireDate: '2020-01-06',
          supervisorEmail: 'ada@example.com',
        },
        {
          id: '104',
          employeeNumber: '104',
          firstName: 'Ken',
          lastName: 'Thompson',
          displayName: 'Ken Thompson',
          workEmail: 'ken@example.com',
          status: 'Inactive',
          terminationDate: day(3),
          hireDate: '2019-04-01',
          supervisorEmail: 'ada@example.com',
        },
        {
          id: '105',
          employeeNumber: '105',
          firstName: 'Joan',
          lastName: 'Clarke',
          displayName: 'Joan Clarke',
          workEmail: 'joan@example.com',
          status: 'Active',
          terminationDate: null,
          hireDate: day(30),
          supervisorEmail: 'ada@example.com',
        },
      ],
    });
    closers.push(() => bamboo.close());

    const okta: FakeOkta = await startFakeOkta({
      tokens: new Set([env.DEMO_OKTA_TOKEN]),
      users: [
        {
          id: '00u0demo001',
          status: 'ACTIVE',
          login: 'ada@example.com',
          firstName: 'Ada',
          lastName: 'Lovelace',
          created: ago(900),
          lastLogin: ago(1),
          factors: [{ factorType: 'push', provider: 'OKTA', status: 'ACTIVE' }],
          roles: [{ type: 'SUPER_ADMIN', assignmentType: 'USER' }],
          groups: ['Everyone', 'Admins'],
        },
        {
          id: '00u0demo002',
          status: 'ACTIVE',
          login: 'grace@example.com',
          firstName: 'Grace',
          lastName: 'Hopper',
          created: ago(700),
          lastLogin: ago(2),
          factors: [{ factorType: 'token:software:totp', provider: 'GOOGLE', status: 'ACTIVE' }],
          groups: ['Everyone'],
        },
        {
          id: '00u0demo003',
          status: 'ACTIVE',
          login: 'margaret@example.com',
          firstName: 'Margaret',
          lastName: 'Hamilton',
          created: ago(500),
          lastLogin: ago(3),
          factors: [{ factorType: 'question', provider: 'OKTA', status: 'ACTIVE' }],
          groups: ['Everyone'],
        },
        {
          id: '00u0demo004',
          status: 'DEPROVISIONED',
          login: 'linus@example.com',
          firstName: 'Linus',
          lastName: 'Torvalds',
          created: ago(800),
          lastLogin: ago(11),
          factors: [{ factorType: 'push', provider: 'OKTA', status: 'ACTIVE' }],
          groups: ['Everyone'],
        },
      ],
    });
    closers.push(() => okta.close());
    const oktaTenant = new URL(okta.orgUrl).host;

    const moto = await startMoto();
    closers.push(() => moto.stop());
    const center = await seedIdentityCenter(moto.endpoint, 'eu-west-1', {
      users: [
        { userName: 'ada@example.com', displayName: 'Ada Lovelace', email: 'ada@example.com' },
        { userName: 'grace@example.com', displayName: 'Grace Hopper', email: 'grace@example.com' },
        { userName: 'linus@example.com', displayName: 'Linus Torvalds', email: 'linus@example.com' },
      ],
      groups: [
        { name: 'admins', members: ['ada@example.com'] },
        { name: 'engineers', members: ['grace@example.com'] },
      ],
      permissionSets: [
        { name: 'Administrator', managed: ['AdministratorAccess'] },
        { name: 'ReadOnly', managed: ['ReadOnlyAccess'] },
      ],
      assignments: [
        { permissionSet: 'Administrator', group: 'admins' },
        { permissionSet: 'ReadOnly', group: 'engineers' },
        { permissionSet: 'ReadOnly', user: 'linus@example.com' },
      ],
    });

    const hrExport = path.join(dir, 'hris-export.csv');
    writeFileSync(
      hrExport,
      [
        'Employee ID,Full Name,Work Email,Employment Status,Termination Date',
        'E-100,Ada Lovelace,ada@example.com,Active,',
        'E-101,Grace Hopper,grace@example.com,Active,',
        `E-102,Linus Torvalds,linus@example.com,Terminated,${day(10)}`,
        '',
      ].join('\n'),
    );

    const config = {
      organisation: 'Identity demo',
      collection: { maximumAttempts: 2, initialRetryInterval: '1s' },
      controls: [
        {
          id: DEMO_CONTROL,
          title: 'Access rights are granted to people HR knows, protected with MFA, and removed when unused or when people leave',
          reference: ['A.5.16', 'A.5.18', 'A.8.2', 'A.8.5'],
          owner: 'security@example.com',
          schedule: { cron: '0 6 * * *', timezone: 'UTC' },
          sources: [
            {
              name: 'aws-prod',
              connector: 'aws-iam',
              config: {
                accounts: [{ id: AWS_ACCOUNT, label: 'prod' }],
                endpoint: iamEndpoint,
                credentials: { accessKeyId: { env: 'DEMO_AWS_ACCESS_KEY_ID' }, secretAccessKey: { env: 'DEMO_AWS_SECRET_ACCESS_KEY' } },
                reportPollIntervalMs: 0,
              },
            },
            { name: 'google', connector: 'google-workspace', config: { accessToken: { env: 'DEMO_GOOGLE_TOKEN' }, rootUrl: google.rootUrl } },
            {
              name: 'entra',
              connector: 'microsoft-graph',
              config: {
                tenantId: GRAPH_TENANT,
                clientId: graph.state.clientId,
                clientSecret: { env: 'DEMO_GRAPH_SECRET' },
                baseUrl: graph.url,
                authorityHost: graph.url,
                retry: { delaySeconds: 0 },
              },
            },
            { name: 'okta', connector: 'okta', config: { orgUrl: okta.orgUrl, token: { env: 'DEMO_OKTA_TOKEN' } } },
            {
              name: 'aws-sso',
              connector: 'aws-identity-center',
              config: {
                account: { id: center.accountId, label: 'management' },
                region: 'eu-west-1',
                endpoint: moto.endpoint,
                credentials: { accessKeyId: { env: 'DEMO_IDC_ACCESS_KEY_ID' }, secretAccessKey: { env: 'DEMO_IDC_SECRET_ACCESS_KEY' } },
              },
            },
            { name: 'bamboohr', connector: 'bamboohr', config: { subdomain: 'example', apiKey: { env: 'DEMO_BAMBOOHR_KEY' }, baseUrl: bamboo.baseUrl } },
            {
              name: 'hris-export',
              connector: 'hr-csv',
              config: {
                path: hrExport,
                columns: {
                  employeeId: 'Employee ID',
                  displayName: 'Full Name',
                  email: 'Work Email',
                  status: 'Employment Status',
                  terminationDate: 'Termination Date',
                },
              },
            },
          ],
          checks: [
            { check: 'leaver-still-active', params: { slaHours: 24 } },
            { check: 'inactive-account', params: { maxInactiveDays: 90 } },
            { check: 'account-never-used', params: { graceDays: 14 } },
            // The root user's MFA is aws-root-account's finding; one nonconformity per fault.
            { check: 'mfa-missing', params: { exemptAccounts: ['<root_account>'] } },
            { check: 'aws-root-account' },
            { check: 'stale-credentials', params: { maxKeyAgeDays: 90, maxUnusedDays: 45 } },
            { check: 'orphan-account', params: { exemptAccounts: ['<root_account>'] } },
          ],
          review: {
            every: 'quarterly',
            reviewers: {
              'aws-prod': 'cloud-lead@example.com',
              'aws-sso': 'cloud-lead@example.com',
              google: 'it-lead@example.com',
              entra: 'it-lead@example.com',
              okta: 'it-lead@example.com',
            },
          },
        },
      ],
    };
    const expected = [
      ...FIXED_NONCONFORMITIES,
      { checkId: 'mfa-missing', subject: `okta:${oktaTenant}:00u0demo003` },
      { checkId: 'leaver-still-active', subject: `aws-identity-center:${center.identityStoreId}:${center.userIds.get('linus@example.com')!}` },
    ];
    return { config, env, expected, tenants: { okta: oktaTenant, identityCenter: center.identityStoreId }, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** `npm run demo:identities`: the demo on an embedded Temporal dev server; exits 1 unless exactly the expected set is raised. */
async function main(): Promise<void> {
  const log = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
  configureTemporalRuntime(log);
  const dir = mkdtempSync(path.join(tmpdir(), 'isms-identities-demo-'));
  const demo = await startIdentityDemo(dir);
  const server = await startDevServer({ log });
  try {
    const file = path.join(dir, 'isms.yaml');
    writeFileSync(file, stringify({ dataDir: 'data', temporal: { taskQueue: 'isms-identities-demo' }, ...demo.config }));
    const runtime = await openRuntime(file, log);
    try {
      const workflowBundle = await bundleWorkflowCode({
        workflowsPath,
        logger: { trace() {}, debug() {}, info() {}, warn() {}, error: (message: string) => log.error(message), log() {} },
      });
      const worker = await createWorker(runtime, server.env.nativeConnection, {
        namespace: server.namespace,
        workflowBundle,
        env: { ...process.env, ...demo.env },
      });
      const summary = await worker.runUntil(runControl(server.env.client, runtime.config, DEMO_CONTROL));
      print(`${summary.controlId}: ${summary.status.toUpperCase()} (${summary.runId})`);
      for (const ref of summary.evidence) print(`  evidence ${ref.sourceName}: ${ref.recordCount} records (${ref.id})`);
      for (const gap of summary.gaps) print(`  evidence gap ${gap.sourceName}: ${gap.reason}`);
      const raised = await runtime.register.list({ controlId: DEMO_CONTROL });
      print(`\nNonconformities (${raised.length}):\n${table(raised, ['id', 'severity', 'checkId', 'title'])}\n`);
      const key = (nc: { checkId: string; subject: string }) => `${nc.checkId} ${nc.subject}`;
      const expected = new Set(demo.expected.map(key));
      const actual = new Set(raised.map(key));
      const missing = [...expected].filter((entry) => !actual.has(entry));
      const unexpected = [...actual].filter((entry) => !expected.has(entry));
      if (missing.length === 0 && unexpected.length === 0) {
        print(`Exactly the ${expected.size} expected nonconformities.${process.env.KEEP_DEMO ? ` Config and data kept in ${dir}` : ''}`);
      } else {
        print(`Not the expected set.\n  missing: ${missing.join('; ') || 'none'}\n  unexpected: ${unexpected.join('; ') || 'none'}`);
        process.exitCode = 1;
      }
    } finally {
      runtime.close();
    }
  } finally {
    await server.stop();
    await demo.close();
    if (process.exitCode !== 1 && !process.env.KEEP_DEMO) rmSync(dir, { recursive: true, force: true });
  }
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
