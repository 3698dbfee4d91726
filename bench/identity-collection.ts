import { fork, type ChildProcess } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { GenerateCredentialReportCommand, IAMClient, ListUsersCommand } from '@aws-sdk/client-iam';
import { awsIam } from '../connectors/aws-iam/index.ts';
import { sendGetCredentialReport } from '../connectors/aws-iam/report-content.ts';
import { googleWorkspace } from '../connectors/google-workspace/index.ts';
import { microsoftGraph } from '../connectors/microsoft-graph/index.ts';
import type { AnyConnector } from '../connectors/contract.ts';
import { testContext } from '../test/support/connector-context.ts';
import { FakeIam, type FakeAccessKey, type FakeUser } from '../test/support/fake-iam.ts';
import { startFakeGoogleDirectory, type DirectoryUserJson } from '../test/support/fake-google-directory.ts';
import { startFakeGraph, type FakeGraphUser, type FakeRegistration } from '../test/support/fake-graph.ts';
import { trustFakeGraphCertificate } from '../test/support/graph-env.ts';
import {
  emit,
  measure,
  peakRssMb,
  Random,
  ratioOf,
  round,
  runBenchmark,
  runPhase,
  say,
  scaled,
  SEED,
  type BenchArgs,
  type BenchResult,
  type Row,
} from './common.ts';
import { lastUsedService, personName } from './records.ts';

/**
 * The three identity connectors through their real SDKs against the local fakes, each fake holding 100k users and
 * paging as the real API does (IAM credential report + ListUsers pages of 1000, Google users.list pages of 500,
 * Graph /users pages of 500 with signInActivity plus the MFA registration report). The floor is a minimal loop over
 * the same servers: fetch, then JSON.parse or plain text search in the XML, following the page tokens, and nothing
 * else. The fakes run in a process of their own, so the client figures (wall and CPU) are the client's; wall time
 * includes the servers' time, which is the same for both sides and is reported apart.
 */

const USERS = 100_000;
const SOURCES = ['aws-iam', 'google-workspace', 'microsoft-graph'] as const;
type Source = (typeof SOURCES)[number];

const IAM_ACCOUNT = '111111111111';
const IAM_KEY_ID = 'AKIABENCHCOLLECTOR01';
const IAM_SECRET = 'bench/IAM/secret-key-not-for-production';
const GOOGLE_TOKEN = 'ya29.bench-federated-access-token';
const GOOGLE_ADMIN = 'aaa.admin@corp.example';
const GRAPH_SECRET = 'bench~graph-client-secret';
const GRAPH_PAGE = 500;

interface Endpoints {
  iam: string;
  googleRootUrl: string;
  graphUrl: string;
  graphTenant: string;
  graphClient: string;
}

// ---------------------------------------------------------------- the servers' data

function iamUsers(random: Random, count: number): FakeUser[] {
  const users: FakeUser[] = [];
  for (let n = 0; n < count; n++) {
    const { given, family } = personName(random);
    const keys: FakeAccessKey[] = [];
    for (let k = random.chance(0.4) ? random.int(1, 2) : 0; k > 0; k--) {
      keys.push({
        id: `AKIA${random.hex(16).toUpperCase()}`,
        status: random.chance(0.9) ? 'Active' : 'Inactive',
        createdAt: random.daysBefore(1, 900),
        ...(random.chance(0.8) ? { lastUsed: { at: random.daysBefore(0, 200), ...lastUsedService(random) } } : {}),
      });
    }
    users.push({
      name: random.chance(0.8) ? `${given}.${family}${n}@corp.example` : `svc-${family}-${n}`,
      createdAt: random.daysBefore(30, 2000),
      ...(random.chance(0.7)
        ? { password: { changedAt: random.daysBefore(1, 400), ...(random.chance(0.9) ? { lastUsedAt: random.daysBefore(0, 120) } : {}) } }
        : {}),
      ...(random.chance(0.6) ? { mfaDevices: [`arn:aws:iam::${IAM_ACCOUNT}:mfa/u${n}`] } : {}),
      accessKeys: keys,
    });
  }
  return users;
}

function googleUsers(random: Random, count: number): DirectoryUserJson[] {
  const users: DirectoryUserJson[] = [];
  for (let n = 0; n < count; n++) {
    const { given, family } = n === 0 ? { given: 'aaa', family: 'admin' } : personName(random);
    const email = n === 0 ? GOOGLE_ADMIN : `${given}.${family}${n}@corp.example`;
    const alias = random.chance(0.2) ? [`${given[0]}${family}${n}@corp.example`] : [];
    users.push({
      id: String(100_000_000_000_000_000_000n + BigInt(n)),
      primaryEmail: email,
      name: { givenName: given, familyName: family, fullName: `${given} ${family}` },
      isAdmin: n === 0 || random.chance(0.01),
      isDelegatedAdmin: false,
      lastLoginTime: random.chance(0.02) ? '1970-01-01T00:00:00.000Z' : random.daysBefore(0, 200),
      creationTime: random.daysBefore(30, 2000),
      agreedToTerms: true,
      suspended: random.chance(0.03),
      archived: false,
      changePasswordAtNextLogin: false,
      ipWhitelisted: false,
      emails: [{ address: email, primary: true }, ...alias.map((address) => ({ address }))],
      ...(alias.length > 0 ? { aliases: alias } : {}),
      nonEditableAliases: [`${given}.${family}${n}@corp.example.test-google-a.com`],
      orgUnitPath: `/${random.pick(['Engineering', 'Finance', 'Sales', 'Support'])}`,
      isMailboxSetup: true,
      isEnrolledIn2Sv: random.chance(0.9),
      isEnforcedIn2Sv: random.chance(0.5),
      includeInGlobalAddressList: true,
    });
  }
  // The fake sorts by email on every page (orderBy=email); an already sorted list keeps that cheap for both sides.
  return users.sort((a, b) => a.primaryEmail.toLowerCase().localeCompare(b.primaryEmail.toLowerCase()));
}

function graphData(random: Random, count: number): { users: FakeGraphUser[]; registrations: FakeRegistration[] } {
  const users: FakeGraphUser[] = [];
  const registrations: FakeRegistration[] = [];
  const signIn = () => (random.chance(0.05) ? null : `${random.daysBefore(0, 200)}`);
  for (let n = 0; n < count; n++) {
    const { given, family } = personName(random);
    const id = random.uuid();
    const upn = `${given}.${family}${n}@corp.onmicrosoft.com`;
    users.push({
      id,
      userPrincipalName: upn,
      mail: random.chance(0.95) ? `${given}.${family}${n}@corp.example` : null,
      displayName: `${given} ${family}`,
      givenName: given,
      surname: family,
      jobTitle: random.pick(['Engineer', 'Analyst', 'Manager', null]),
      department: random.pick(['Engineering', 'Finance', 'Sales']),
      accountEnabled: random.chance(0.96),
      userType: random.chance(0.93) ? 'Member' : 'Guest',
      createdDateTime: random.daysBefore(30, 2000),
      signInActivity: {
        lastSignInDateTime: signIn(),
        lastSignInRequestId: random.uuid(),
        lastNonInteractiveSignInDateTime: signIn(),
        lastNonInteractiveSignInRequestId: random.uuid(),
        lastSuccessfulSignInDateTime: signIn(),
        lastSuccessfulSignInRequestId: random.uuid(),
      },
    });
    const mfa = random.chance(0.9);
    registrations.push({
      id,
      userPrincipalName: upn,
      userDisplayName: `${given} ${family}`,
      userType: 'member',
      isAdmin: random.chance(0.02),
      isSsprRegistered: mfa,
      isSsprEnabled: true,
      isSsprCapable: mfa,
      isMfaRegistered: mfa,
      isMfaCapable: mfa,
      isPasswordlessCapable: false,
      methodsRegistered: mfa ? ['microsoftAuthenticatorPush', 'softwareOneTimePasscode'] : [],
      isSystemPreferredAuthenticationMethodEnabled: true,
      systemPreferredAuthenticationMethods: mfa ? ['push'] : [],
      userPreferredMethodForSecondaryAuthentication: mfa ? 'push' : 'none',
      lastUpdatedDateTime: random.daysBefore(0, 30),
    });
  }
  return { users, registrations };
}

// ---------------------------------------------------------------- the servers' process

type ServerRequest = { id: number; cmd: 'reset' | 'cpu' | 'stop' };

async function servers(args: BenchArgs): Promise<void> {
  const count = scaled(USERS, args.scale);
  const random = new Random(SEED ^ 0x1d);
  const iamAccount = { id: IAM_ACCOUNT, createdAt: '2018-03-01T00:00:00Z', rootMfa: true, users: iamUsers(random, count) };
  const iam = new FakeIam({
    accounts: [iamAccount],
    credentials: { accessKeyId: IAM_KEY_ID, secretAccessKey: IAM_SECRET, account: IAM_ACCOUNT },
    renderUsersOnce: true,
  });
  const google = await startFakeGoogleDirectory({ users: googleUsers(random, count), accessTokens: [{ token: GOOGLE_TOKEN, subject: GOOGLE_ADMIN }] });
  const { users, registrations } = graphData(random, count);
  const graph = await startFakeGraph({ clientSecret: GRAPH_SECRET, users, registrations, registrationPageSize: GRAPH_PAGE });
  const endpoints: Endpoints = {
    iam: await iam.start(),
    googleRootUrl: google.rootUrl,
    graphUrl: graph.url,
    graphTenant: graph.state.tenantId,
    graphClient: graph.state.clientId,
  };
  process.on('message', (message: ServerRequest) => {
    void (async () => {
      if (message.cmd === 'reset') {
        // A fresh credential report each run (generated, polled, fetched) and no growing request logs.
        iam.reset();
        google.listRequests.length = 0;
        graph.requests.length = 0;
        process.send?.({ id: message.id, ok: true });
      } else if (message.cmd === 'cpu') {
        const used = process.cpuUsage();
        process.send?.({ id: message.id, cpuS: (used.user + used.system) / 1e6 });
      } else {
        await Promise.all([iam.close(), google.close(), graph.close()]);
        process.send?.({ id: message.id, ok: true });
        process.disconnect?.();
      }
    })();
  });
  process.send?.({ ready: endpoints });
}

/** The servers' process, driven over IPC. */
class Servers {
  readonly #child: ChildProcess;
  #next = 0;
  readonly #waiting = new Map<number, (reply: Record<string, unknown>) => void>();
  endpoints!: Endpoints;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (message: Record<string, unknown>) => {
      if (typeof message.id === 'number') {
        this.#waiting.get(message.id)?.(message);
        this.#waiting.delete(message.id);
      }
    });
  }

  static async start(args: BenchArgs): Promise<Servers> {
    const child = fork(fileURLToPath(import.meta.url), ['--phase', 'servers', '--scale', String(args.scale)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const servers = new Servers(child);
    servers.endpoints = await new Promise<Endpoints>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the fake servers exited with ${code} before they were ready`)));
      child.on('message', (message: { ready?: Endpoints }) => {
        if (message.ready) resolve(message.ready);
      });
    });
    return servers;
  }

  async #ask(cmd: ServerRequest['cmd']): Promise<Record<string, unknown>> {
    const id = this.#next++;
    const reply = new Promise<Record<string, unknown>>((resolve) => this.#waiting.set(id, resolve));
    this.#child.send({ id, cmd });
    return reply;
  }

  reset = () => this.#ask('reset');
  cpuS = async () => Number((await this.#ask('cpu')).cpuS);

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    await this.#ask('stop');
    await exited;
  }
}

// ---------------------------------------------------------------- the floor

const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

function between(text: string, open: string, close: string, from = 0): string | undefined {
  const start = text.indexOf(open, from);
  if (start < 0) return undefined;
  const end = text.indexOf(close, start + open.length);
  return end < 0 ? undefined : text.slice(start + open.length, end);
}

function occurrences(text: string, needle: string): number {
  let count = 0;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + needle.length)) count++;
  return count;
}

/** One AWS Query call, signed with SigV4 by hand: the least any client must do for IAM to answer. */
async function iamCall(endpoint: string, params: Record<string, string>): Promise<string> {
  const body = new URLSearchParams({ ...params, Version: '2010-05-08' }).toString();
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
  const date = amzDate.slice(0, 8);
  const host = new URL(endpoint).host;
  const contentType = 'application/x-www-form-urlencoded; charset=utf-8';
  const signedHeaders = 'content-type;host;x-amz-date';
  const canonical = ['POST', '/', '', `content-type:${contentType}\nhost:${host}\nx-amz-date:${amzDate}\n`, signedHeaders, sha256(body)].join('\n');
  const scope = `${date}/us-east-1/iam/aws4_request`;
  const key = hmac(hmac(hmac(hmac(`AWS4${IAM_SECRET}`, date), 'us-east-1'), 'iam'), 'aws4_request');
  const signature = hmac(key, ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n')).toString('hex');
  const response = await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: {
      'content-type': contentType,
      'x-amz-date': amzDate,
      authorization: `AWS4-HMAC-SHA256 Credential=${IAM_KEY_ID}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    },
    body,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`IAM ${params.Action}: HTTP ${response.status}: ${text.slice(0, 300)}`);
  return text;
}

interface Pull {
  identities: number;
  pages: number;
}

async function iamFloor(endpoints: Endpoints): Promise<Pull> {
  while (between(await iamCall(endpoints.iam, { Action: 'GenerateCredentialReport' }), '<State>', '</State>') !== 'COMPLETE');
  const content = between(await iamCall(endpoints.iam, { Action: 'GetCredentialReport' }), '<Content>', '</Content>') ?? '';
  const report = Buffer.from(content, 'base64').toString('utf8');
  const rows = occurrences(report, '\n') - 1;
  let marker: string | undefined;
  let pages = 0;
  let listed = 0;
  do {
    const xml = await iamCall(endpoints.iam, { Action: 'ListUsers', MaxItems: '1000', ...(marker === undefined ? {} : { Marker: marker }) });
    pages++;
    listed += occurrences(xml, '<member>');
    marker = xml.includes('<IsTruncated>true</IsTruncated>') ? between(xml, '<Marker>', '</Marker>') : undefined;
  } while (marker !== undefined);
  if (listed + 1 !== rows) throw new Error(`floor: ${listed} listed users but ${rows} report rows`);
  return { identities: rows, pages: pages + 1 };
}

/**
 * The SDK's share of aws-iam: the connector's calls through the SDK (the report's bytes taken as the connector
 * takes them), rows counted as the floor counts them, and nothing else: no validation, no CSV, no mapping.
 * What this costs above the floor is the SDK's (SigV4, middleware, above all its XML parse of ListUsers).
 */
async function iamSdkOnly(endpoints: Endpoints): Promise<Pull> {
  const iam = new IAMClient({ region: 'us-east-1', endpoint: endpoints.iam, credentials: { accessKeyId: IAM_KEY_ID, secretAccessKey: IAM_SECRET } });
  try {
    while ((await iam.send(new GenerateCredentialReportCommand({}))).State !== 'COMPLETE');
    const report = await sendGetCredentialReport(iam, { abortSignal: new AbortController().signal });
    const rows = occurrences(Buffer.from(report.Content ?? new Uint8Array()).toString('utf8'), '\n') - 1;
    let marker: string | undefined;
    let pages = 0;
    let listed = 0;
    do {
      const page = await iam.send(new ListUsersCommand({ Marker: marker, MaxItems: 1000 }));
      pages++;
      listed += page.Users?.length ?? 0;
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker !== undefined);
    if (listed + 1 !== rows) throw new Error(`sdk: ${listed} listed users but ${rows} report rows`);
    return { identities: rows, pages: pages + 1 };
  } finally {
    iam.destroy();
  }
}

async function googleFloor(endpoints: Endpoints): Promise<Pull> {
  let pageToken: string | undefined;
  let identities = 0;
  let pages = 0;
  do {
    const url = new URL('admin/directory/v1/users', endpoints.googleRootUrl);
    const query = {
      customer: 'my_customer',
      maxResults: '500',
      projection: 'full',
      showDeleted: 'false',
      orderBy: 'email',
      ...(pageToken ? { pageToken } : {}),
    };
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    const response = await fetch(url, { headers: { authorization: `Bearer ${GOOGLE_TOKEN}`, 'accept-encoding': 'gzip' } });
    const body = JSON.parse(await response.text()) as { users?: unknown[]; nextPageToken?: string };
    if (!response.ok) throw new Error(`users.list: HTTP ${response.status}`);
    identities += body.users?.length ?? 0;
    pages++;
    pageToken = body.nextPageToken;
  } while (pageToken);
  return { identities, pages };
}

async function graphFloor(endpoints: Endpoints): Promise<Pull> {
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: endpoints.graphClient,
    client_secret: GRAPH_SECRET,
    scope: 'https://graph.microsoft.com/.default',
  });
  const tokenResponse = await fetch(`${endpoints.graphUrl}/${endpoints.graphTenant}/oauth2/v2.0/token`, { method: 'POST', body: form });
  const { access_token: token } = JSON.parse(await tokenResponse.text()) as { access_token: string };
  const headers = { authorization: `Bearer ${token}` };
  let pages = 0;
  const follow = async (first: string) => {
    let count = 0;
    for (let link: string | undefined = first; link !== undefined;) {
      const response = await fetch(link, { headers });
      const body = JSON.parse(await response.text()) as { value: unknown[]; '@odata.nextLink'?: string };
      if (!response.ok) throw new Error(`Graph ${link}: HTTP ${response.status}`);
      count += body.value.length;
      pages++;
      link = body['@odata.nextLink'];
    }
    return count;
  };
  await follow(`${endpoints.graphUrl}/v1.0/reports/authenticationMethods/userRegistrationDetails`);
  const identities = await follow(
    `${endpoints.graphUrl}/v1.0/users?$select=id,userPrincipalName,mail,displayName,accountEnabled,userType,createdDateTime,signInActivity&$top=${GRAPH_PAGE}`,
  );
  return { identities, pages };
}

// ---------------------------------------------------------------- ours

function connectorRun(source: Source, endpoints: Endpoints): { connector: AnyConnector; config: unknown; env: NodeJS.ProcessEnv } {
  if (source === 'aws-iam') {
    return {
      connector: awsIam,
      config: awsIam.config.parse({
        endpoint: endpoints.iam,
        credentials: { accessKeyId: { env: 'BENCH_IAM_KEY_ID' }, secretAccessKey: { env: 'BENCH_IAM_SECRET' } },
        accounts: [{ id: IAM_ACCOUNT }],
        perUserDetails: false,
        reportPollIntervalMs: 0,
      }),
      env: { BENCH_IAM_KEY_ID: IAM_KEY_ID, BENCH_IAM_SECRET: IAM_SECRET },
    };
  }
  if (source === 'google-workspace') {
    return {
      connector: googleWorkspace,
      config: googleWorkspace.config.parse({ accessToken: { env: 'BENCH_GOOGLE_TOKEN' }, rootUrl: endpoints.googleRootUrl, maxResults: 500 }),
      env: { BENCH_GOOGLE_TOKEN: GOOGLE_TOKEN },
    };
  }
  return {
    connector: microsoftGraph,
    config: microsoftGraph.config.parse({
      tenantId: endpoints.graphTenant,
      clientId: endpoints.graphClient,
      clientSecret: { env: 'BENCH_GRAPH_SECRET' },
      baseUrl: endpoints.graphUrl,
      authorityHost: endpoints.graphUrl,
      pageSize: GRAPH_PAGE,
    }),
    env: { BENCH_GRAPH_SECRET: GRAPH_SECRET },
  };
}

interface ClientOutcome extends Pull {
  wallS: number;
  cpuS: number;
  peakRssMb: number;
}

async function client(args: BenchArgs): Promise<void> {
  const source = args.options.source as Source;
  const endpoints = JSON.parse(args.options.endpoints ?? '{}') as Endpoints;
  if (source === 'microsoft-graph') trustFakeGraphCertificate();
  const run = await measure(async (): Promise<Pull> => {
    if (args.options.mode === 'floor')
      return source === 'aws-iam' ? iamFloor(endpoints) : source === 'google-workspace' ? googleFloor(endpoints) : graphFloor(endpoints);
    if (args.options.mode === 'sdk') return iamSdkOnly(endpoints);
    const { connector, config, env } = connectorRun(source, endpoints);
    const { ctx, heartbeats } = testContext({ env });
    let identities = 0;
    for await (const record of connector.collect(config, ctx)) if (record.kind === 'identity') identities++;
    return { identities, pages: heartbeats.length };
  });
  emit({ ...run.value, wallS: run.wallS, cpuS: run.cpuS, peakRssMb: peakRssMb() } satisfies ClientOutcome);
}

// ---------------------------------------------------------------- the run

interface Side extends ClientOutcome {
  serverCpuS: number;
}

async function main(args: BenchArgs): Promise<void> {
  const repeat = Number(args.options.repeat ?? (args.scale <= 0.2 ? 3 : 1));
  const count = scaled(USERS, args.scale);
  say(`identity-collection: ${count.toLocaleString('en')} users per source, best of ${repeat}`);
  const servers = await Servers.start(args);
  const rows: Row[] = [];
  const figures: Record<string, unknown> = {};
  try {
    const chosen = args.options.sources ? args.options.sources.split(',') : SOURCES;
    for (const source of SOURCES.filter((name) => chosen.includes(name))) {
      const sides: Record<'ours' | 'floor' | 'sdk', Side[]> = { ours: [], floor: [], sdk: [] };
      // aws-iam also runs its SDK calls alone, to tell the SDK's share of the gap from the connector's.
      const modes = source === 'aws-iam' ? (['floor', 'sdk', 'ours'] as const) : (['floor', 'ours'] as const);
      for (let round = 0; round < repeat; round++) {
        for (const mode of modes) {
          await servers.reset();
          const serverBefore = await servers.cpuS();
          const { result } = await runPhase<ClientOutcome>(
            import.meta.url,
            'client',
            args,
            { source, mode, endpoints: JSON.stringify(servers.endpoints) },
            { profileAs: `identity-${source}-${mode}` },
          );
          sides[mode].push({ ...result, serverCpuS: round3((await servers.cpuS()) - serverBefore) });
        }
      }
      const best = (list: Side[]) => list.reduce((a, b) => (b.wallS < a.wallS ? b : a));
      const ours = best(sides.ours);
      const floor = best(sides.floor);
      figures[source] = sides;
      const line = (label: string, side: Side) =>
        `  ${label}: ${side.wallS.toFixed(2)} s wall (${Math.round(side.identities / side.wallS).toLocaleString('en')} identities/s), client CPU ${side.cpuS.toFixed(2)} s, ` +
        `servers' CPU ${side.serverCpuS.toFixed(2)} s, ${side.identities.toLocaleString('en')} identities, peak RSS ${side.peakRssMb} MB`;
      const runs = (list: Side[]) =>
        `runs ${list.map((side) => side.wallS.toFixed(2)).join(', ')} s wall, ${list.map((side) => side.cpuS.toFixed(2)).join(', ')} s CPU`;
      say(`${source}:`);
      say(`${line('floor', floor)}; ${runs(sides.floor)}`);
      if (sides.sdk.length > 0) say(`${line('sdk  ', best(sides.sdk))}; ${runs(sides.sdk)}`);
      say(`${line('ours ', ours)}; ${runs(sides.ours)}`);
      const base = { benchmark: 'identity-collection', unit: 's', targets: [{ on: 'ratio' as const, op: '<=' as const, limit: 1.25 }] };
      rows.push({
        ...base,
        workload: `${source} ${ours.identities.toLocaleString('en')} users, wall (servers included)`,
        ours: ours.wallS,
        floor: floor.wallS,
        ratio: ratioOf(ours.wallS, floor.wallS),
        peakRssMb: ours.peakRssMb,
        note: `the fake servers used ${ours.serverCpuS.toFixed(1)} s (ours) and ${floor.serverCpuS.toFixed(1)} s (floor) of CPU in another process`,
      });
      const leastCpu = (list: Side[]) => Math.min(...list.map((side) => side.cpuS));
      rows.push({
        ...base,
        workload: `${source} ${ours.identities.toLocaleString('en')} users, client CPU`,
        ours: leastCpu(sides.ours),
        floor: leastCpu(sides.floor),
        ratio: ratioOf(leastCpu(sides.ours), leastCpu(sides.floor)),
        peakRssMb: ours.peakRssMb,
      });
      if (sides.sdk.length > 0) {
        rows.push({
          ...base,
          targets: [],
          workload: `${source} SDK calls alone (no validation, CSV or mapping), client CPU`,
          ours: leastCpu(sides.sdk),
          floor: leastCpu(sides.floor),
          ratio: ratioOf(leastCpu(sides.sdk), leastCpu(sides.floor)),
          peakRssMb: best(sides.sdk).peakRssMb,
          note: 'the part of the gap that is the SDK’s: ours minus this is the connector’s',
        });
      }
    }
  } finally {
    await servers.stop();
  }
  emit({ benchmark: 'identity-collection', scale: args.scale, rows, figures } satisfies BenchResult);
}

const round3 = (value: number) => round(value, 3);

await runBenchmark(main, { servers, client });
