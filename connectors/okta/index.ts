import { createPrivateKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { ConfigError } from '../../core/errors.ts';
import { describeSecretRef, SecretRef } from '../../core/secrets.ts';
import type { Identity } from '../../core/records.ts';
import { defineConnector, type ConnectorContext } from '../contract.ts';
import * as errors from '../errors.ts';
import { oktaClient, type OktaAuth } from './client.ts';
import { OktaFactor, OktaGroup, OktaRole, OktaUser, userIdentity } from './mapping.ts';

export const OKTA_SCOPES = ['okta.users.read', 'okta.roles.read', 'okta.groups.read'] as const;

export const OktaConfig = z
  .strictObject({
    orgUrl: z.url({ protocol: /^https?$/ }).describe("The Okta organisation, as in https://example.okta.com (not the admin console's -admin host)."),
    token: SecretRef.optional().describe('An API token (sent as SSWS), created by an administrator holding the Read-only Administrator role.'),
    oauth: z
      .strictObject({
        clientId: z.string().min(1).describe('The client id of the API service app.'),
        keyId: z.string().min(1).optional().describe("The kid of the app's public key registered in Okta, when it has several."),
        privateKey: SecretRef.describe("The app's private key (PEM, RSA or EC P-256) whose public key is registered on the app."),
        scopes: z
          .array(z.enum(OKTA_SCOPES))
          .min(1)
          .default([...OKTA_SCOPES])
          .describe('The Okta API scopes asked for; the app must be granted them.'),
        dpop: z
          .boolean()
          .default(false)
          .describe(
            'Send DPoP proofs (RFC 9449, signed with a key made for each collection), as an app with "Require Demonstrating Proof of Possession (DPoP) header in token requests" demands.',
          ),
      })
      .optional()
      .describe('An OAuth 2.0 API service app authenticating with a private key (client credentials, private_key_jwt), instead of a token.'),
    pageSize: z.number().int().min(1).max(200).default(200).describe('Users asked for a page (Okta allows 200 at most).'),
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(4)
      .describe('Users whose factors, admin roles and groups are read at once: each user costs three requests.'),
    rateLimit: z
      .strictObject({
        maxRetries: z
          .number()
          .int()
          .min(0)
          .max(10)
          .default(3)
          .describe('Retries of a request within one attempt (rate limited, no answer, cut short) before the attempt fails.'),
        maxWaitSeconds: z
          .number()
          .int()
          .min(0)
          .max(3600)
          .default(120)
          .describe('The longest single wait; a later x-rate-limit-reset fails the attempt as throttled, retried later.'),
      })
      .prefault({})
      .describe("How Okta's 429 answers are waited out, until x-rate-limit-reset."),
  })
  .refine((config) => (config.token === undefined) !== (config.oauth === undefined), {
    path: ['token'],
    message: 'set exactly one of token (an API token) and oauth (a service app with a private key)',
  })
  .describe('An Okta organisation: every user with status, last sign-in, active MFA factors, admin roles and groups.');
export type OktaConfig = z.infer<typeof OktaConfig>;

const SECTIONS = ['users', 'deprovisioned'] as const;
type Section = (typeof SECTIONS)[number];
/** Where a retry resumes: the section and the id of the last user kept. Okta pages by that id (`after`), so nothing shifts between attempts. */
const Cursor = z.strictObject({ section: z.enum(SECTIONS), after: z.string().regex(/^[A-Za-z0-9]+$/) });
type Cursor = z.infer<typeof Cursor>;

export const okta = defineConnector({
  name: 'okta',
  kinds: ['identity'],
  version: '1',
  config: OktaConfig,
  async *collect(config, ctx) {
    const client = oktaClient({ orgUrl: config.orgUrl, auth: await authOf(config, ctx), rateLimit: config.rateLimit }, ctx);
    const tenant = new URL(config.orgUrl).host;
    const resume = ctx.resumeCursor === undefined ? undefined : resumeOf(ctx.resumeCursor);
    const counts = { users: 0, deprovisioned: 0, pages: 0, removedDuringCollection: 0 };
    const report = () => ctx.provenance({ ...counts, requests: client.waits.requests });
    ctx.provenance({
      api: 'Okta Management API v1',
      orgUrl: client.origin,
      auth: client.principal,
      pageSize: config.pageSize,
      ...(resume && { resumedFrom: resume }),
    });

    /** Okta lists every user but the deprovisioned by default; those are asked for by filter. */
    const list = (section: Section, after?: string) => {
      const params = new URLSearchParams({ limit: String(config.pageSize) });
      if (section === 'deprovisioned') params.set('filter', 'status eq "DEPROVISIONED"');
      if (after !== undefined) params.set('after', after);
      return `/api/v1/users?${params}`;
    };
    const all = async <T>(start: string, schema: z.ZodType<T[]>): Promise<T[]> => {
      const out: T[] = [];
      for (let url: string | undefined = start; url !== undefined;) {
        const page: { items: T[]; next: string | undefined } = await client.page(url, schema);
        out.push(...page.items);
        url = page.next;
      }
      return out;
    };
    /** A user's factors, admin roles and groups; undefined when the user was deleted after the listing named it. */
    const detailsOf = async (user: OktaUser) => {
      const path = `/api/v1/users/${encodeURIComponent(user.id)}`;
      try {
        const factors = await all(`${path}/factors`, z.array(OktaFactor));
        const roles = await all(`${path}/roles`, z.array(OktaRole));
        const groups = await all(`${path}/groups?limit=200`, z.array(OktaGroup));
        return { factors, roles, groups };
      } catch (error) {
        if (!(error instanceof errors.NotFoundError)) throw where(error, `user ${user.profile.login}`);
        counts.removedDuringCollection++;
        ctx.warn(`okta: user ${user.profile.login} (${user.id}) was deleted while the collection ran: not recorded`);
        return undefined;
      }
    };

    for (const section of SECTIONS) {
      if (resume && SECTIONS.indexOf(section) < SECTIONS.indexOf(resume.section)) continue;
      for (let url: string | undefined = list(section, resume?.section === section ? resume.after : undefined); url !== undefined;) {
        const page: { items: OktaUser[]; next: string | undefined } = await client.page(url, z.array(OktaUser)).catch((error: unknown) => {
          throw where(error, `${section} page ${counts.pages + 1}`);
        });
        counts.pages++;
        const records: Identity[] = [];
        // Bounded fan-out: `concurrency` users' details at a time, yielded in the listing's order.
        for (let i = 0; i < page.items.length; i += config.concurrency) {
          const batch = page.items.slice(i, i + config.concurrency);
          // allSettled: a failure waits for its siblings, so no request of this attempt is still running once it has failed.
          const settled = await Promise.allSettled(batch.map(detailsOf));
          const failed = settled.find((result) => result.status === 'rejected');
          if (failed) throw failed.reason;
          batch.forEach((user, j) => {
            const details = (settled[j] as PromiseFulfilledResult<Awaited<ReturnType<typeof detailsOf>>>).value;
            if (details) records.push(userIdentity(user, tenant, details));
          });
        }
        for (const record of records) {
          counts[section]++;
          yield record;
        }
        const last = page.items.at(-1);
        if (last !== undefined) await ctx.heartbeat(JSON.stringify({ section, after: last.id } satisfies Cursor));
        report();
        url = page.next;
      }
    }
    report();
  },
});

/** Prefixes a typed error with the connector and what was being read. */
function where(error: unknown, what: string): unknown {
  if (error instanceof errors.ConnectorError) return Object.assign(error, { message: `okta: ${what}: ${error.message}` });
  return error;
}

async function authOf(config: OktaConfig, ctx: ConnectorContext): Promise<OktaAuth> {
  if (config.token !== undefined) return { kind: 'token', token: (await ctx.secret(config.token)).reveal() };
  const oauth = config.oauth!; // the schema takes exactly one of token and oauth
  // A PEM kept in an environment variable often has its line breaks written as \n. The key text never enters a message.
  const pem = (await ctx.secret(oauth.privateKey)).reveal().replace(/\\n/g, '\n');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw new ConfigError(`okta: oauth.privateKey (${describeSecretRef(oauth.privateKey)}) is not a PEM private key`);
  }
  if (privateKey.asymmetricKeyType !== 'rsa' && !(privateKey.asymmetricKeyType === 'ec' && privateKey.asymmetricKeyDetails?.namedCurve === 'prime256v1')) {
    throw new ConfigError(
      `okta: oauth.privateKey (${describeSecretRef(oauth.privateKey)}) is a ${privateKey.asymmetricKeyType ?? 'unknown'} key; Okta takes RSA or EC P-256 keys`,
    );
  }
  return { kind: 'oauth', clientId: oauth.clientId, keyId: oauth.keyId, privateKey, scopes: oauth.scopes, dpop: oauth.dpop };
}

function resumeOf(cursor: string): Cursor {
  const parsed = Cursor.safeParse(
    (() => {
      try {
        return JSON.parse(cursor) as unknown;
      } catch {
        return undefined;
      }
    })(),
  );
  if (parsed.success) return parsed.data;
  throw new errors.MalformedResponseError(`okta: the resume cursor is not a section and a user id: ${cursor.slice(0, 200)}`);
}
