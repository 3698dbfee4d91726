import { describe, expect, it } from 'vitest';
import { identityStatus, mfaEnabled, type OktaFactor } from '../../../connectors/okta/mapping.ts';

const factor = (factorType: string, status: string): OktaFactor => ({ id: 'f', factorType, status });

describe('okta mapping', () => {
  it('maps each Okta lifecycle status; an unknown one is taken as active, so checks flag it', () => {
    const statuses = ['ACTIVE', 'PROVISIONED', 'RECOVERY', 'PASSWORD_EXPIRED', 'LOCKED_OUT', 'STAGED', 'SUSPENDED', 'DEPROVISIONED', 'SOMETHING_NEW'];
    expect(statuses.map(identityStatus)).toEqual(['active', 'active', 'active', 'active', 'active', 'suspended', 'suspended', 'disabled', 'active']);
  });

  it('counts MFA only from an ACTIVE factor that is not a security question', () => {
    expect(mfaEnabled([])).toBe(false);
    expect(mfaEnabled([factor('push', 'PENDING_ACTIVATION'), factor('sms', 'NOT_SETUP')])).toBe(false);
    expect(mfaEnabled([factor('question', 'ACTIVE')])).toBe(false);
    expect(mfaEnabled([factor('question', 'ACTIVE'), factor('webauthn', 'ACTIVE')])).toBe(true);
  });
});
