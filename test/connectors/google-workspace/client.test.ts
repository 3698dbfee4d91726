import { describe, expect, it } from 'vitest';
import { backoffMs } from '../../../connectors/google-workspace/client.ts';

describe('google-workspace backoffMs', () => {
  it.each([
    { retry: 0, random: 0, expected: 500 },
    { retry: 0, random: 1, expected: 1000 },
    { retry: 1, random: 0, expected: 1000 },
    { retry: 3, random: 1, expected: 8000 },
    { retry: 3, random: 0.5, expected: 6000 },
    { retry: 10, random: 1, expected: 64_000 },
    { retry: 10, random: 0, expected: 32_000 },
  ])('retry $retry with jitter $random waits $expected ms on a 1 s base', ({ retry, random, expected }) => {
    expect(backoffMs(retry, 1000, () => random)).toBe(expected);
  });

  it('spreads concurrent callers over the upper half of the ceiling', () => {
    const delays = Array.from({ length: 200 }, () => backoffMs(2, 1000));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(2000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(4000);
    expect(new Set(delays).size).toBeGreaterThan(50);
  });
});
