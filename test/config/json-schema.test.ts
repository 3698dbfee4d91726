import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import formats from 'ajv-formats';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ConfigError } from '../../core/errors.ts';
import { configJsonSchema, renderConfigJsonSchema } from '../../config/json-schema.ts';
import { parseConfig, type Registries } from '../../config/load.ts';
import { REGENERATE_COMMAND } from '../../config/reference.ts';
import { defaultRegistries } from '../../worker/runtime.ts';
import { writeAuditConfig } from '../support/audit-report-seed.ts';
import { runIsms } from '../support/cli.ts';
import { exampleAccessControl } from '../support/example-access-control.ts';
import { testRegistries } from '../support/test-connectors.ts';

/*
 * The JSON Schema of isms.yaml must agree with the loader: every config the loader accepts validates, and the
 * configs it refuses for their shape are refused by the schema too, at the same place. Validated with ajv, a JSON
 * Schema validator independent of zod, as editors validate with theirs.
 */

const configDir = fileURLToPath(new URL('../../config/', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'isms-json-schema-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function validatorFor(registries: Registries) {
  // strictRequired is off: the schema requires a connector's options where no instance of that name exists, which
  // names keys that are not properties of the object it tests (the instances' names).
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
  formats.default(ajv);
  const validate = ajv.compile(configJsonSchema(registries));
  return (config: unknown): ErrorObject[] => (validate(config) ? [] : (validate.errors ?? []));
}

const validateBuiltin = validatorFor(defaultRegistries);

function loaderIssues(text: string, registries: Registries = defaultRegistries): string[] {
  try {
    parseConfig(text, 'isms.yaml', registries);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return [...error.issues];
    throw error;
  }
}

/** Every built-in connector and check, the options people set most, a connector instance named like the built-in connector it configures. */
const everything = {
  organisation: 'Example GmbH',
  timezone: 'Europe/Berlin',
  export: { signingKey: { file: '/run/secrets/bundle-key.pem' } },
  temporal: { taskQueue: 'isms', catchupWindow: '2 Hours', shutdownGraceTime: '30s' },
  collection: { timeout: '10 minutes', maximumAttempts: 3 },
  connectors: {
    'aws-prod': {
      type: 'aws-iam',
      config: { accounts: [{ roleArn: 'arn:aws:iam::123456789012:role/isms-reader', externalId: 'isms-2026', label: 'production' }] },
    },
    'hr-csv': { type: 'hr-csv', config: { path: 'hr/people.csv', columns: { employeeId: 'Employee #', email: 'Work Email', status: 'Status' } } },
  },
  notifications: [
    { name: 'security-slack', kind: 'webhook', url: { env: 'SLACK_WEBHOOK_URL' }, format: 'slack' },
    {
      name: 'security-mail',
      kind: 'email',
      host: 'smtp.example.com',
      auth: { user: 'isms@example.com', password: { env: 'SMTP_PASSWORD' } },
      from: 'isms@example.com',
      to: ['security@example.com'],
    },
  ],
  controls: [
    {
      id: 'access-control',
      title: 'Access rights follow the HR record',
      reference: ['A.5.18', 'A.8.5'],
      owner: 'security@example.com',
      schedule: { every: '1 day', offset: '6 hours' },
      notify: ['security-slack', 'security-mail'],
      collection: { timeout: '5 minutes' },
      sources: [
        { name: 'aws-prod', connector: 'aws-prod', config: { perUserDetails: true }, join: { email: false, template: '{username}@example.com' } },
        { name: 'google', connector: 'google-workspace', config: { serviceAccountKey: { file: 'google-key.json' }, subject: 'admin@example.com' } },
        {
          name: 'entra',
          connector: 'microsoft-graph',
          config: { tenantId: 'example.onmicrosoft.com', clientId: 'app-id', clientSecret: { env: 'GRAPH_CLIENT_SECRET' } },
        },
        { name: 'hr', connector: 'hr-csv', config: { timezone: 'Europe/Berlin' } },
        { name: 'jira', connector: 'identity-csv', config: { path: 'jira.csv', system: 'jira-cloud', columns: { id: 'User id', username: 'email' } } },
        { name: 'bamboo', connector: 'bamboohr', config: { subdomain: 'acme', apiKey: { env: 'BAMBOOHR_API_KEY' } } },
      ],
      checks: [
        { check: 'leaver-still-active', params: { slaHours: 24 } },
        { check: 'orphan-account', params: { serviceAccountPatterns: ['svc-*'] } },
        { check: 'mfa-missing', params: { requireForAll: true } },
        { check: 'account-never-used', params: { graceDays: 14 } },
        { check: 'inactive-account', params: { maxInactiveDays: 90 }, sources: ['aws-prod', 'google'] },
        { check: 'aws-root-account' },
        { check: 'stale-credentials', params: { maxKeyAgeDays: 90 } },
      ],
      review: { every: 'quarterly', reviewers: { 'aws-prod': 'cloud-lead@example.com' }, verifyAfter: '3 days' },
    },
    {
      id: 'backups',
      title: 'Backups run and are restore-tested',
      reference: 'A.8.13',
      owner: 'ops@example.com',
      schedule: { calendar: [{ hour: 6, minute: 0, dayOfWeek: 'MONDAY' }], timezone: 'Europe/Berlin' },
      paused: true,
      sources: [{ name: 'backup', connector: 'aws-backup', config: { accounts: [{ id: '123456789012', regions: ['eu-west-1'] }], fetchTags: true } }],
      checks: [
        { check: 'backup-job-failed', params: { windowDays: 7 } },
        { check: 'backup-rpo', params: { byResourceType: { RDS: 24 }, byTag: [{ key: 'tier', value: 'gold', rpoHours: 4 }] } },
        { check: 'restore-test', params: { period: 'quarter' } },
      ],
    },
    {
      id: 'vulnerability-management',
      title: 'Vulnerabilities are fixed within their SLA',
      reference: ['A.8.8', 'soc2/CC7.1'],
      owner: 'security@example.com',
      schedule: { cron: ['0 6 * * *'], jitter: '5 minutes' },
      sources: [{ name: 'scans', connector: 'scanner-files', config: { paths: ['scans/', 's3://scans-bucket/ci/'], s3: { region: 'eu-west-1' } } }],
      checks: [
        { check: 'vulnerability-sla', params: { days: { critical: 7, info: null } } },
        { check: 'scan-staleness', params: { groups: [{ name: 'images', assets: ['registry.example.com/*'], maxAgeDays: 3 }] } },
      ],
    },
  ],
  calendar: {
    defaults: true,
    owner: 'isms@example.com',
    reminders: ['14d', '0d', 'overdue every 7d'],
    activities: [
      {
        id: 'firewall-rule-review',
        title: 'Firewall rule review',
        reference: 'A.8.20',
        every: '6 months',
        anchor: '2026-01-31',
        evidence: [{ name: 'rule set' }],
      },
    ],
    certification: { issued: '2025-12-01', body: 'Example Cert GmbH' },
    changeReview: { owner: 'isms@example.com' },
  },
  soa: { owner: 'isms@example.com', controls: { 'A.7.4': { applicable: false, justification: 'No premises of our own' } } },
};

/** A copy of `everything` with the value at `path` replaced, or removed when `value` is undefined. */
function changed(path: (string | number)[], value: unknown): Record<string, unknown> {
  const config = structuredClone(everything) as Record<string, unknown>;
  const parent = path.slice(0, -1).reduce<Record<string | number, unknown>>((node, key) => node[key] as Record<string | number, unknown>, config);
  const last = path.at(-1)!;
  if (value === undefined) delete parent[last];
  else parent[last] = value;
  return config;
}

describe('the JSON Schema of isms.yaml', () => {
  it('accepts the shipped example, whose first line points editors at the committed schema', () => {
    const file = path.join(configDir, 'isms.example.yaml');
    const text = readFileSync(file, 'utf8');
    expect(loaderIssues(text)).toEqual([]);
    expect(validateBuiltin(parse(text))).toEqual([]);

    const modeline = /^# yaml-language-server: \$schema=(\S+)\n/.exec(text);
    expect(modeline?.[1]).toBe('./isms.schema.json');
    expect(readFileSync(path.resolve(configDir, modeline![1]!), 'utf8')).toBe(renderConfigJsonSchema(defaultRegistries));
  });

  it('accepts every connector and check with their options, an instance named like its connector, a duration in capitals', () => {
    const text = stringify(everything);
    expect(loaderIssues(text)).toEqual([]);
    expect(validateBuiltin(everything)).toEqual([]);
  });

  it("accepts the tests' configs: the audit report's, the example access control, one of a test registry's connector", () => {
    const audit = readFileSync(writeAuditConfig(dir), 'utf8');
    expect(loaderIssues(audit)).toEqual([]);
    expect(validateBuiltin(parse(audit))).toEqual([]);

    const access = { timezone: 'Europe/Berlin', controls: [exampleAccessControl()] };
    expect(loaderIssues(stringify(access))).toEqual([]);
    expect(validateBuiltin(access)).toEqual([]);

    // A registry with a connector of the tests' own: the schema is built from whatever connectors the worker has.
    const paged = {
      connectors: { scans: { type: 'paged-findings', config: { asset: 'shop' } } },
      controls: [{ ...everything.controls[2]!, sources: [{ name: 'shop-scan', connector: 'scans', config: { pages: 2 } }] }],
    };
    expect(loaderIssues(stringify(paged), testRegistries)).toEqual([]);
    expect(validatorFor(testRegistries)(paged)).toEqual([]);
    expect(validateBuiltin(paged).map((error) => error.instancePath)).toContain('/connectors/scans/type');
  });

  const sources = ['controls', 0, 'sources'];
  const refused: [string, (string | number)[], unknown, string][] = [
    ['an unknown top-level key', ['retention'], '5y', ''],
    ['a misspelt connector option', [...sources, 1, 'config', 'subjct'], 'admin@example.com', '/controls/0/sources/1/config'],
    ['a connector option of the wrong type', [...sources, 2, 'config', 'pageSize'], '500', '/controls/0/sources/2/config/pageSize'],
    ['a connector option out of range', ['controls', 1, 'sources', 0, 'config', 'lookbackDays'], 45, '/controls/1/sources/0/config/lookbackDays'],
    ['a required connector option left out', [...sources, 4, 'config', 'system'], undefined, '/controls/0/sources/4/config'],
    ['a connector without its required options', [...sources, 5, 'config'], undefined, '/controls/0/sources/5'],
    ['a secret written out', [...sources, 2, 'config', 'clientSecret'], 'hunter2', '/controls/0/sources/2/config/clientSecret'],
    ['a secret reference with a stray key', ['notifications', 0, 'url'], { env: 'SLACK_WEBHOOK_URL', value: 'x' }, '/notifications/0/url'],
    ['an unknown check', ['controls', 2, 'checks', 0, 'check'], 'vuln-sla', '/controls/2/checks/0/check'],
    ['a misspelt check parameter', ['controls', 0, 'checks', 0, 'params', 'slaHour'], 24, '/controls/0/checks/0/params'],
    ['a check parameter of the wrong type', ['controls', 2, 'checks', 0, 'params', 'days', 'critical'], 'soon', '/controls/2/checks/0/params/days/critical'],
    ['an enum parameter outside its values', ['controls', 1, 'checks', 2, 'params', 'period'], 'week', '/controls/1/checks/2/params/period'],
    ['an unknown connector type', ['connectors', 'aws-prod', 'type'], 'aws', '/connectors/aws-prod/type'],
    ['a misspelt option of a connector instance', ['connectors', 'hr-csv', 'config', 'delimeter'], ';', '/connectors/hr-csv/config'],
    ['a duration without a unit', ['collection', 'timeout'], '10', '/collection/timeout'],
    ['a control id with capitals', ['controls', 0, 'id'], 'Access', '/controls/0/id'],
    ['a control without checks', ['controls', 0, 'checks'], [], '/controls/0/checks'],
    ['a notification target of an unknown kind', ['notifications', 0, 'kind'], 'pager', '/notifications/0'],
    ['an invalid email address', ['notifications', 1, 'to'], ['security'], '/notifications/1/to/0'],
    ['a misspelt calendar key', ['calendar', 'reminder'], ['1d'], '/calendar'],
  ];

  it.each(refused)('refuses %s, as the loader does, at the same path', (_case, at, value, instancePath) => {
    const config = changed(at, value);
    expect(loaderIssues(stringify(config)).length).toBeGreaterThan(0);
    const errors = validateBuiltin(config);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.map((error) => error.instancePath)).toContain(instancePath);
  });

  it('requires the options of a connector that no instance of the same name may give', () => {
    // Without its instance, the source named hr-csv is the built-in connector and its config must be complete.
    const config = changed(['connectors', 'hr-csv'], undefined);
    expect(loaderIssues(stringify(config)).join('\n')).toMatch(/controls\[0\]\.sources\[3\]\.config\.path/);
    const errors = validateBuiltin(config);
    expect(errors).toContainEqual(expect.objectContaining({ instancePath: '/controls/0/sources/3/config', params: { missingProperty: 'path' } }));
  });

  it('is committed up to date', () => {
    const committed = readFileSync(path.join(configDir, 'isms.schema.json'), 'utf8');
    expect(committed, `config/isms.schema.json is out of date: run ${REGENERATE_COMMAND}`).toBe(renderConfigJsonSchema(defaultRegistries));
  });

  it('`isms config schema` prints it, and writes it with --out', async () => {
    const printed = await runIsms(['config', 'schema'], { cwd: dir });
    expect(printed.stderr).toBe('');
    expect(printed.code).toBe(0);
    expect(printed.stdout).toBe(renderConfigJsonSchema(defaultRegistries));

    const written = await runIsms(['config', 'schema', '--out', 'isms.schema.json'], { cwd: dir });
    expect(written.code).toBe(0);
    expect(written.stdout).toBe('isms.schema.json: JSON Schema of isms.yaml written\n');
    expect(readFileSync(path.join(dir, 'isms.schema.json'), 'utf8')).toBe(printed.stdout);
  });
});
