import type { HrPerson, Identity } from '../core/records.ts';
import type { Random } from './common.ts';

/**
 * Seeded normalized records shaped like a mid-size company's: people in an HR export and their accounts across
 * AWS IAM, Google Workspace and Entra ID, plus service accounts, guests and local IAM users. The rates below are
 * chosen so that each access check finds a few per cent, as a real review does, not none and not most.
 */

const GIVEN = [
  'james',
  'mary',
  'robert',
  'patricia',
  'john',
  'jennifer',
  'michael',
  'linda',
  'david',
  'elizabeth',
  'william',
  'barbara',
  'richard',
  'susan',
  'joseph',
  'jessica',
  'thomas',
  'sarah',
  'chris',
  'karen',
  'daniel',
  'lisa',
  'matthew',
  'nancy',
  'anthony',
  'betty',
  'mark',
  'sandra',
  'donald',
  'ashley',
];
const FAMILY = [
  'smith',
  'johnson',
  'williams',
  'brown',
  'jones',
  'garcia',
  'miller',
  'davis',
  'rodriguez',
  'martinez',
  'hernandez',
  'lopez',
  'gonzalez',
  'wilson',
  'anderson',
  'thomas',
  'taylor',
  'moore',
  'jackson',
  'martin',
  'lee',
  'perez',
  'thompson',
  'white',
  'harris',
  'sanchez',
  'clark',
  'ramirez',
  'lewis',
  'robinson',
];
const GROUPS = ['engineering', 'finance', 'sales', 'support', 'platform', 'security', 'data', 'hr', 'legal', 'marketing'];
const SERVICES = ['s3', 'sts', 'ec2', 'lambda', 'dynamodb', 'sqs', 'iam'];
const REGIONS = ['us-east-1', 'eu-west-1', 'eu-central-1', 'ap-southeast-2'];

export const COMPANY_DOMAIN = 'corp.example';

export interface PersonName {
  given: string;
  family: string;
}

export function personName(random: Random): PersonName {
  return { given: random.pick(GIVEN), family: random.pick(FAMILY) };
}

/** `count` people; about 6 % have left (most long enough ago that the revocation SLA has run out), 1 % are serving notice. */
export function generatePeople(random: Random, count: number): HrPerson[] {
  const people: HrPerson[] = [];
  for (let n = 0; n < count; n++) {
    const { given, family } = personName(random);
    const email = `${given}.${family}${n}@${COMPANY_DOMAIN}`;
    const roll = random.float();
    const leaver = roll < 0.06;
    const notice = !leaver && roll < 0.07;
    const terminationDate = leaver ? random.daysBefore(0, 400) : notice ? random.daysBefore(-30, -1) : null;
    people.push({
      kind: 'hr-person',
      source: 'hr-csv',
      employeeId: `E${String(n).padStart(6, '0')}`,
      email,
      aliases: random.chance(0.2) ? [`${given[0]}${family}${n}@${COMPANY_DOMAIN}`] : [],
      displayName: `${given} ${family}`,
      status: leaver || notice ? 'leaver' : 'active',
      terminationDate,
      lastWorkingDay: terminationDate,
      manager: n === 0 ? null : `E${String(random.int(0, Math.max(0, n - 1))).padStart(6, '0')}`,
      raw: { department: random.pick(GROUPS), location: random.pick(['Berlin', 'London', 'Austin', 'Sydney']) },
    });
  }
  return people;
}

type Source = 'aws-iam' | 'google-workspace' | 'microsoft-graph';

function lastLogin(random: Random, source: Source): Identity['lastLoginAt'] {
  const roll = random.float();
  if (roll < 0.01) return null;
  // Entra ID without a P1/P2 licence cannot tell.
  if (source === 'microsoft-graph' && roll < 0.03) return 'unknown';
  if (roll < 0.06) return random.daysBefore(91, 500);
  return random.daysBefore(0, 60);
}

function accessKeys(random: Random, keys: number): Identity['credentials'] {
  const credentials: Identity['credentials'] = [];
  for (let k = 0; k < keys; k++) {
    const stale = random.chance(0.08);
    credentials.push({
      kind: 'access-key',
      id: `AKIA${random.hex(16).toUpperCase()}`,
      active: random.chance(0.9),
      createdAt: stale ? random.daysBefore(120, 900) : random.daysBefore(1, 85),
      lastUsedAt: random.chance(0.1) ? null : stale ? random.daysBefore(50, 300) : random.daysBefore(0, 30),
    });
  }
  return credentials;
}

/**
 * `count` identities. About 84 % belong to a person (by primary email, an alias, a plus-tagged address or a case
 * variant), 10 % are service accounts, 4 % are guests or contractors HR does not know, 2 % local IAM users with bare
 * usernames. A leaver's account is revoked four times in five.
 */
export function generateIdentities(random: Random, count: number, people: readonly HrPerson[]): Identity[] {
  const identities: Identity[] = [];
  const iamAccounts = Array.from({ length: 200 }, (_, i) => String(100_000_000_000 + i * 7_919));
  for (let n = 0; n < count; n++) {
    const sourceRoll = random.float();
    const source: Source = sourceRoll < 0.5 ? 'aws-iam' : sourceRoll < 0.75 ? 'google-workspace' : 'microsoft-graph';
    const tenant = source === 'aws-iam' ? random.pick(iamAccounts) : source === 'google-workspace' ? 'C03az79cb' : '00000000-0000-4000-8000-00000000aaaa';
    const kindRoll = random.float();
    let username: string;
    let email: string | null;
    let owner: HrPerson | undefined;
    if (kindRoll < 0.84 && people.length > 0) {
      owner = random.pick(people);
      const primary = owner.email ?? `nobody${n}@${COMPANY_DOMAIN}`;
      const variant = random.float();
      email = variant < 0.05 && owner.aliases[0] ? owner.aliases[0] : variant < 0.08 ? primary.replace('@', `+${random.pick(GROUPS)}@`) : primary;
      username = variant > 0.97 ? email.toUpperCase() : email;
    } else if (kindRoll < 0.94) {
      const name = `${random.pick(GROUPS)}-${random.hex(6)}`;
      username = random.chance(0.5) ? `svc-${name}` : random.chance(0.5) ? `${name}-bot` : `${name}@isms-prod.iam.gserviceaccount.com`;
      email = null;
    } else if (kindRoll < 0.98) {
      const { given, family } = { given: random.pick(GIVEN), family: random.pick(FAMILY) };
      email = `${given}.${family}${n}@partner.example`;
      username = source === 'microsoft-graph' ? `${given}.${family}${n}_partner.example#EXT#@corp.onmicrosoft.com` : email;
    } else {
      username = `${random.pick(GIVEN)}${n}`;
      email = null;
    }

    let status: Identity['status'] = 'active';
    const statusRoll = random.float();
    if (owner?.status === 'leaver' && random.chance(0.8)) status = source === 'aws-iam' ? 'deleted' : source === 'google-workspace' ? 'suspended' : 'disabled';
    else if (statusRoll < 0.02) status = source === 'aws-iam' ? 'deleted' : 'suspended';
    else if (statusRoll < 0.04) status = 'disabled';

    const mfaRoll = random.float();
    const id =
      source === 'microsoft-graph'
        ? random.uuid()
        : source === 'google-workspace'
          ? String(100_000_000_000_000_000_000n + BigInt(n))
          : `AIDA${random.hex(17).toUpperCase()}`;
    const groups = Array.from({ length: random.int(0, 3) }, () => random.pick(GROUPS));
    const identity: Identity = {
      kind: 'identity',
      source,
      tenant,
      id,
      username,
      email,
      displayName: owner?.displayName ?? null,
      status,
      privileged: random.chance(0.03),
      mfaEnabled: source === 'microsoft-graph' && mfaRoll < 0.02 ? 'unknown' : mfaRoll < 0.05 ? false : true,
      lastLoginAt: lastLogin(random, source),
      createdAt: random.daysBefore(30, 2000),
      credentials: source === 'aws-iam' && random.chance(0.35) ? accessKeys(random, random.int(1, 2)) : [],
      groups,
      raw:
        source === 'aws-iam'
          ? { arn: `arn:aws:iam::${tenant}:user/${username}`, path: '/' }
          : source === 'google-workspace'
            ? {
                aliases: random.chance(0.1) && email ? [email.replace('@', '.alt@')] : [],
                orgUnitPath: `/${random.pick(GROUPS)}`,
                isEnforcedIn2Sv: random.chance(0.5),
              }
            : { userType: owner ? 'Member' : 'Guest', mfaMethodsRegistered: ['microsoftAuthenticatorPush'] },
    };
    identities.push(identity);
  }
  return identities;
}

/** An access key used recently in a region, for raw fields that look like IAM's. */
export function lastUsedService(random: Random): { region: string; service: string } {
  return { region: random.pick(REGIONS), service: random.pick(SERVICES) };
}
