// @module-tag moto
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthError,
  MalformedResponseError,
  NotFoundError,
  PermissionError,
  RequestRejectedError,
  ThrottledError,
  UnavailableError,
} from '../../../connectors/errors.ts';
import { decodeResumeCursor, scannerFiles, ScannerFilesConfig, type ScannerRecord } from '../../../connectors/scanner-files/index.ts';
import { openS3, parseS3Url, s3Failure, S3Settings } from '../../../connectors/scanner-files/s3.ts';
import { EvidenceRecord } from '../../../core/records.ts';
import { collectAll, testContext } from '../../support/connector-context.ts';
import { enforceAuthentication, startMoto, type MotoServer } from '../../support/moto.ts';
import { isGetObject, isListing, startS3Proxy, type S3Proxy } from '../../support/scanner-s3-proxy.ts';
import { scannerSourceAttempts } from './attempts.ts';
import { collect, findingsOf, fixture, pathsOfCursors, scansOf } from './helpers.ts';

const BUCKET = 'isms-scans';
const EXPORTS = 'exports/2026-11/';
/** A Trivy JSON, a SARIF, the Nessus and an OpenVAS export: in key order, as they are read. */
const EXPORTED = ['nessus-ruby-nessus-example-v2.nessus', 'openvas-many-vuln.xml', 'semgrep-juice-shop.sarif', 'trivy-alpine-310.json'];
const KEY_ID = 'AKIAISMSTESTKEY00001';
const SECRET = 's3-secret-Zq9vP2mWx7-never-in-evidence';
const ENV = { S3_KEY_ID: KEY_ID, S3_SECRET: SECRET };
const CREDENTIALS = { accessKeyId: { env: 'S3_KEY_ID' }, secretAccessKey: { env: 'S3_SECRET' } };
const BIG_HOSTS = 2_000;

let moto: MotoServer | undefined;
let proxy: S3Proxy | undefined;
let admin: S3Client | undefined;
let versionId: string | undefined;
/** The exported fixtures on disk with the objects' Last-Modified as mtime: what S3 holds, as local files. */
let localCopies: string;

/** A Nessus export of several MiB: one host per item, each with a long plugin output. */
function bigNessus(): string {
  const output = 'x'.repeat(2_000);
  const hosts = Array.from(
    { length: BIG_HOSTS },
    (_, i) =>
      `<ReportHost name="10.1.${Math.floor(i / 250)}.${i % 250}"><HostProperties><tag name="HOST_END_TIMESTAMP">1718791415</tag></HostProperties>` +
      `<ReportItem port="22" svc_name="ssh" protocol="tcp" severity="2" pluginID="70658" pluginName="SSH Server CBC Mode Ciphers Enabled" pluginFamily="Misc."><plugin_output>${output}</plugin_output></ReportItem></ReportHost>`,
  );
  return `<?xml version="1.0" ?>\n<NessusClientData_v2><Report name="big">${hosts.join('\n')}</Report></NessusClientData_v2>\n`;
}

async function put(key: string, body: string | Buffer, bucket = BUCKET) {
  return admin!.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: typeof body === 'string' ? Buffer.from(body) : body }));
}

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startS3Proxy(moto.endpoint);
  admin = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET } });
  await admin.send(new CreateBucketCommand({ Bucket: BUCKET }));
  // The empty placeholder the S3 console creates for a folder: listed, never read as an export.
  await put(EXPORTS, '');
  for (const name of EXPORTED) await put(`${EXPORTS}${name}`, await readFile(fixture(name)));
  localCopies = await mkdtemp(join(tmpdir(), 'scanner-files-s3-'));
  for (const name of EXPORTED) {
    const head = await admin.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${EXPORTS}${name}` }));
    await copyFile(fixture(name), join(localCopies, name));
    await utimes(join(localCopies, name), head.LastModified!, head.LastModified!);
  }
  await put('glob/a.sarif', await readFile(fixture('trivy-alpine-310.sarif')));
  await put('glob/b.json', await readFile(fixture('grype-fix-available.json')));
  await put('glob/deeper/c.sarif', await readFile(fixture('grype-cxf-3.4.6.sarif')));
  for (const name of ['xxe.nessus', 'truncated.nessus', 'billion-laughs.xml']) await put(`hostile/${name}`, await readFile(fixture(name)));
  await put('big/many.nessus', bigNessus());
  await put('odd/empty.json', '');
  await admin.send(new CreateBucketCommand({ Bucket: 'isms-versioned' }));
  await admin.send(new PutBucketVersioningCommand({ Bucket: 'isms-versioned', VersioningConfiguration: { Status: 'Enabled' } }));
  await put('trivy.json', '{"not": "this version"}', 'isms-versioned');
  versionId = (await put('trivy.json', await readFile(fixture('trivy-alpine-310.json')), 'isms-versioned')).VersionId;
});

afterAll(async () => {
  if (localCopies !== undefined) await rm(localCopies, { recursive: true, force: true });
  admin?.destroy();
  await proxy?.close();
  await moto?.stop();
});

function s3Config(extra: Record<string, unknown> = {}) {
  return { endpoint: moto!.endpoint, forcePathStyle: true, credentials: CREDENTIALS, ...extra };
}

type Overrides = Parameters<typeof testContext>[0];

async function collectS3(config: Record<string, unknown>, overrides: Overrides = {}) {
  const context = testContext({ env: ENV, ...overrides });
  const records = await collectAll(scannerFiles.collect(ScannerFilesConfig.parse(config), context.ctx));
  for (const record of records) EvidenceRecord.parse(record);
  return { ...context, records, findings: findingsOf(records), scans: scansOf(records) };
}

async function collectS3UntilError(config: Record<string, unknown>, overrides: Overrides = {}) {
  const context = testContext({ env: ENV, ...overrides });
  const records: ScannerRecord[] = [];
  try {
    for await (const record of scannerFiles.collect(ScannerFilesConfig.parse(config), context.ctx)) records.push(record);
  } catch (error) {
    return { ...context, records, error: error as Error };
  }
  throw new Error(`expected the collection to fail; it yielded ${records.length} records`);
}

const url = (key: string, bucket = BUCKET) => `s3://${bucket}/${key}`;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');
const local = (name: string) => join(localCopies, name);
/** Records as they read from the local copies: only the origin differs. */
const asLocal = <T>(value: T) => JSON.parse(JSON.stringify(value).replaceAll(`s3://${BUCKET}/${EXPORTS}`, `${localCopies}/`)) as T;
const readLocally = () => collect({ paths: EXPORTED.map(local) });

describe('scanner-files: S3 objects (moto)', () => {
  it('reads a prefix as exactly the records the same files give locally, in key order, one heartbeat per object', async () => {
    const fromS3 = await collectS3({ paths: [url(EXPORTS)], s3: s3Config() });
    const onDisk = await readLocally();
    // Same counts, ids, assets and severities, spelled out first so a failure says which differs.
    expect(fromS3.findings.map((f) => [f.id, f.asset, f.severity])).toEqual(onDisk.findings.map((f) => [f.id, f.asset, f.severity]));
    expect(fromS3.scans.map((scan) => [scan.origin, scan.asset, scan.findingCount])).toEqual(
      onDisk.scans.map((scan) => [scan.origin.replace(`${localCopies}/`, url(EXPORTS)), scan.asset, scan.findingCount]),
    );
    expect(asLocal(fromS3.records)).toEqual(onDisk.records);
    expect(asLocal(fromS3.warnings)).toEqual(onDisk.warnings);
    expect(fromS3.findings).toHaveLength(69 + 44 + 77 + 4);
    expect(pathsOfCursors(fromS3.heartbeats)).toEqual(EXPORTED.map((_, index) => EXPORTED.slice(0, index + 1).map((name) => url(`${EXPORTS}${name}`))));
  });

  it("takes an object's Last-Modified as the scan time when the export states none, and says so", async () => {
    const { scans, warnings } = await collectS3({ paths: [url(`${EXPORTS}semgrep-juice-shop.sarif`)], s3: s3Config() });
    const head = await admin!.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${EXPORTS}semgrep-juice-shop.sarif` }));
    expect(scans.map((scan) => [scan.scannedAt, scan.raw?.scanTimeFrom])).toEqual([[head.LastModified!.toISOString(), 'file modification time']]);
    expect(warnings).toEqual([
      expect.stringMatching(
        /^scanner-files: s3:\/\/isms-scans\/exports\/2026-11\/semgrep-juice-shop\.sarif: the file states no scan time .*; scannedAt is the file's modification time /,
      ),
    ]);
  });

  it('keeps provenance of each object: its s3 URL, ETag, size, sha256 of the bytes read and records; and how S3 was reached', async () => {
    const { provenance } = await collectS3({ paths: [url(EXPORTS)], s3: s3Config() });
    const expected = await Promise.all(
      EXPORTED.map(async (name, index) => {
        const bytes = await readFile(fixture(name));
        const format = ['nessus', 'openvas', 'sarif', 'trivy'][index];
        const records = [69 + 2, 44 + 1, 77 + 1, 4 + 1][index];
        const head = await admin!.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${EXPORTS}${name}` }));
        // moto's ETag for a single-part upload is the MD5 of the bytes, as S3's is.
        return {
          path: url(`${EXPORTS}${name}`),
          format,
          size: bytes.length,
          modifiedAt: head.LastModified!.toISOString(),
          sha256: sha256(bytes),
          records,
          etag: md5(bytes),
        };
      }),
    );
    expect(provenance.filesRead).toEqual(expected);
    expect(provenance).toMatchObject({
      paths: [url(EXPORTS)],
      filesMatched: 4,
      s3: { region: 'us-east-1', endpoint: moto!.endpoint, forcePathStyle: true, pageSize: 1000, listPages: 1 },
    });
  });

  it('records the VersionId read from a versioned bucket, and reads the current version', async () => {
    const { provenance, records } = await collectS3({ paths: [url('trivy.json', 'isms-versioned')], s3: s3Config() });
    const bytes = await readFile(fixture('trivy-alpine-310.json'));
    expect(versionId).toMatch(/\S/);
    const head = await admin!.send(new HeadObjectCommand({ Bucket: 'isms-versioned', Key: 'trivy.json' }));
    expect(provenance.filesRead).toEqual([
      {
        path: url('trivy.json', 'isms-versioned'),
        format: 'trivy',
        size: bytes.length,
        modifiedAt: head.LastModified!.toISOString(),
        sha256: sha256(bytes),
        records: 5,
        etag: md5(bytes),
        versionId,
      },
    ]);
    expect(records).toHaveLength(5);
  });

  it('follows ListObjectsV2 continuation tokens across pages of the configured size', async () => {
    proxy!.reset();
    const { provenance, records } = await collectS3({ paths: [url(EXPORTS)], s3: s3Config({ endpoint: proxy!.endpoint, pageSize: 2 }) });
    // Five keys (the folder placeholder too) in pages of two.
    expect(provenance).toMatchObject({ filesMatched: 4, s3: { pageSize: 2, listPages: 3 } });
    const listings = proxy!.requests
      .filter(isListing)
      .map((request) => [request.url.searchParams.get('max-keys'), request.url.searchParams.has('continuation-token')]);
    expect(listings).toEqual([
      ['2', false],
      ['2', true],
      ['2', true],
    ]);
    expect(asLocal(records)).toEqual((await readLocally()).records);
  });

  it('a glob matches within its folder only; a prefix reads every depth; one key reads one object', async () => {
    const globbed = await collectS3({ paths: [url('glob/*.sarif')], s3: s3Config() });
    expect((globbed.provenance.filesRead as { path: string }[]).map((read) => read.path)).toEqual([url('glob/a.sarif')]);
    const prefixed = await collectS3({ paths: [url('glob/')], s3: s3Config() });
    expect((prefixed.provenance.filesRead as { path: string; format: string }[]).map((read) => [read.path, read.format])).toEqual([
      [url('glob/a.sarif'), 'sarif'],
      [url('glob/b.json'), 'grype'],
      [url('glob/deeper/c.sarif'), 'sarif'],
    ]);
    const single = await collectS3({ paths: [url(`${EXPORTS}trivy-alpine-310.json`)], s3: s3Config() });
    expect(asLocal(single.records)).toEqual((await collect({ paths: [local('trivy-alpine-310.json')] })).records);
  });

  it('deduplicates an object named twice and sorts S3 objects with local files by path', async () => {
    const { provenance } = await collectS3({ paths: [url('glob/*.json'), url('glob/b.json'), fixture('grype-fix-available.json')], s3: s3Config() });
    expect((provenance.filesRead as { path: string }[]).map((read) => read.path)).toEqual([fixture('grype-fix-available.json'), url('glob/b.json')]);
  });

  it('resumes after the objects the cursor lists', async () => {
    const whole = await collectS3({ paths: [url(EXPORTS)], s3: s3Config() });
    const { records, heartbeats, provenance } = await collectS3({ paths: [url(EXPORTS)], s3: s3Config() }, { resumeCursor: whole.heartbeats[1] });
    expect(pathsOfCursors(heartbeats)).toEqual(pathsOfCursors(whole.heartbeats.slice(2)));
    expect(provenance).toMatchObject({ filesMatched: 4, earlierAttempts: { filesRead: 2, changedSinceRead: [], goneSinceRead: [] } });
    expect(provenance.filesRead).toEqual(whole.provenance.filesRead);
    expect(scansOf(records).map((scan) => scan.origin)).toEqual([url(`${EXPORTS}semgrep-juice-shop.sarif`), url(`${EXPORTS}trivy-alpine-310.json`)]);
    expect(findingsOf(records)).toHaveLength(77 + 4);
  });

  it("a retry resumes by object identity through collectEvidence: an object added, one gone and one replaced since change no other object's records", async () => {
    const trivy = (asset: string, ids: string[]) =>
      JSON.stringify({
        SchemaVersion: 2,
        CreatedAt: '2026-11-20T00:00:00Z',
        ArtifactName: asset,
        Results: [
          {
            Target: asset,
            Class: 'os-pkgs',
            Type: 'debian',
            Vulnerabilities: ids.map((id) => ({ VulnerabilityID: id, PkgName: 'zlib', InstalledVersion: '1', Severity: 'LOW' })),
          },
        ],
      });
    for (const name of ['b', 'd', 'f', 'h']) await put(`resume/${name}.json`, trivy(name, [`CVE-2026-${name}1`]));
    proxy!.reset();
    // S3 answers the first GET of f with an internal error: the attempt fails, retryably, after b and d are checkpointed.
    proxy!.fail({
      matches: (request) => isGetObject(request) && request.url.pathname.endsWith('/resume/f.json'),
      times: 1,
      status: 500,
      code: 'InternalError',
      message: 'We encountered an internal error.',
    });
    const attempts = await scannerSourceAttempts({ paths: [url('resume/')], s3: s3Config({ endpoint: proxy!.endpoint, maxAttempts: 1 }) }, ENV);
    try {
      const first = await attempts.attempt();
      expect(first.error).toMatchObject({ type: 'UnavailableError', nonRetryable: false });
      expect(pathsOfCursors(first.cursors)).toEqual([[url('resume/b.json')], [url('resume/b.json'), url('resume/d.json')]]);
      const readOfD = decodeResumeCursor(first.cursors[1])[1]!.etag;

      await put('resume/a.json', trivy('a', ['CVE-2026-a1']));
      await admin!.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'resume/b.json' }));
      await put('resume/d.json', trivy('d', ['CVE-2026-d1', 'CVE-2026-d2']));
      await put('resume/h.json', trivy('h', ['CVE-2026-h2']));

      const second = await attempts.attempt();
      expect(second.error).toBeUndefined();
      const findings = findingsOf((await attempts.records(second.ref!)) as ScannerRecord[]).map((finding) => `${finding.asset}:${finding.id}`);
      expect(findings).toEqual(['b:CVE-2026-b1', 'd:CVE-2026-d1', 'a:CVE-2026-a1', 'f:CVE-2026-f1', 'h:CVE-2026-h2']);
      const row = await attempts.row(second.ref!);
      const filesRead = row.provenance.filesRead as { path: string; etag: string }[];
      expect(filesRead.map((read) => read.path)).toEqual(['b', 'd', 'a', 'f', 'h'].map((name) => url(`resume/${name}.json`)));
      expect(filesRead[1]!.etag).toBe(readOfD);
      expect(row.provenance).toMatchObject({
        earlierAttempts: { filesRead: 2, changedSinceRead: [url('resume/d.json')], goneSinceRead: [url('resume/b.json')] },
      });
      const nowD = (await admin!.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'resume/d.json' }))).ETag!.replaceAll('"', '');
      expect(row.warnings).toEqual([
        expect.stringMatching(
          new RegExp(
            `^scanner-files: s3://isms-scans/resume/d\\.json: changed since an earlier attempt of this collection read it \\(ETag ${readOfD} then ${nowD}, size \\d+ then \\d+\\); the evidence keeps the records of the version read`,
          ),
        ),
        expect.stringMatching(/^scanner-files: s3:\/\/isms-scans\/resume\/b\.json: gone since an earlier attempt of this collection read it; /),
      ]);
    } finally {
      await attempts.close();
    }
  });

  it.each([
    [
      url('no-such-bucket/', 'isms-missing'),
      /^scanner-files: paths\[0\] "s3:\/\/isms-missing\/no-such-bucket\/": ListObjectsV2: NoSuchBucket \(HTTP 404\): The specified bucket does not exist$/,
    ],
    [
      url('trivy.json', 'isms-missing'),
      /^scanner-files: paths\[0\] "s3:\/\/isms-missing\/trivy\.json": GetObject bytes=0-16383: NoSuchBucket \(HTTP 404\): The specified bucket does not exist$/,
    ],
    [
      url('exports/2026-11/missing.json'),
      /^scanner-files: paths\[0\] "s3:\/\/isms-scans\/exports\/2026-11\/missing\.json": GetObject bytes=0-16383: NoSuchKey \(HTTP 404\): The specified key does not exist\.$/,
    ],
    [url('exports/2025-01/'), /^scanner-files: paths\[0\] "s3:\/\/isms-scans\/exports\/2025-01\/": no objects under this prefix$/],
    [url('glob/*.nessus'), /^scanner-files: paths\[0\] "s3:\/\/isms-scans\/glob\/\*\.nessus": matched no objects$/],
  ])('%s names nothing: a NotFoundError naming the URL, an evidence gap rather than an empty result', async (path, message) => {
    const { error, records } = await collectS3UntilError({ paths: [path], s3: s3Config() });
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toMatch(message);
    expect(records).toEqual([]);
  });

  it('streams XML objects: xxe.nessus is refused with the same message as on disk, before any entity is read', async () => {
    const { error, records } = await collectS3UntilError({ paths: [url('hostile/xxe.nessus')], s3: s3Config() });
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toBe(`scanner-files: ${url('hostile/xxe.nessus')}: DTDs are refused (possible XXE or entity expansion)`);
    expect(records).toEqual([]);
    const lol = await collectS3UntilError({ paths: [url('hostile/billion-laughs.xml')], s3: s3Config() });
    expect(lol.error.message).toBe(`scanner-files: ${url('hostile/billion-laughs.xml')}: DTDs are refused (possible XXE or entity expansion)`);
  });

  it('streams XML objects: a truncated object yields its complete item, then an error naming the URL', async () => {
    const { error, records } = await collectS3UntilError({ paths: [url('hostile/truncated.nessus')], s3: s3Config() });
    expect(records.map((r) => [r.kind, r.kind === 'finding' ? r.id : ''])).toEqual([['finding', '42873']]);
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toMatch(
      /^scanner-files: s3:\/\/isms-scans\/hostile\/truncated\.nessus: XML ends inside <NessusClientData_v2\/Report\/ReportHost\/ReportItem\/plugin_output> at line \d+: the file is truncated/,
    );
  });

  it('streams XML objects: a multi-MiB body arrives and is parsed chunk by chunk, never whole', async () => {
    const { ctx } = testContext({ env: ENV });
    const reader = await openS3(S3Settings.parse(s3Config()), ctx);
    try {
      const [input] = await reader.objectsOf(url('big/many.nessus'), 0);
      const size = Buffer.byteLength(bigNessus());
      expect((await input!.facts(ctx.signal)).size).toBe(size);
      let chunks = 0;
      let largest = 0;
      let total = 0;
      for await (const chunk of input!.chunks(ctx.signal)) {
        chunks += 1;
        largest = Math.max(largest, chunk.byteLength);
        total += chunk.byteLength;
      }
      expect(total).toBe(size);
      expect(chunks).toBeGreaterThan(4);
      expect(largest).toBeLessThan(size / 4);
    } finally {
      reader.destroy();
    }
    const { findings, provenance } = await collectS3({ paths: [url('big/many.nessus')], s3: s3Config() });
    expect(findings).toHaveLength(BIG_HOSTS);
    expect(provenance.filesRead).toEqual([expect.objectContaining({ format: 'nessus', sha256: sha256(Buffer.from(bigNessus())), records: 2 * BIG_HOSTS })]);
  });

  it('refuses an object above the size limit from its listed size, reading no more than the sniff', async () => {
    proxy!.reset();
    const { error } = await collectS3UntilError({ paths: [url('big/')], maxXmlBytes: 1_000_000, s3: s3Config({ endpoint: proxy!.endpoint }) });
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toBe(
      `scanner-files: ${url('big/many.nessus')}: ${Buffer.byteLength(bigNessus())} bytes is more than maxXmlBytes (1000000); raise maxXmlBytes or split the export`,
    );
    // The limit depends on the format, so the first 16 KiB are read to tell it; the rest never is.
    expect(proxy!.requests.filter(isGetObject).map((request) => [request.url.pathname, request.headers.range])).toEqual([
      ['/isms-scans/big/many.nessus', 'bytes=0-16383'],
    ]);
  });

  it('an empty object is an unknown format, named, whether listed or named by key (S3 cannot serve a range of it)', async () => {
    for (const path of [url('odd/'), url('odd/empty.json')]) {
      const { error } = await collectS3UntilError({ paths: [path], s3: s3Config() });
      expect(error).toBeInstanceOf(MalformedResponseError);
      expect(error.message).toMatch(/^scanner-files: s3:\/\/isms-scans\/odd\/empty\.json: unknown format \(the file is empty; 0 bytes\)/);
    }
  });

  it.each([
    [
      'ListObjectsV2',
      isListing,
      url('glob/*.sarif'),
      `scanner-files: paths[0] "${url('glob/*.sarif')}": ListObjectsV2: SlowDown (HTTP 503, after 2 attempts): Please reduce your request rate.`,
    ],
    [
      'GetObject',
      isGetObject,
      url('glob/*.sarif'),
      `scanner-files: ${url('glob/a.sarif')}: GetObject bytes=0-16383: SlowDown (HTTP 503, after 2 attempts): Please reduce your request rate.`,
    ],
  ])('SlowDown on %s that outlasts the retries is a ThrottledError naming where', async (_operation, matches, path, message) => {
    proxy!.reset();
    proxy!.fail({ matches, times: 100, status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' });
    const { error } = await collectS3UntilError({ paths: [path], s3: s3Config({ endpoint: proxy!.endpoint, maxAttempts: 2 }) });
    expect(error).toBeInstanceOf(ThrottledError);
    expect((error as ThrottledError).retryable).toBe(true);
    expect(error.message).toBe(message);
    expect(proxy!.requests.filter(matches)).toHaveLength(2);
  });

  it('a listing that is not S3 XML is a MalformedResponseError', async () => {
    proxy!.reset();
    proxy!.rewrite({ matches: isListing, body: () => '<html><body>captive portal</body>' });
    const { error } = await collectS3UntilError({ paths: [url(EXPORTS)], s3: s3Config({ endpoint: proxy!.endpoint }) });
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toMatch(/^scanner-files: paths\[0\] "s3:\/\/isms-scans\/exports\/2026-11\/": ListObjectsV2: unreadable response/);
  });

  it('an object deleted after it was listed fails retryably, so the retry lists again instead of declaring a gap', async () => {
    proxy!.reset();
    proxy!.fail({
      matches: (request) => isGetObject(request) && request.url.pathname.endsWith('/glob/a.sarif'),
      times: 1,
      status: 404,
      code: 'NoSuchKey',
      message: 'The specified key does not exist.',
    });
    const { error } = await collectS3UntilError({ paths: [url('glob/*.sarif')], s3: s3Config({ endpoint: proxy!.endpoint }) });
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error.message).toBe(
      `scanner-files: ${url('glob/a.sarif')}: GetObject bytes=0-16383: the object disappeared after it was listed; the retry lists the objects again`,
    );
  });

  it('an object replaced after it was listed is not read as another version: If-Match fails, retryably', async () => {
    proxy!.reset();
    proxy!.rewrite({ matches: isListing, body: (text) => text.replace(/<ETag>[^<]*<\/ETag>/, '<ETag>&quot;0123456789abcdef0123456789abcdef&quot;</ETag>') });
    const { error } = await collectS3UntilError({ paths: [url('glob/*.sarif')], s3: s3Config({ endpoint: proxy!.endpoint }) });
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as UnavailableError).retryable).toBe(true);
    expect(error.message).toMatch(
      /^scanner-files: s3:\/\/isms-scans\/glob\/a\.sarif: GetObject bytes=0-16383: PreconditionFailed \(HTTP 412\): .*; the object changed while it was being read$/,
    );
  });
});

describe('scanner-files: S3 credentials and permissions (moto enforcing IAM authentication)', () => {
  let secured: MotoServer | undefined;
  const keys: Record<string, { id: string; secret: string }> = {};

  beforeAll(async () => {
    secured = await startMoto();
    const setup = { endpoint: secured.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'setup', secretAccessKey: 'setup' } };
    const s3 = new S3Client({ ...setup, forcePathStyle: true });
    const iam = new IAMClient(setup);
    try {
      await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
      for (const key of ['scans/trivy.json', 'private/trivy.json'])
        await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: await readFile(fixture('trivy-alpine-310.json')) }));
      // moto ignores the s3:prefix condition the README recommends, so these policies are the plain forms.
      const policies = {
        reader: [
          { Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${BUCKET}` },
          { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/scans/*` },
        ],
        getter: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/scans/*` }],
      };
      for (const [user, statements] of Object.entries(policies)) {
        await iam.send(new CreateUserCommand({ UserName: user }));
        const created = (await iam.send(new CreateAccessKeyCommand({ UserName: user }))).AccessKey;
        keys[user] = { id: created?.AccessKeyId ?? '', secret: created?.SecretAccessKey ?? '' };
        await iam.send(
          new PutUserPolicyCommand({
            UserName: user,
            PolicyName: 'scan-exports',
            PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: statements }),
          }),
        );
      }
    } finally {
      s3.destroy();
      iam.destroy();
    }
    await enforceAuthentication(secured);
  });

  afterAll(async () => {
    await secured?.stop();
  });

  function as(user: string, secret = keys[user]!.secret, id = keys[user]!.id) {
    return { env: { S3_KEY_ID: id, S3_SECRET: secret } };
  }

  const config = (path: string) => ({ paths: [path], s3: { endpoint: secured!.endpoint, forcePathStyle: true, credentials: CREDENTIALS } });

  it('the right keys read the object (so the refusals below are the credentials, not the setup)', async () => {
    const { records, provenance, logLines } = await collectS3(config(url('scans/trivy.json')), as('reader'));
    expect(records).toHaveLength(5);
    for (const text of [JSON.stringify(records), JSON.stringify(provenance), logLines.join('\n')]) expect(text).not.toContain(keys.reader!.secret);
  });

  it('a wrong secret is an AuthError (SignatureDoesNotMatch), not retried, and the secret appears nowhere', async () => {
    const { error, provenance, warnings, logLines } = await collectS3UntilError(config(url('scans/trivy.json')), as('reader', SECRET));
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).retryable).toBe(false);
    expect(error.message).toBe(
      `scanner-files: paths[0] "${url('scans/trivy.json')}": GetObject bytes=0-16383: SignatureDoesNotMatch (HTTP 403): The request signature we calculated does not match the signature you provided. Check your key and signing method.; check the configured s3.credentials (or the worker's AWS credentials)`,
    );
    for (const text of [error.message, String(error), error.stack ?? '', JSON.stringify(provenance), JSON.stringify(warnings), logLines.join('\n')])
      expect(text).not.toContain(SECRET);
  });

  it('an unknown access key is an AuthError (InvalidAccessKeyId)', async () => {
    const { error } = await collectS3UntilError(config(url('scans/trivy.json')), as('reader', SECRET, 'AKIAUNKNOWNKEY000000'));
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toMatch(
      /GetObject bytes=0-16383: InvalidAccessKeyId \(HTTP 403\): The AWS Access Key Id you provided does not exist in our records\./,
    );
  });

  it('an object outside the granted prefix is a PermissionError naming the s3:GetObject it needs', async () => {
    const { error } = await collectS3UntilError(config(url('private/trivy.json')), as('reader'));
    expect(error).toBeInstanceOf(PermissionError);
    expect(error.message).toBe(
      `scanner-files: paths[0] "${url('private/trivy.json')}": GetObject bytes=0-16383: AccessDenied (HTTP 403): Access Denied; the worker needs s3:GetObject on arn:aws:s3:::${BUCKET}/private/trivy.json`,
    );
  });

  it('listing without s3:ListBucket is a PermissionError naming it', async () => {
    // The whole bucket: moto miscomputes signatures over a prefix with a "/" in it, so this listing has none.
    const { error } = await collectS3UntilError(config(url('')), as('getter'));
    expect(error).toBeInstanceOf(PermissionError);
    expect(error.message).toBe(
      `scanner-files: paths[0] "${url('')}": ListObjectsV2: AccessDenied (HTTP 403): Access Denied; the worker needs s3:ListBucket on arn:aws:s3:::${BUCKET}`,
    );
  });
});

describe('s3Failure: the shared AWS classifier with what S3 adds', () => {
  const sdkError = (name: string, status: number, attempts = 1, message = `${name} message`) =>
    Object.assign(new S3ServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status, attempts }, message }), {
      Code: name,
    });

  it('names the permission a refusal lacks, and where to look when the keys are refused', () => {
    const denied = s3Failure(sdkError('AccessDenied', 403), 'scanner-files: s3://b/k', 'GetObject', 's3:GetObject on arn:aws:s3:::b/k');
    expect(denied).toBeInstanceOf(PermissionError);
    expect(denied.message).toBe(
      'scanner-files: s3://b/k: GetObject: AccessDenied (HTTP 403): AccessDenied message; the worker needs s3:GetObject on arn:aws:s3:::b/k',
    );
    const refused = s3Failure(sdkError('InvalidAccessKeyId', 403), 'scanner-files: s3://b/k', 'GetObject');
    expect(refused).toBeInstanceOf(AuthError);
    expect(refused.message).toMatch(/; check the configured s3\.credentials \(or the worker's AWS credentials\)$/);
  });

  it('calls an If-Match that failed passing: the object changed while it was read, and the next attempt reads it whole', () => {
    const changed = s3Failure(sdkError('PreconditionFailed', 412), 'scanner-files: s3://b/k', 'GetObject');
    expect(changed).toBeInstanceOf(UnavailableError);
    expect(changed.message).toBe(
      'scanner-files: s3://b/k: GetObject: PreconditionFailed (HTTP 412): PreconditionFailed message; the object changed while it was being read',
    );
    expect(s3Failure(sdkError('InvalidRange', 416), 'w', 'GetObject')).toBeInstanceOf(RequestRejectedError);
  });
});

describe('s3:// paths in config', () => {
  it.each([
    ['s3://bucket', { kind: 'prefix', bucket: 'bucket', prefix: '' }],
    ['s3://bucket/', { kind: 'prefix', bucket: 'bucket', prefix: '' }],
    ['s3://bucket/scans/2026/', { kind: 'prefix', bucket: 'bucket', prefix: 'scans/2026/' }],
    ['s3://bucket/scans/trivy.json', { kind: 'object', bucket: 'bucket', key: 'scans/trivy.json' }],
    ['s3://my.bucket-1/scans', { kind: 'object', bucket: 'my.bucket-1', key: 'scans' }],
  ])('%s', (path, location) => {
    expect(parseS3Url(path)).toEqual({ location });
  });

  it('a glob lists from its literal start, and its * stays within the last segment', () => {
    const parsed = parseS3Url('s3://bucket/scans/trivy-*.json');
    if (!('location' in parsed) || parsed.location.kind !== 'glob') throw new Error(`expected a glob, got ${JSON.stringify(parsed)}`);
    expect(parsed.location.prefix).toBe('scans/trivy-');
    expect(['scans/trivy-a.json', 'scans/trivy-.json'].map((key) => parsed.location.kind === 'glob' && parsed.location.pattern.test(key))).toEqual([
      true,
      true,
    ]);
    expect(
      ['scans/trivy-a/b.json', 'scans/trivy-a.json.bak', 'scans/xtrivy-a.json'].map(
        (key) => parsed.location.kind === 'glob' && parsed.location.pattern.test(key),
      ),
    ).toEqual([false, false, false]);
  });

  it.each([
    ['s3://Bucket_Name/x', /"Bucket_Name" is not an S3 bucket name/],
    ['s3://ab/x', /"ab" is not an S3 bucket name/],
    ['s3://bucket/*/trivy.json', /a \* may only stand in the last segment/],
  ])('refuses %s', (path, message) => {
    const parsed = ScannerFilesConfig.safeParse({ paths: ['scans/', path] });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => [issue.path, issue.message])).toEqual([[['paths', 1], expect.stringMatching(message)]]);
  });

  it('defaults the s3 block, and refuses credentials in the endpoint URL', () => {
    expect(S3Settings.parse({})).toEqual({ region: 'us-east-1', forcePathStyle: false, pageSize: 1000, maxAttempts: 3 });
    expect(ScannerFilesConfig.parse({ paths: ['s3://bucket/scans/'], s3: { endpoint: 'http://127.0.0.1:9000', forcePathStyle: true } }).s3).toEqual({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      pageSize: 1000,
      maxAttempts: 3,
    });
    const leaky = ScannerFilesConfig.safeParse({ paths: ['s3://bucket/'], s3: { endpoint: 'http://minio:minio-secret@127.0.0.1:9000' } });
    expect(leaky.success).toBe(false);
    expect(leaky.error?.issues[0]?.message).toBe('credentials do not belong in the endpoint URL; use s3.credentials');
    expect(ScannerFilesConfig.safeParse({ paths: ['s3://bucket/'], s3: { pageSize: 1001 } }).success).toBe(false);
  });
});
