import { describe, expect, it } from 'vitest';
import { createRedactor } from '../../src/audit/redact.ts';
import { shownError, UNREADABLE_ERROR } from '../../src/audit/shown.ts';
import { secretScrubber } from '../../src/secrets/scrubber.ts';
import { scrubbingRedactor } from '../../src/secrets/scrubbing.ts';

const KEY = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc';
const SECRET = 'correct-horse-battery-staple-42';

describe('shownError', () => {
  it('redacts the name with the message and stack, keeping the object and its enumerability', () => {
    const error = Object.assign(new Error(`bad ${KEY}`), { name: `AuthError ${KEY}` });
    expect(shownError(error, createRedactor({}))).toBe(error);
    expect(error.name).not.toContain(KEY);
    expect(error.message).not.toContain(KEY);
    expect(Object.keys(error)).toEqual(['name']);
  });

  it('with a scrubber, scrubs all of what was thrown: properties, causes, and values that are not errors', () => {
    const scrubber = secretScrubber();
    scrubber.add('k', SECRET);
    const redactor = scrubbingRedactor(createRedactor({}), scrubber);
    const error = new Error('failed', { cause: `for ${SECRET}` });
    Object.assign(error, { response: { data: SECRET } });
    expect(shownError(error, redactor, scrubber)).toBe(error);
    expect(JSON.stringify(error)).toBe('{"response":{"data":"[secret:k]"}}');
    expect(error.cause).toBe('for [secret:k]');
    expect(shownError({ key: SECRET }, redactor, scrubber)).toEqual({ key: '[secret:k]' });
    expect(shownError(SECRET, redactor, scrubber)).toBe('[secret:k]');
    // Without the scrubber, only name, message and stack are redacted (no secrets configured).
    const other = Object.assign(new Error('x'), { data: SECRET });
    expect(shownError(other, redactor)).toBe(other);
  });

  it('withholds an error whose reading throws', () => {
    const scrubber = secretScrubber();
    scrubber.add('k', SECRET);
    const error = new Error('x');
    Object.defineProperty(error, 'cause', {
      get() {
        throw new Error(SECRET);
      },
    });
    const shown = shownError(error, createRedactor({}), scrubber) as Error;
    expect(shown.message).toBe(UNREADABLE_ERROR);
  });
});
