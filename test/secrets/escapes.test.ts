import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { unescapedViews } from '../../src/secrets/escapes.ts';
import { secretScrubber } from '../../src/secrets/scrubber.ts';
import { sourceSpan } from '../../src/secrets/unescaped.ts';
import { scrubberWith } from './scrubber-with.ts';

// Any mix of raw characters and escaped ones (`%HH` of their UTF-8 bytes, `\uHHHH`, either case,
// JSON's short escapes) is scrubbed: URL userinfo, Python's quote, Go's HTML-safe JSON and the like
// each escape their own subset of characters.

const SECRET = 'p@ss$word&Key+2024!x';

const hex = (n: number, width: number, upper: boolean) => {
  const text = n.toString(16).padStart(width, '0');
  return upper ? text.toUpperCase() : text;
};

/** One character (a whole code point) written as `how` says. */
function written(char: string, how: number): string {
  switch (how) {
    case 1:
    case 2:
      return [...Buffer.from(char)].map((byte) => `%${hex(byte, 2, how === 1)}`).join('');
    case 3:
    case 4:
      return [...char]
        .flatMap((c) => (c.length === 2 ? [c.charCodeAt(0), c.charCodeAt(1)] : [c.charCodeAt(0)]))
        .map((unit) => `\\u${hex(unit, 4, how === 3)}`)
        .join('');
    default:
      return char;
  }
}

describe('scrubbing a value with some of its characters escaped', () => {
  it('finds it in URL userinfo, path and query as WHATWG URL writes them', () => {
    const scrub = scrubberWith({ k: SECRET });
    const url = new URL('https://api.example.com/v1');
    url.username = 'user';
    url.password = SECRET;
    // `$ & + , !` stay raw in userinfo, `@` becomes %40.
    expect(url.href).toContain('p%40ss$word&Key+2024!x');
    expect(scrub.text(url.href)).toBe('https://user:[secret:k]@api.example.com/v1');
    expect(scrub.text(new URL(`https://h/${SECRET}`).href)).toBe('https://h/[secret:k]');
    expect(scrub.value({ endpoint: url.href })).toEqual({
      endpoint: 'https://user:[secret:k]@api.example.com/v1',
    });
  });

  it('finds it JSON-escaped in part (Go’s \\u0026, \\u00XX of any character, either case) and every character escaped', () => {
    const value = 'a"b&c<d>e\\f/g';
    const scrub = scrubberWith({ k: SECRET, q: value });
    const goJson = (text: string) =>
      JSON.stringify(text).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
    expect(scrub.text(goJson(SECRET))).toBe('"[secret:k]"');
    expect(scrub.text(`{"q":${goJson(value)}}`)).toBe('{"q":"[secret:q]"}');
    expect(scrub.text(goJson(value).replace('\\/', '/').replace('/', '\\/'))).toBe('"[secret:q]"');
    const allLower = [...Buffer.from(SECRET)].map((b) => `%${hex(b, 2, false)}`).join('');
    const allUnicode = [...SECRET].map((c) => `\\u${hex(c.charCodeAt(0), 4, true)}`).join('');
    expect(scrub.text(`x=${allLower}&y`)).toBe('x=[secret:k]&y');
    expect(scrub.text(`"${allUnicode}"`)).toBe('"[secret:k]"');
    // Python's quote (safe='/'), and `!'()*` escaped too (RFC 3986 strict).
    const strict = encodeURIComponent(SECRET).replace(/[!'()*]/g, (c) => `%${hex(c.charCodeAt(0), 2, true)}`);
    expect(scrub.text(strict)).toBe('[secret:k]');
  });

  it('finds non-ASCII characters by their UTF-8 bytes or UTF-16 units (surrogate pairs too)', () => {
    const value = 'clé-secrète-😀-日本';
    const scrub = scrubberWith({ k: value });
    expect(scrub.text(`?q=${encodeURIComponent(value).replace(/%C3%A9/, 'é')}`)).toBe('?q=[secret:k]');
    expect(
      scrub.text(
        JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${hex(c.charCodeAt(0), 4, false)}`),
      ),
    ).toBe('"[secret:k]"');
  });

  it('keeps what was covered: raw, base64 (url, padded or not), hex, full percent-encoding, nested JSON, keys', () => {
    const scrub = scrubberWith({ k: SECRET });
    const bytes = Buffer.from(SECRET);
    for (const form of [
      SECRET,
      bytes.toString('base64'),
      bytes.toString('base64').replace(/=+$/, ''),
      bytes.toString('base64url'),
      bytes.toString('hex'),
      bytes.toString('hex').toUpperCase(),
      encodeURIComponent(SECRET),
      encodeURIComponent(SECRET).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
      new URLSearchParams({ v: SECRET }).toString().slice(2),
    ])
      expect(scrub.text(`[${form}]`), form).toBe('[[secret:k]]');
    expect(scrub.text(JSON.stringify({ inner: JSON.stringify({ key: SECRET }) }))).not.toContain('2024!x');
    expect(scrub.value({ [`${SECRET}`]: 1 })).toEqual({ '[secret:k]': 1 });
  });

  it('maps each unit of a decoded view back to the span of the original it came from', () => {
    const [view] = unescapedViews('a%41\\u0042%c3%a9z%F0%9F%98%80!');
    expect(view!.text).toBe('aABéz😀!');
    const spans = [0, 1, 2, 3, 4, 5, 6, 7].map((unit) => sourceSpan(view!, unit, unit + 1));
    expect(spans).toEqual([
      [0, 1],
      [1, 4],
      [4, 10],
      [10, 16],
      [16, 17],
      [17, 29],
      [17, 29],
      [29, 30],
    ]);
    // Two rounds: each unit maps through both.
    const views = unescapedViews('x%255Cu0041y');
    expect(views.map((v) => v.text)).toEqual(['x%5Cu0041y', 'x\\u0041y', 'xAy']);
    expect(sourceSpan(views[2]!, 1, 2)).toEqual([1, 11]);
    expect(sourceSpan(views[2]!, 2, 3)).toEqual([11, 12]);
    expect(unescapedViews('no escapes here')).toEqual([]);
    // Invalid escapes and bytes stay as they are.
    expect(unescapedViews('%zz%c3\\x')).toEqual([]);
  });

  it('property: any mix of raw, %HH and \\uHHHH (either case) characters is scrubbed, whatever surrounds it', () => {
    const secret = fc
      .string({ unit: 'grapheme-composite', minLength: 8, maxLength: 24 })
      .filter((value) => !/\p{Cs}/u.test(value) && !value.includes('[secret:') && [...value].length >= 8);
    // Around it, no character that starts an escape (a backslash, `%`, `&`): one would form an
    // escape with the value's first characters (`\\` before a value starting with `t` reads as a
    // tab), the documented limit; the next property covers such characters inside the value.
    const filler = fc.string({ unit: 'binary-ascii', maxLength: 12 }).filter((text) => !/[\\%&]/.test(text));
    fc.assert(
      fc.property(
        secret.chain((value) =>
          fc.tuple(
            fc.constant(value),
            fc.array(fc.integer({ min: 0, max: 4 }), {
              minLength: [...value].length,
              maxLength: [...value].length,
            }),
            filler,
            filler,
          ),
        ),
        ([value, hows, before, after]) => {
          const scrub = secretScrubber();
          try {
            scrub.add('k', value);
          } catch {
            fc.pre(false);
          }
          const encoded = [...value].map((char, i) => written(char, hows[i]!)).join('');
          const out = scrub.text(`${before}${encoded}${after}`);
          expect(out).toContain('[secret:k]');
          expect(out).not.toContain(encoded);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('property: printable ASCII secrets, `%` and backslash included, with random subsets escaped', () => {
    const secret = fc
      .string({ unit: 'binary-ascii', minLength: 8, maxLength: 24 })
      .filter((v) => !v.includes('[secret:'));
    fc.assert(
      fc.property(
        secret.chain((value) =>
          fc.tuple(
            fc.constant(value),
            fc.array(fc.integer({ min: 0, max: 4 }), { minLength: value.length, maxLength: value.length }),
          ),
        ),
        ([value, hows]) => {
          const scrub = secretScrubber();
          try {
            scrub.add('k', value);
          } catch {
            fc.pre(false);
          }
          const encoded = [...value].map((char, i) => written(char, hows[i]!)).join('');
          expect(scrub.text(`x ${encoded} y`)).toContain('[secret:k]');
        },
      ),
      { numRuns: 1000 },
    );
  });
});
