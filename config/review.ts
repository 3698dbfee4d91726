import type { LoadedConfig, ResolvedControl } from './load.ts';
import { ConfigError } from '../core/errors.ts';
import type { ReviewCadence, ReviewConfig } from './review-schema.ts';
import type { Duration, Schedule } from './schedule.ts';

/** Cadences as cron schedules in the config's zone: the 1st of each period at 09:00, when people are at work. */
const CADENCE_SCHEDULES: Record<ReviewCadence, Schedule> = {
  monthly: { cron: '0 9 1 * *' },
  quarterly: { cron: '0 9 1 1,4,7,10 *' },
  semiannually: { cron: '0 9 1 1,7 *' },
  annually: { cron: '0 9 1 1 *' },
};

export function reviewScheduleOf(review: ReviewConfig): Schedule {
  return typeof review.every === 'string' ? CADENCE_SCHEDULES[review.every] : review.every;
}

/**
 * The period a campaign opened at `at` stands for, in the config's zone: 2026-11, 2026-Q4, 2026-H2, 2026, or the
 * day (2026-11-25) for a custom schedule. A period has one campaign: opening it twice attaches to the first.
 */
export function reviewPeriodOf(review: ReviewConfig, at: Date, timezone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' })
      .formatToParts(at)
      .map((part) => [part.type, part.value]),
  );
  const year = parts['year'] ?? '0000';
  const month = Number(parts['month']);
  switch (review.every) {
    case 'monthly':
      return `${year}-${parts['month']}`;
    case 'quarterly':
      return `${year}-Q${Math.ceil(month / 3)}`;
    case 'semiannually':
      return `${year}-H${month <= 6 ? 1 : 2}`;
    case 'annually':
      return year;
    default:
      return `${year}-${parts['month']}-${parts['day']}`;
  }
}

export const REVIEW_ID_PREFIX = 'review:';

/** The campaign's id, which is also its workflow id: one campaign per control and period. */
export function campaignIdOf(controlId: string, period: string): string {
  return `${REVIEW_ID_PREFIX}${controlId}:${period}`;
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Milliseconds of a duration the Duration schema admitted ("90s", "10 minutes", "3 days"). */
export function durationMs(duration: Duration): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/i.exec(duration.trim());
  const unit = match?.[2]?.toLowerCase() ?? '';
  const key = unit.startsWith('ms') || unit.startsWith('milli') ? 'ms' : unit.startsWith('mo') ? '' : (unit[0] ?? '');
  const factor = DURATION_UNITS_MS[key];
  if (!match || factor === undefined) throw new ConfigError(`"${duration}" is not a duration such as "90s", "10 minutes" or "3 days"`);
  return Number(match[1]) * factor;
}

/** A control's review with its sources resolved against the control: what campaigns, schedules and the CLI work from. */
export interface ResolvedReview {
  controlId: string;
  review: ReviewConfig;
  /** Identity sources whose accounts are reviewed. */
  sources: string[];
  /** HR sources that say whose each account is (owner, leaver, orphan). */
  peopleSources: string[];
  reviewerOf(sourceName: string): string;
}

/**
 * The review of a control, checked against its sources: every named source must be an identity source of the
 * control, and every reviewer must be keyed by one. Errors name the config path, as `isms config check` does.
 */
export function resolveReview(loaded: LoadedConfig, controlId: string): ResolvedReview {
  const control = loaded.controls.get(controlId);
  if (!control) throw new ConfigError(`no control "${controlId}" in ${loaded.file} (controls: ${[...loaded.controls.keys()].join(', ')})`);
  const review = control.control.review;
  if (!review) throw new ConfigError(`control ${controlId} in ${loaded.file} has no review: add a \`review:\` section to open access review campaigns`);
  return resolveControlReview(loaded, control, review);
}

function resolveControlReview(loaded: LoadedConfig, control: ResolvedControl, review: ReviewConfig): ResolvedReview {
  const controlId = control.control.id;
  const position = loaded.config.controls.findIndex((candidate) => candidate.id === controlId);
  const identitySources = control.sources.filter((source) => source.connector.kinds.includes('identity')).map((source) => source.name);
  const peopleSources = control.sources.filter((source) => source.connector.kinds.includes('hr-person')).map((source) => source.name);
  const at = (...rest: (string | number)[]) => `controls[${position}].review${rest.map((key) => (typeof key === 'number' ? `[${key}]` : `.${key}`)).join('')}`;
  const issues: string[] = [];
  review.sources?.forEach((name, n) => {
    if (!identitySources.includes(name))
      issues.push(
        `${at('sources', n)}: "${name}" is not an identity source of control ${controlId} (identity sources: ${identitySources.join(', ') || 'none'})`,
      );
  });
  const sources = review.sources ?? identitySources;
  for (const name of Object.keys(review.reviewers)) {
    if (!sources.includes(name)) issues.push(`${at('reviewers', name)}: "${name}" is not a source under review (${sources.join(', ') || 'none'})`);
  }
  if (sources.length === 0) issues.push(`${at('sources')}: control ${controlId} has no identity source to review`);
  if (issues.length > 0) throw new ConfigError(`${loaded.file}: invalid access review of control ${controlId}`, issues);
  return { controlId, review, sources, peopleSources, reviewerOf: (sourceName) => review.reviewers[sourceName] ?? control.control.owner };
}

/** Every control with a review, resolved; the first invalid one throws. */
export function reviewsOf(loaded: LoadedConfig): ResolvedReview[] {
  return [...loaded.controls.values()].flatMap((control) => (control.control.review ? [resolveControlReview(loaded, control, control.control.review)] : []));
}
