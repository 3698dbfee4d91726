import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.ts';
import { parseConfig } from '../../config/load.ts';
import { testRegistries } from '../support/test-connectors.ts';

const parse = (text: string) => parseConfig(text, 'isms.yaml', testRegistries);
function errorsOf(text: string): string {
  try {
    parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues.join('\n');
  }
  throw new Error('expected the config to be refused');
}

const webhook = `
notifications:
  - name: security-chat
    kind: webhook
    url: { env: SLACK_WEBHOOK_URL }
    format: slack
`;

const email = `
notifications:
  - name: security-mail
    kind: email
    host: smtp.example.com
    auth:
      user: isms-bot
      password: { file: /run/secrets/smtp_password }
    from: isms@example.com
    to: [security@example.com, ciso@example.com]
`;

describe('notification targets in config', () => {
  it('takes a webhook URL and an SMTP password as secret references, with defaults', () => {
    expect(parse(webhook).config.notifications).toEqual([
      {
        name: 'security-chat',
        kind: 'webhook',
        url: { env: 'SLACK_WEBHOOK_URL' },
        format: 'slack',
        events: ['nonconformity-opened', 'evidence-gap', 'run-error'],
      },
    ]);
    expect(parse(email).config.notifications[0]).toEqual({
      name: 'security-mail',
      kind: 'email',
      host: 'smtp.example.com',
      tls: 'starttls',
      auth: { user: 'isms-bot', password: { file: '/run/secrets/smtp_password' } },
      from: 'isms@example.com',
      to: ['security@example.com', 'ciso@example.com'],
      events: ['nonconformity-opened', 'evidence-gap', 'run-error'],
    });
  });

  it.each([
    [
      'a literal webhook URL',
      webhook.replace('{ env: SLACK_WEBHOOK_URL }', 'https://hooks.slack.com/services/T0/B0/xyz'),
      /^notifications\[0\]\.url: .*\(line 5, column 10\)$/,
    ],
    [
      'a literal SMTP password',
      email.replace('{ file: /run/secrets/smtp_password }', 'hunter2'),
      /^notifications\[0\]\.auth\.password: .*\(line 8, column 17\)$/,
    ],
    [
      'SMTP auth without TLS',
      email.replace('host: smtp.example.com', 'host: smtp.example.com\n    tls: none'),
      /^notifications\[0\]\.auth: SMTP auth needs tls: starttls or implicit; .*\(line 8/,
    ],
    [
      'an email target without recipients',
      email.replace('[security@example.com, ciso@example.com]', '[]'),
      /^notifications\[0\]\.to: .*\(line 10, column 9\)$/,
    ],
    ['a recipient that is no address', email.replace('ciso@example.com', 'ciso'), /^notifications\[0\]\.to\[1\]: .*email/i],
    ['an unknown kind of target', webhook.replace('kind: webhook', 'kind: pager'), /^notifications\[0\]\.kind: .*(webhook|email)/],
  ])('refuses %s, naming its path and line', (_case, text, expected) => {
    expect(errorsOf(text)).toMatch(expected);
  });
});
