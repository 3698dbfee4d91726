import { z } from 'zod';
import { ConfigError } from '../../core/errors.ts';
import { SecretRef } from '../../core/secrets.ts';
import { defineConnector, type ConnectorContext } from '../contract.ts';
import { MalformedResponseError, PermissionError } from '../errors.ts';
import { Timezone } from '../dates.ts';
import { RetryTally } from '../kit/retries.ts';
import { parseResponse } from '../kit/validate.ts';
import { customReportUrl, fetchCustomReport } from './client.ts';
import { CustomReport, customReportRequest, ReportFields, toHrPerson, type ReportEmployee } from './mapping.ts';

/** Records between heartbeats; the cursor is the last employee id yielded. */
export const HEARTBEAT_EVERY_EMPLOYEES = 1_000;

const UNDATED_LEAVERS_NAMED = 10;

export const BambooHrConfig = z
  .strictObject({
    subdomain: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9-]*$/, 'a BambooHR subdomain such as "acme"')
      .describe("The company's BambooHR subdomain: `acme` for acme.bamboohr.com."),
    apiKey: SecretRef.describe('An API key of a BambooHR user who may run custom reports over every employee, as a secret reference.'),
    baseUrl: z
      .url({ protocol: /^https?$/ })
      .default('https://api.bamboohr.com/api/gateway.php')
      .describe("The API's base URL; the subdomain and `/v1/reports/custom` follow it."),
    fields: z
      .array(z.string().regex(/^[A-Za-z0-9_]+$/, 'a BambooHR field name such as "department"'))
      .default([])
      .describe('More BambooHR fields to keep under `raw` of every record, e.g. "department" or "jobTitle".'),
    timezone: Timezone.default('UTC').describe("The zone BambooHR's dates are days of; a termination date takes effect at the start of its day there."),
    maxRetries: z.number().int().min(0).max(10).default(4).describe('Retries of a throttled request (HTTP 429 or 503).'),
    retryBaseDelayMs: z
      .number()
      .int()
      .min(0)
      .default(1_000)
      .describe('Milliseconds before the first retry when BambooHR sends no Retry-After; each further wait doubles.'),
    maxRetryDelayMs: z.number().int().min(0).default(120_000).describe('The longest wait between retries; a Retry-After longer than this fails the request.'),
  })
  .describe('BambooHR employees, inactive ones included, as HR people, from a custom report.');
export type BambooHrConfig = z.infer<typeof BambooHrConfig>;

/** Employee ids are digit strings; ordering by value makes a resumed pull skip exactly what was yielded. */
function byId(a: ReportEmployee, b: ReportEmployee): number {
  const difference = BigInt(a.id) - BigInt(b.id);
  return difference < 0n ? -1 : difference > 0n ? 1 : 0;
}

function parsed<T>(schema: z.ZodType<T>, body: unknown): T {
  return parseResponse(schema, body, 'bamboohr: reports/custom');
}

/** The fields the report came back with; checked before the employees, whose shape depends on them. */
function returnedFields(body: unknown, ctx: ConnectorContext, requested: readonly string[]): void {
  const returned = new Set(parsed(ReportFields, body).fields.map((field) => field.id));
  // BambooHR leaves out the fields the API key's user may not see, rather than refusing the report.
  if (!returned.has('status')) {
    throw new PermissionError('bamboohr: reports/custom: the report has no status field: the API user may not see employment status');
  }
  if (!returned.has('terminationDate')) {
    ctx.warn('bamboohr: reports/custom: the report has no terminationDate field (the API user may not see it): no leaver carries a termination date');
  }
  const missing = requested.filter((field) => !returned.has(field));
  if (missing.length > 0) ctx.warn(`bamboohr: reports/custom: the report left out the requested field(s) ${missing.join(', ')}`);
}

function parseReport(body: unknown): CustomReport {
  const report = parsed(CustomReport, body);
  const firstIndexOf = new Map<string, number>();
  report.employees.forEach((employee, index) => {
    const first = firstIndexOf.get(employee.id);
    if (first !== undefined) {
      throw new MalformedResponseError(`bamboohr: reports/custom: field employees[${index}].id: employee id "${employee.id}" is also employees[${first}]`);
    }
    firstIndexOf.set(employee.id, index);
  });
  return report;
}

export const bambooHr = defineConnector({
  name: 'bamboohr',
  kinds: ['hr-person'],
  version: '1',
  config: BambooHrConfig,
  async *collect(config, ctx) {
    const apiKey = await ctx.secret(config.apiKey);
    if (apiKey.reveal() === '') throw new ConfigError('bamboohr: the API key is empty');
    if (ctx.resumeCursor !== undefined && !/^\d+$/.test(ctx.resumeCursor)) {
      throw new MalformedResponseError(`bamboohr: resume cursor "${ctx.resumeCursor}" is not an employee id`);
    }
    const request = customReportRequest(config.fields);
    const body = await fetchCustomReport({
      baseUrl: config.baseUrl,
      subdomain: config.subdomain,
      apiKey,
      body: request,
      retry: { maxRetries: config.maxRetries, baseMs: config.retryBaseDelayMs, capMs: config.maxRetryDelayMs, maxWaitMs: config.maxRetryDelayMs },
      signal: ctx.signal,
      tally: new RetryTally(ctx),
    });
    returnedFields(body, ctx, config.fields);
    const report = parseReport(body);
    ctx.provenance({
      api: 'BambooHR custom report',
      endpoint: customReportUrl(config.baseUrl, config.subdomain).toString(),
      fields: request.fields,
      employees: report.employees.length,
      timezone: config.timezone,
      ...(ctx.resumeCursor === undefined ? {} : { resumedAfterEmployeeId: ctx.resumeCursor }),
    });

    const resumeAfter = ctx.resumeCursor === undefined ? undefined : BigInt(ctx.resumeCursor);
    const undatedLeavers: string[] = [];
    let undatedCount = 0;
    let yielded = 0;
    for (const employee of [...report.employees].sort(byId)) {
      const person = toHrPerson(employee, config.timezone, config.fields);
      if (person.status === 'leaver' && person.terminationDate === null) {
        undatedCount += 1;
        if (undatedLeavers.length < UNDATED_LEAVERS_NAMED) undatedLeavers.push(person.employeeId);
      }
      if (resumeAfter !== undefined && BigInt(employee.id) <= resumeAfter) continue;
      yield person;
      yielded += 1;
      if (yielded % HEARTBEAT_EVERY_EMPLOYEES === 0) await ctx.heartbeat(employee.id);
    }
    if (undatedCount > 0) {
      const more = undatedCount > undatedLeavers.length ? ` and ${undatedCount - undatedLeavers.length} more` : '';
      ctx.warn(
        `bamboohr: ${undatedCount} inactive employee(s) have no termination date, so no revocation deadline can be checked for them: employee id ${undatedLeavers.join(', ')}${more}`,
      );
    }
  },
});
