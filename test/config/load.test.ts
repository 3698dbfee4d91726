import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../config/errors.ts';
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
    ['an unknown connector', valid.replace('connector: scans', 'connector: scanz'), /controls\[0\]\.sources\[0\]\.connector: unknown connector "scanz" \(known: .*paged-findings.*\) \(line 21/],
    ['a connector config error', valid.replace('pages: 2', 'pages: -1'), /controls\[0\]\.sources\[0\]\.config\.pages: paged-findings: .*\(line 22/],
    ['a connector instance config error', valid.replace('asset: shop', 'asset: 42'), /connectors\.scans\.config\.asset: paged-findings: .*\(line 6/],
    ['an unknown check', valid.replace('check: vulnerability-sla', 'check: vuln-sla'), /controls\[0\]\.checks\[0\]\.check: unknown check "vuln-sla"/],
    ['bad check params', valid.replace('critical: 7', 'critical: soon'), /controls\[0\]\.checks\[0\]\.params\.days\.critical: vulnerability-sla: Invalid input: expected number.*\(line 25/],
    ['an ISO reference that does not exist', valid.replace('A.8.8', 'A.9.4.2'), /controls\[0\]\.reference: no ISO\/IEC 27001:2022 id "A\.9\.4\.2" \(Annex A: .*\) \(line 15, column 16\)/],
    ['a secret written in clear', valid.replace('{ env: SLACK_WEBHOOK }', '{ value: hunter2 }'), /notifications\[0\]\.url/],
    ['an unknown notification target', valid.replace('notify: [security]', 'notify: [secops]'), /controls\[0\]\.notify\[0\]: no notification target named "secops"/],
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
