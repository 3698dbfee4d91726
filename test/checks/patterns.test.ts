import { describe, expect, it } from 'vitest';
import { matchesPattern, patternMatcher } from '../../checks/kit/patterns.ts';

describe('patternMatcher', () => {
  const serviceAccounts = patternMatcher(['svc-*', '*-bot', '*@*.iam.gserviceaccount.com']);

  it.each([
    { name: 'svc-deploy', expected: true },
    { name: 'SVC-Deploy', expected: true },
    { name: 'svc-', expected: true },
    { name: 'my-svc-deploy', expected: false },
    { name: 'release-bot', expected: true },
    { name: 'release-bot-2', expected: false },
    { name: 'ci@project.iam.gserviceaccount.com', expected: true },
    { name: 'ci@project.iam.gserviceaccount.com.evil', expected: false },
    { name: 'ci@projectXiamXgserviceaccountXcom', expected: false },
    { name: 'svc-a\nb', expected: false },
    { name: 'jane@example.com', expected: false },
    { name: '', expected: false },
  ])('$name against the service-account patterns: $expected', ({ name, expected }) => {
    expect(serviceAccounts(name)).toBe(expected);
  });

  it('matches a name when any one pattern matches it whole, as each pattern alone would', () => {
    const patterns = ['a|b', '(x)*', 'dot.', 'c[1]', 'plain'];
    const names = ['a|b', 'a', 'b', '(x)', '(x)anything', 'x', 'dot.', 'dotX', 'c[1]', 'c1', 'PLAIN', 'plainer', ''];
    const all = patternMatcher(patterns);
    for (const name of names) expect(all(name), name).toBe(patterns.some((pattern) => matchesPattern(pattern, name)));
  });

  it('matches nothing, not even an empty name, without patterns', () => {
    const none = patternMatcher([]);
    expect(['', 'root', '*'].map(none)).toEqual([false, false, false]);
  });
});
