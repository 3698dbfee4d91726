import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MalformedResponseError } from '../../../connectors/errors.ts';
import { nextPageToken, parseResponse } from '../../../connectors/kit/validate.ts';

const Page = z.object({ users: z.array(z.object({ id: z.string(), email: z.email() })), next: z.string().optional() });

describe('parseResponse', () => {
  it('returns what the schema makes of a good answer', () => {
    expect(parseResponse(Page, { users: [{ id: '1', email: 'a@example.com' }] }, 'src: users page 1')).toEqual({
      users: [{ id: '1', email: 'a@example.com' }],
    });
  });

  it('names where and the field path, without quoting the value', () => {
    const error = (() => {
      try {
        parseResponse(
          Page,
          {
            users: [
              { id: '1', email: 'a@example.com' },
              { id: 2, email: 'hunter2-not-an-email' },
            ],
          },
          'src: users page 3',
        );
      } catch (caught) {
        return caught as Error;
      }
      throw new Error('expected a MalformedResponseError');
    })();
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toBe(
      'src: users page 3: field users[1].id: Invalid input: expected string, received number; field users[1].email: Invalid email address',
    );
    expect(error.message).not.toContain('hunter2');
  });
});

describe('nextPageToken', () => {
  it('ends the listing on an absent or empty token and refuses one that repeats the token sent', () => {
    expect(nextPageToken(undefined, 'a', 'src: x', 'NextToken')).toBeUndefined();
    expect(nextPageToken('', 'a', 'src: x', 'NextToken')).toBeUndefined();
    expect(nextPageToken('b', 'a', 'src: x', 'NextToken')).toBe('b');
    expect(() => nextPageToken('a', 'a', 'src: x page 2', 'NextToken')).toThrow(
      new MalformedResponseError('src: x page 2: field NextToken: repeats the token of the page it answers, so the listing would never end'),
    );
  });
});
