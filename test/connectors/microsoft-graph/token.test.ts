import type { AccessToken, TokenCredential } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { reusedToken, TOKEN_REFRESH_MARGIN_MS } from '../../../connectors/microsoft-graph/client.ts';

const HOUR = 3_600_000;

/** A credential that hands out numbered tokens valid for an hour from the clock's time, or fails when told to. */
function countingCredential(clock: { now: number }, options: { refreshAfterMs?: number } = {}) {
  const state = { calls: 0, fail: false };
  const credential: TokenCredential = {
    async getToken(): Promise<AccessToken | null> {
      state.calls++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (state.fail) throw new Error('AADSTS7000215: Invalid client secret provided.');
      return {
        token: `token-${state.calls}`,
        expiresOnTimestamp: clock.now + HOUR,
        ...(options.refreshAfterMs === undefined ? {} : { refreshAfterTimestamp: clock.now + options.refreshAfterMs }),
      };
    },
  };
  return { credential, state };
}

describe('reusedToken', () => {
  it('reuses the token until the refresh margin before it expires, then fetches a new one', async () => {
    const clock = { now: 1_000_000 };
    const { credential, state } = countingCredential(clock);
    const reused = reusedToken(credential, () => clock.now);
    expect((await reused.getToken('scope'))?.token).toBe('token-1');
    clock.now += HOUR - TOKEN_REFRESH_MARGIN_MS - 1;
    expect((await reused.getToken('scope'))?.token).toBe('token-1');
    clock.now += 1;
    expect((await reused.getToken('scope'))?.token).toBe('token-2');
    expect(state.calls).toBe(2);
  });

  it("refreshes at MSAL's refreshAfterTimestamp when that comes first", async () => {
    const clock = { now: 0 };
    const { credential } = countingCredential(clock, { refreshAfterMs: 10 * 60_000 });
    const reused = reusedToken(credential, () => clock.now);
    await reused.getToken('scope');
    clock.now += 10 * 60_000;
    expect((await reused.getToken('scope'))?.token).toBe('token-2');
  });

  it('shares one fetch between requests that ask at the same time', async () => {
    const clock = { now: 0 };
    const { credential, state } = countingCredential(clock);
    const reused = reusedToken(credential, () => clock.now);
    const tokens = await Promise.all([reused.getToken('scope'), reused.getToken('scope'), reused.getToken('scope')]);
    expect(tokens.map((token) => token?.token)).toEqual(['token-1', 'token-1', 'token-1']);
    expect(state.calls).toBe(1);
  });

  it('keeps no failed fetch: the next request asks again', async () => {
    const clock = { now: 0 };
    const { credential, state } = countingCredential(clock);
    const reused = reusedToken(credential, () => clock.now);
    state.fail = true;
    await expect(reused.getToken('scope')).rejects.toThrow(/AADSTS7000215/);
    state.fail = false;
    expect((await reused.getToken('scope'))?.token).toBe('token-2');
  });
});
