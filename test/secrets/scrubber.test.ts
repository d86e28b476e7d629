import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { secretScrubber } from '../../src/secrets/scrubber.ts';
import { fakeClock } from '../../src/testing/fakes.ts';
import { scrubberWith } from './scrubber-with.ts';

const STRIPE = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc';
const b64 = (text: string) => Buffer.from(text).toString('base64');
const b64url = (text: string) => Buffer.from(text).toString('base64url');

describe('secretScrubber', () => {
  it('replaces the value and its encodings by a marker naming the secret', () => {
    const scrub = scrubberWith({ stripe: STRIPE, pw: 'p@ss w/rd+"é"' });
    const cases: [string, string][] = [
      [`key=${STRIPE}.`, 'key=[secret:stripe].'],
      [`b64 ${b64(STRIPE)} end`, 'b64 [secret:stripe] end'],
      [`hex ${Buffer.from(STRIPE).toString('hex').toUpperCase()}`, 'hex [secret:stripe]'],
      [`url ?k=${encodeURIComponent('p@ss w/rd+"é"')}&x`, 'url ?k=[secret:pw]&x'],
      [
        `lower ${encodeURIComponent('p@ss w/rd+"é"').replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())}`,
        'lower [secret:pw]',
      ],
      [`form ${new URLSearchParams({ k: 'p@ss w/rd+"é"' })}`, 'form k=[secret:pw]'],
      [`json {"k":${JSON.stringify('p@ss w/rd+"é"')}}`, 'json {"k":"[secret:pw]"}'],
      [`b64url ${b64url('p@ss w/rd+"é"')}`, 'b64url [secret:pw]'],
      ['nothing here', 'nothing here'],
    ];
    for (const [input, expected] of cases) expect(scrub.text(input), input).toBe(expected);
  });

  it('finds base64 of a longer string at each of the three alignments', () => {
    const scrub = scrubberWith({ stripe: STRIPE });
    for (const prefix of ['', 'a', 'ab', 'abc', 'user:', 'Bearer ']) {
      for (const suffix of ['', '!', '!!', '\n']) {
        for (const encode of [b64, b64url]) {
          const encoded = encode(`${prefix}${STRIPE}${suffix}`);
          const out = scrub.text(`Authorization: Basic ${encoded}`);
          expect(out, `${prefix}|${suffix}`).toContain('[secret:stripe]');
          // What is left of the encoding carries at most two symbols of the value at each end.
          const kept = out.replace('Authorization: Basic ', '').replace('[secret:stripe]', '');
          expect(kept.length).toBeLessThanOrEqual(
            Math.ceil(((prefix.length + suffix.length) * 4) / 3) + 4 + 2,
          );
        }
      }
    }
  });

  it('scrubs deeply: strings, keys, arrays, errors in place (message, stack, cause), cycles', () => {
    const scrub = scrubberWith({ stripe: STRIPE });
    const clean = { a: [1, 'two', { three: null }], b: true };
    expect(scrub.value(clean)).toBe(clean);
    const error = new Error(`charge failed for ${STRIPE}`, { cause: new Error(`inner ${b64(STRIPE)}`) });
    (error as Error & { response?: unknown }).response = { body: `{"key":"${STRIPE}"}` };
    const input: Record<string, unknown> = { [STRIPE]: 'as key', list: [`x ${STRIPE}`, 7], error };
    input.self = input;
    const out = scrub.value(input) as Record<string, unknown>;
    expect(out).not.toBe(input);
    expect(Object.keys(out)).toEqual(['[secret:stripe]', 'list', 'error', 'self']);
    expect(out.list).toEqual(['x [secret:stripe]', 7]);
    expect(out.self).toBe(out);
    expect(out.error).toBe(error);
    expect(error.message).toBe('charge failed for [secret:stripe]');
    expect(error.stack).not.toContain(STRIPE);
    expect(error.stack).toContain('[secret:stripe]');
    expect((error.cause as Error).message).toBe('inner [secret:stripe]');
    expect(JSON.stringify((error as Error & { response?: unknown }).response)).not.toContain(STRIPE);
    expect(input[STRIPE]).toBe('as key');
    // A frozen error cannot be changed: a scrubbed copy takes its place.
    const frozen = Object.freeze(new TypeError(`bad ${STRIPE}`));
    const replaced = scrub.value(frozen);
    expect(replaced).not.toBe(frozen);
    expect(replaced.message).toBe('bad [secret:stripe]');
    expect(replaced.name).toBe('TypeError');
    expect(scrub.test(frozen)).toBe(true);
    expect(scrub.test(replaced)).toBe(false);
  });

  it('keeps values for the retention, rotated ones included, then forgets them', () => {
    const clock = fakeClock();
    const scrub = secretScrubber({ now: clock.now, retention: '24h' });
    scrub.add('stripe', 'sk_old_value_111');
    clock.advance(3_600_000);
    scrub.add('stripe', 'sk_new_value_222');
    expect(scrub.text('sk_old_value_111 sk_new_value_222')).toBe('[secret:stripe] [secret:stripe]');
    clock.advance(23 * 3_600_000);
    expect(scrub.text('sk_old_value_111 sk_new_value_222')).toBe('sk_old_value_111 [secret:stripe]');
    expect(scrub.size).toBe(1);
    // Handing a value out again starts its retention over.
    scrub.add('stripe', 'sk_new_value_222');
    clock.advance(3_600_000 + 1);
    expect(scrub.text('sk_new_value_222')).toBe('[secret:stripe]');
  });

  it('refuses values too short to find, and values that occur in a marker', () => {
    const scrub = secretScrubber();
    expect(() => scrub.add('pin', '1234')).toThrow(/shorter than 8/);
    expect(() => scrub.add('abc', '[secret:abc]')).toThrow(/marker/);
    expect(() => scrub.add('../x', 'long enough value')).toThrow(/secret name/);
    expect(() => secretScrubber({ maxValues: 0 })).toThrow();
  });

  it('forgets the oldest beyond maxValues', () => {
    const scrub = secretScrubber({ maxValues: 2 });
    scrub.add('a', 'value-aaaaaaaa');
    scrub.add('b', 'value-bbbbbbbb');
    scrub.add('c', 'value-cccccccc');
    expect(scrub.size).toBe(2);
    expect(scrub.text('value-aaaaaaaa value-cccccccc')).toBe('value-aaaaaaaa [secret:c]');
  });

  it('property: no value survives, raw or encoded, in any output', () => {
    const secret = fc
      .string({ unit: 'binary', minLength: 8, maxLength: 40 })
      .filter((value) => !/\p{Cs}/u.test(value) && !value.includes('[secret:'));
    const filler = fc.string({ unit: 'binary-ascii', maxLength: 20 });
    const fragment = (values: string[]) =>
      fc.oneof(
        filler,
        fc
          .record({ i: fc.nat(), prefix: filler, suffix: filler, url: fc.boolean() })
          .map(({ i, prefix, suffix, url }) => {
            const value = values[i % values.length]!;
            const bytes = Buffer.from(`${prefix}${value}${suffix}`);
            return bytes.toString(url ? 'base64url' : 'base64');
          }),
        fc
          .record({ i: fc.nat(), form: fc.constantFrom('raw', 'hex', 'HEX', 'uri', 'json', 'form') })
          .map(({ i, form }) => {
            const value = values[i % values.length]!;
            switch (form) {
              case 'hex':
                return Buffer.from(value).toString('hex');
              case 'HEX':
                return Buffer.from(value).toString('hex').toUpperCase();
              case 'uri':
                return encodeURIComponent(value);
              case 'json':
                return JSON.stringify({ v: value });
              case 'form':
                return new URLSearchParams({ v: value }).toString();
              default:
                return value;
            }
          }),
      );
    fc.assert(
      fc.property(
        fc
          .array(secret, { minLength: 1, maxLength: 4 })
          .chain((values) =>
            fc.tuple(
              fc.constant(values),
              fc.array(fragment(values), { maxLength: 8 }),
              fc.array(fragment(values), { maxLength: 3 }),
            ),
          ),
        ([values, parts, keyParts]) => {
          const scrub = secretScrubber();
          const accepted = values.filter((value, i) => {
            try {
              scrub.add(`s${i}`, value);
              return true;
            } catch {
              return false;
            }
          });
          fc.pre(accepted.length === values.length);
          const text = parts.join('');
          const error = new Error(text, { cause: { detail: parts.join(' ') } });
          const input = { text, list: [...parts], [keyParts.join('')]: 1, error };
          const out = scrub.value(input) as typeof input;
          const strings = [
            ...Object.keys(out),
            out.text,
            ...out.list,
            out.error.message,
            out.error.stack ?? '',
            JSON.stringify(out.error.cause),
          ];
          for (const value of values)
            for (const output of strings) expect(leaks(output, value), output).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});

/**
 * An oracle independent of the scrubber: does `output` still show `value` raw, URL-encoded,
 * JSON-escaped, or inside any base64 / base64url / hex run when decoded at any alignment?
 */
function leaks(output: string, value: string): boolean {
  if (
    output.includes(value) ||
    output.includes(encodeURIComponent(value)) ||
    output.includes(JSON.stringify(value).slice(1, -1)) ||
    output.includes(new URLSearchParams({ v: value }).toString().slice(2))
  )
    return true;
  const bytes = Buffer.from(value);
  for (const run of output.match(/[A-Za-z0-9+/]{8,}|[A-Za-z0-9_-]{8,}/g) ?? []) {
    for (let start = 0; start < 4; start++) {
      const usable = run.slice(start, start + Math.floor((run.length - start) / 4) * 4);
      if (
        Buffer.from(usable, run.includes('-') || run.includes('_') ? 'base64url' : 'base64').includes(bytes)
      )
        return true;
    }
  }
  for (const run of output.match(/[0-9a-f]{16,}|[0-9A-F]{16,}/g) ?? []) {
    for (let start = 0; start < 2; start++) {
      const usable = run.slice(start, start + Math.floor((run.length - start) / 2) * 2);
      if (Buffer.from(usable, 'hex').includes(bytes)) return true;
    }
  }
  return false;
}
