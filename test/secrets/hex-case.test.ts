import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { secretScrubber } from '../../src/secrets/scrubber.ts';
import { scrubberWith } from './scrubber-with.ts';

// Every hex-like form of a value in any mix of letter cases: hex itself is case-insensitive, and so
// are the digits of `%HH`, `\xHH`, `&#xHH;` (and its `x`), `\uHHHH`, `\u{…}` and separated bytes
// (and their `0x`), so a value written in any of them with its letters in any case (a digit
// upper-case here, a byte there, a careless `.toUpperCase()` on part of a dump) is the same
// value. Letters outside hex digits keep their case: `\X` is no escape, an HTML name is
// case-sensitive.

const KEY = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc';
const PHRASE = 'correct horse <battery> & "staple" é';

const bytesOf = (text: string) => [...Buffer.from(text, 'utf8')];
const hex2 = (byte: number) => byte.toString(16).padStart(2, '0');
/** Each character of `text` upper-cased where `upper` says (cycled). */
const cased = (text: string, upper: readonly boolean[]) =>
  [...text].map((c, i) => (upper[i % upper.length] ? c.toUpperCase() : c.toLowerCase())).join('');
const units = (value: string) =>
  [...value].flatMap((c) => [...Array(c.length).keys()].map((k) => c.charCodeAt(k)));

/** The hex-like forms of `value`, each with its letters cased by `upper`. */
function hexForms(value: string, upper: readonly boolean[], width: number): Record<string, string> {
  const hex = Buffer.from(value).toString('hex');
  const bytes = bytesOf(value);
  const wrap = (text: string, at: number, br: string) =>
    text.replace(new RegExp(`(.{${at}})(?=.)`, 'g'), `$1${br}`);
  return {
    joined: cased(hex, upper),
    // A case per byte, as a dump mixing two encoders' output does.
    byByte: bytes.map((b, i) => cased(hex2(b), [upper[i % upper.length]!])).join(''),
    wrapped: wrap(cased(hex, upper), width, '\n'),
    wrappedIndented: wrap(cased(hex, upper), width, '\r\n    '),
    // Inside the hex of a longer string, at an odd byte offset.
    inLonger: cased(Buffer.from(`x${value}yz`).toString('hex'), upper),
    separated: cased(bytes.map(hex2).join(' '), upper),
    colons: cased(bytes.map(hex2).join(':'), upper),
    prefixed: cased(bytes.map((b) => `0x${hex2(b)}`).join(', '), upper),
    percent: cased(bytes.map((b) => `%${hex2(b)}`).join(''), upper),
    backslashX: bytes.map((b) => `\\x${cased(hex2(b), upper)}`).join(''),
    htmlHex: [...value].map((c) => `&#${cased(`x${c.codePointAt(0)!.toString(16)}`, upper)};`).join(''),
    unicode: units(value)
      .map((u) => `\\u${cased(u.toString(16).padStart(4, '0'), upper)}`)
      .join(''),
    unicodeBraces: [...value].map((c) => `\\u{${cased(c.codePointAt(0)!.toString(16), upper)}}`).join(''),
  };
}

describe('hex-like forms in any mix of cases', () => {
  it('finds hex written together with its letters in mixed case (per digit, per byte, wrapped)', () => {
    const scrub = scrubberWith({ k: KEY, p: PHRASE });
    for (const [value, name] of [
      [KEY, 'k'],
      [PHRASE, 'p'],
    ] as const) {
      const hex = Buffer.from(value).toString('hex');
      expect(scrub.text(`id ${cased(hex, [false, true, true])} end`)).toBe(`id [secret:${name}] end`);
      expect(scrub.text(`id ${cased(hex, [true, false])} end`)).toBe(`id [secret:${name}] end`);
      const byByte = bytesOf(value)
        .map((b, i) => (i % 2 ? hex2(b).toUpperCase() : hex2(b)))
        .join('');
      expect(scrub.text(`"${byByte}"`)).toBe(`"[secret:${name}]"`);
      // `xxd -p` output with part of it upper-cased, wrapped at 30 bytes a line.
      const dump = `${hex.slice(0, 20)}${hex.slice(20).toUpperCase()}`.replace(/(.{60})/g, '$1\n');
      expect(scrub.text(dump)).toBe(`[secret:${name}]`);
    }
    // Bytes holding such text, as the scrubber reads bytes.
    const mixed = cased(Buffer.from(KEY).toString('hex'), [true, false, false]);
    expect(Buffer.from(scrub.value(Buffer.from(`k=${mixed};`))).toString()).toBe('k=[secret:k];');
    // Escaped in JSON (`\u0041` for an `A`) and mixed: a decoded view is searched the same way.
    const escaped = [...mixed].map((c, i) => (i === 3 ? `\\u00${c.charCodeAt(0).toString(16)}` : c)).join('');
    expect(scrub.text(`{"id":"${escaped}"}`)).toBe('{"id":"[secret:k]"}');
  });

  it('property: every hex-like form, letters in any mix of cases, is replaced exactly', () => {
    fc.assert(
      fc.property(
        // Four different characters at least, so the value does not occur in what surrounds it.
        fc
          .string({ unit: 'grapheme', minLength: 8, maxLength: 24 })
          .filter((v) => new Set(v).size > 3 && !v.includes('[secret:') && !'[secret:v]'.includes(v)),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 9 }),
        fc.integer({ min: 8, max: 80 }),
        // Around the form: words without hex digits or escape-starting characters.
        fc.stringMatching(/^[g-zG-Z =:;.]{0,8}$/),
        (value, upper, width, around) => {
          const scrub = secretScrubber();
          scrub.add('v', value);
          for (const [kind, form] of Object.entries(hexForms(value, upper, width))) {
            const text = `${around} ${form} ${around}`;
            const out = scrub.text(text);
            if (kind === 'inLonger') {
              expect(out, `${kind}: ${form}`).toContain('[secret:v]');
              expect(out.toLowerCase(), `${kind}: ${form}`).not.toContain(Buffer.from(value).toString('hex'));
            } else expect(out, `${kind}: ${form}`).toBe(`${around} [secret:v] ${around}`);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('property: ordinary text with hex in every case (hashes, ids, dumps of other bytes) is left alone', () => {
    const scrub = scrubberWith({ k: KEY, p: PHRASE });
    const keyHex = Buffer.from(KEY).toString('hex');
    const phraseHex = Buffer.from(PHRASE).toString('hex');
    const swapped = (text: string) =>
      [...text].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('');
    const word = fc.oneof(
      fc.constantFrom('Each', 'Face', 'Added', 'DEAF', 'cafe', 'BeadED', 'the', 'of', '0x', '\n', ', ', ':'),
      // Near misses: the value and its base64 in another case (only hex is read caselessly), its
      // hex with a digit changed or cut short.
      fc.constantFrom(
        KEY.toUpperCase(),
        swapped(KEY),
        swapped(Buffer.from(KEY).toString('base64')),
        swapped(Buffer.from(PHRASE).toString('base64url')),
        `${keyHex.slice(0, 30)}0${keyHex.slice(31)}`.toUpperCase(),
        swapped(keyHex.slice(0, -2)),
      ),
      fc
        .tuple(
          fc.uint8Array({ minLength: 4, maxLength: 40 }),
          fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
        )
        .map(([bytes, upper]) => cased(Buffer.from(bytes).toString('hex'), upper)),
      fc.uuid().map((id) => id.toUpperCase()),
    );
    fc.assert(
      fc.property(fc.array(word, { maxLength: 40 }), fc.constantFrom('', ' ', '\n'), (words, join) => {
        const text = words.join(join);
        // Words can meet to form a value's hex for real (a cut-short hex, then a byte dump starting
        // with its last byte: a CI seed did): such a text is no ordinary text.
        const digits = text.toLowerCase().replace(/[^0-9a-f]/g, '');
        fc.pre(!digits.includes(keyHex) && !digits.includes(phraseHex));
        expect(scrub.text(text)).toBe(text);
      }),
      {
        numRuns: 500,
        // That seed's words, but for the byte dump's first byte (0x63, the value's last): not the value.
        examples: [[[`${keyHex.slice(0, -2).toUpperCase()}`, '6400000000'], '']],
      },
    );
  });

  it('keeps the case of letters that are not hex digits: `\\X` is no escape, HTML names are case-sensitive', () => {
    const scrub = scrubberWith({ k: KEY });
    const upperX = bytesOf(KEY)
      .map((b) => `\\X${hex2(b)}`)
      .join('');
    expect(scrub.text(upperX)).toBe(upperX);
    const value = 'tom&jerry-and-friends';
    const amp = scrubberWith({ a: value });
    expect(amp.text('tom&amp;jerry-and-friends')).toBe('[secret:a]');
    expect(amp.text('tom&AMP;jerry-and-friends')).toBe('[secret:a]');
    expect(amp.text('tom&Amp;jerry-and-friends')).toBe('tom&Amp;jerry-and-friends');
  });
});
