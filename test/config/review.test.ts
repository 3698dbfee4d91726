import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../config/load.ts';
import { campaignIdOf, durationMs, resolveReview, reviewPeriodOf, reviewScheduleOf } from '../../config/review.ts';
import { ReviewConfig } from '../../config/review-schema.ts';
import { ConfigError } from '../../core/errors.ts';
import { specOf } from '../../worker/schedules.ts';
import { testRegistries } from '../support/test-connectors.ts';

const control = (review: unknown, extra: Record<string, unknown> = {}) => ({
  id: 'access',
  title: 'Access rights are reviewed',
  reference: 'A.5.18',
  owner: 'security@example.com',
  schedule: { cron: '0 6 * * *' },
  sources: [
    { name: 'google', connector: 'google-workspace', config: { accessToken: { env: 'T' } } },
    { name: 'aws', connector: 'aws-iam' },
    { name: 'hris', connector: 'hr-csv', config: { path: 'people.csv', columns: { employeeId: 'id', email: 'email', status: 'status' } } },
  ],
  checks: [{ check: 'mfa-missing' }],
  review,
  ...extra,
});
const load = (review: unknown) => parseConfig(stringify({ timezone: 'Europe/Berlin', controls: [control(review)] }), '/etc/isms.yaml', testRegistries);

describe('access review config', () => {
  it('defaults to a 14-day campaign over every identity source of the control, verified 3 days after each revocation', () => {
    const loaded = load({ every: 'quarterly' });
    expect(loaded.controls.get('access')!.control.review).toEqual({
      every: 'quarterly',
      dueInDays: 14,
      reviewers: {},
      verifyAfter: '3 days',
      maxVerifications: 5,
    });
    const review = resolveReview(loaded, 'access');
    expect(review.sources).toEqual(['google', 'aws']);
    expect(review.peopleSources).toEqual(['hris']);
    expect(review.reviewerOf('google')).toBe('security@example.com');
  });

  it("takes a schedule like the control's, reviewers per source, and a subset of sources", () => {
    const review = resolveReview(
      load({ every: { cron: '0 8 1 */2 *' }, sources: ['aws'], reviewers: { aws: 'cloud-lead@example.com' }, dueInDays: 7.5 }),
      'access',
    );
    expect(review.sources).toEqual(['aws']);
    expect(review.reviewerOf('aws')).toBe('cloud-lead@example.com');
    expect(reviewScheduleOf(review.review)).toEqual({ cron: '0 8 1 */2 *' });
  });

  it('names the path of a source that is not an identity source of the control, and of a reviewer of no source under review', () => {
    const attempt = () => resolveReview(load({ every: 'monthly', sources: ['hris', 'github'], reviewers: { google: 'x@example.com' } }), 'access');
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/controls\[0\]\.review\.sources\[0\]: "hris" is not an identity source of control access \(identity sources: google, aws\)/);
    expect(attempt).toThrow(/controls\[0\]\.review\.sources\[1\]: "github" is not an identity source/);
    expect(attempt).toThrow(/controls\[0\]\.review\.reviewers\.google: "google" is not a source under review \(hris, github\)/);
    expect(() => resolveReview(parseConfig(stringify({ controls: [control(undefined)] }), '/etc/isms.yaml', testRegistries), 'access')).toThrow(
      'control access in /etc/isms.yaml has no review',
    );
    expect(() => resolveReview(load({ every: 'monthly' }), 'nope')).toThrow('no control "nope"');
  });

  it('refuses unknown keys, cadences and durations with the config path', () => {
    expect(() => load({ every: 'weekly' })).toThrow(/controls\[0\]\.review\.every/);
    expect(() => load({ every: 'monthly', dueInDays: 0 })).toThrow(/controls\[0\]\.review\.dueInDays/);
    expect(() => load({ every: 'monthly', verifyAfter: 'soon' })).toThrow(/controls\[0\]\.review\.verifyAfter: a duration/);
    expect(() => load({ every: 'monthly', reviewer: 'x' })).toThrow(/controls\[0\]\.review: Unrecognized key: "reviewer"/);
  });

  it("names periods by the calendar of the config's zone: a campaign opened at New Year's Eve in UTC is already Q1 in Berlin", () => {
    const newYearsEve = new Date('2026-12-31T23:30:00Z');
    const at = (every: ReviewConfig['every']) => reviewPeriodOf(ReviewConfig.parse({ every }), newYearsEve, 'Europe/Berlin');
    expect([at('monthly'), at('quarterly'), at('semiannually'), at('annually'), at({ cron: '0 6 * * *' })]).toEqual([
      '2027-01',
      '2027-Q1',
      '2027-H1',
      '2027',
      '2027-01-01',
    ]);
    expect(reviewPeriodOf(ReviewConfig.parse({ every: 'quarterly' }), newYearsEve, 'UTC')).toBe('2026-Q4');
    expect(reviewPeriodOf(ReviewConfig.parse({ every: 'semiannually' }), new Date('2026-06-30T12:00:00Z'), 'UTC')).toBe('2026-H1');
    expect(campaignIdOf('access', '2026-Q4')).toBe('review:access:2026-Q4');
  });

  it('opens campaigns on the first day of each period at 09:00 local time', () => {
    const spec = specOf(reviewScheduleOf(ReviewConfig.parse({ every: 'quarterly' })), 'Europe/Berlin');
    expect(spec.timezone).toBe('Europe/Berlin');
    expect(spec.cronExpressions).toEqual(['0 9 1 1,4,7,10 *']);
    expect(['monthly', 'semiannually', 'annually'].map((every) => specOf(reviewScheduleOf(ReviewConfig.parse({ every })), 'UTC').cronExpressions)).toEqual([
      ['0 9 1 * *'],
      ['0 9 1 1,7 *'],
      ['0 9 1 1 *'],
    ]);
  });

  it('reads durations in every unit the Duration schema admits', () => {
    expect(['250ms', '90s', '2 minutes', '1.5h', '3 days', '1 week'].map(durationMs)).toEqual([250, 90_000, 120_000, 5_400_000, 259_200_000, 604_800_000]);
    expect(() => durationMs('3 fortnights')).toThrow('"3 fortnights" is not a duration');
  });
});
