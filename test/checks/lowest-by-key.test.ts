import { describe, expect, it } from 'vitest';
import { LowestByKey } from '../../checks/kit/lowest-by-key.ts';

describe('LowestByKey', () => {
  it('holds the lowest number of every key, as a Map would, across growth of its buffer and table', () => {
    const table = new LowestByKey();
    const expected = new Map<string, number>();
    let seed = 7;
    const next = () => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0);
    for (let i = 0; i < 50_000; i++) {
      // Keys repeat (a subject seen in several scans), vary in length and include non-ASCII text.
      const key = `CVE-${next() % 3000}|pkg-${next() % 20}@1.${'0'.repeat(next() % 40)}${i % 7 === 0 ? '-é✓' : ''}`;
      const value = next() % 1_000_000;
      table.keepLowest(key, value);
      const known = expected.get(key);
      if (known === undefined || value < known) expected.set(key, value);
    }
    expect(table.size).toBe(expected.size);
    for (const [key, value] of expected) expect(table.get(key)).toBe(value);
    expect(table.get('CVE-1|not-seen')).toBeUndefined();
  });

  it('tells keys apart that share a hash slot or a prefix', () => {
    const table = new LowestByKey();
    table.keepLowest('a', 3);
    table.keepLowest('ab', 2);
    table.keepLowest('', 1);
    table.keepLowest('a', 5);
    expect([table.get('a'), table.get('ab'), table.get(''), table.get('b')]).toEqual([3, 2, 1, undefined]);
  });
});
