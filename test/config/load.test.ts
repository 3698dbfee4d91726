import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.ts';
import { parseConfig } from '../../config/load.ts';
import { testRegistries } from '../support/test-connectors.ts';

const parse = (text: string) => parseConfig(text, 'isms.yaml', testRegistries);
function errorsOf(text: string): string[] {
  try {
    parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).issues];
  }
  throw new Error('expected the config to be refused');
}

const valid = `
timezone: Europe/Berlin
connectors:
  scans:
    type: paged-findings
    config: { asset: shop }
notifications:
  - name: security
    kind: webhook
    url: { env: SLACK_WEBHOOK }
    format: slack
controls:
  - id: vuln-mgmt
    title: Vulnerabilities are fixed on time
    reference: A.8.8
    owner: security@example.com
    schedule: { cron: "0 6 * * *" }
    notify: [security]
    sources:
      - name: shop-scan
        connector: scans
        config: { pages: 2 }
    checks:
      - check: vulnerability-sla
        params: { days: { critical: 7 } }
`;

describe('config', () => {
  it('resolves connector instances, merges their config with the source, and applies defaults', () => {
    const loaded = parse(valid);
    const control = loaded.controls.get('vuln-mgmt')!;
    expect(control.sources[0]).toMatchObject({ name: 'shop-scan', config: { asset: 'shop', pages: 2, perPage: 2 } });
    expect(control.checks[0]!.params).toEqual({ days: { critical: 7, high: 30, medium: 90, low: 180, info: null } });
    expect(control.collection).toMatchObject({ heartbeatTimeout: '2 minutes', maximumAttempts: 5 });
    expect(loaded.config.temporal.taskQueue).toBe('isms');
  });

  it.each([
    ['a YAML syntax error', valid.replace('title: Vulnerabilities', 'title: [Vulnerabilities'), /line \d+, column \d+/],
    ['a bad cron', valid.replace('0 6 * * *', 'every morning'), /controls\[0\]\.schedule.*cron expression.*\(line 17, column \d+\)/],
    [
      'an unknown connector',
      valid.replace('connector: scans', 'connector: scanz'),
      /controls\[0\]\.sources\[0\]\.connector: unknown connector "scanz" \(known: .*paged-findings.*\) \(line 21/,
    ],
    ['a connector config error', valid.replace('pages: 2', 'pages: -1'), /controls\[0\]\.sources\[0\]\.config\.pages: paged-findings: .*\(line 22/],
    ['a connector instance config error', valid.replace('asset: shop', 'asset: 42'), /connectors\.scans\.config\.asset: paged-findings: .*\(line 6/],
    ['an unknown check', valid.replace('check: vulnerability-sla', 'check: vuln-sla'), /controls\[0\]\.checks\[0\]\.check: unknown check "vuln-sla"/],
    [
      'bad check params',
      valid.replace('critical: 7', 'critical: soon'),
      /controls\[0\]\.checks\[0\]\.params\.days\.critical: vulnerability-sla: Invalid input: expected number.*\(line 25/,
    ],
    [
      'an ISO reference that does not exist',
      valid.replace('A.8.8', 'A.9.4.2'),
      /controls\[0\]\.reference: no ISO\/IEC 27001:2022 id "A\.9\.4\.2" \(Annex A: .*\) \(line 15, column 16\)/,
    ],
    ['a secret written in clear', valid.replace('{ env: SLACK_WEBHOOK }', '{ value: hunter2 }'), /notifications\[0\]\.url/],
    [
      'an unknown notification target',
      valid.replace('notify: [security]', 'notify: [secops]'),
      /controls\[0\]\.notify\[0\]: no notification target named "secops"/,
    ],
    ['an unknown key', valid.replace('timezone: Europe/Berlin', 'timezone: Europe/Berlin\nretention: 5y'), /\(root\): Unrecognized key: "retention"/],
    ['a bad time zone', valid.replace('Europe/Berlin', 'Mars/Olympus'), /timezone: an IANA time zone/],
  ])('names the path and line of %s', (_case, text, expected) => {
    expect(errorsOf(text).join('\n')).toMatch(expected);
  });

  it('reports every error at once', () => {
    const text = valid.replace('0 6 * * *', 'nope').replace('check: vulnerability-sla', 'check: nope');
    expect(errorsOf(text)).toHaveLength(1);
    const semantic = valid.replace('connector: scans', 'connector: scanz').replace('notify: [security]', 'notify: [secops]');
    expect(errorsOf(semantic)).toHaveLength(2);
  });
});

/** The classic "billion laughs": nine aliases of nine aliases of ..., a few hundred bytes that expand to 9^9 nodes. */
const billionLaughs = [
  'dataDir: data',
  'lol: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
  ...['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].map((anchor, index) => {
    const previous = String.fromCharCode('a'.charCodeAt(0) + index);
    return `${anchor}${anchor}: &${anchor} [${Array.from({ length: 9 }, () => `*${previous}`).join(', ')}]`;
  }),
  '',
].join('\n');

describe('config YAML aliases', () => {
  it('refuses an alias bomb as a ConfigError naming the line where the expansion passes the limit', () => {
    const started = performance.now();
    const errors = errorsOf(billionLaughs);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^line [5-9], column \d+: alias \*[c-h] expands the document past \d+ nodes/);
  });

  it('refuses an alias that refers to the node containing it', () => {
    expect(errorsOf('dataDir: data\nloop: &loop [1, *loop]\n').join('\n')).toMatch(/^line 2, column 17: alias \*loop refers to the node that contains it/);
  });

  it('accepts a value shared by more aliases than the YAML library allows by default (100)', () => {
    const control = (n: number) =>
      `  - { id: c${n}, title: t, reference: A.8.8, owner: ${n === 0 ? '&owner security@example.com' : '*owner'}, schedule: { cron: "0 6 * * *" }, sources: [{ name: s, connector: scans }], checks: [{ check: vulnerability-sla }] }`;
    const text = `connectors:\n  scans: { type: paged-findings }\ncontrols:\n${Array.from({ length: 150 }, (_, n) => control(n)).join('\n')}\n`;
    expect(parse(text).controls.get('c149')?.control.owner).toBe('security@example.com');
  });
});

describe('config secret references', () => {
  const withToken = (value: string) =>
    valid.replace(
      'config: { pages: 2 }',
      `config: { pages: 2 }\n      - name: directory\n        connector: google-workspace\n        config: { accessToken: ${value} }`,
    );

  it.each([
    ['a literal', 'ya29.literal-token'],
    ['an object of another shape', '{ value: ya29.literal-token }'],
    ['a number', '42'],
  ])('says what a secret field expects when given %s', (_case, value) => {
    const errors = errorsOf(withToken(value)).join('\n');
    expect(errors).toMatch(/controls\[0\]\.sources\[1\]\.config\.accessToken: google-workspace: expected \{ env: NAME \} or \{ file: PATH \}/);
    expect(errors).not.toContain('Invalid input');
    expect(errors).not.toContain('ya29.literal-token');
  });
});
