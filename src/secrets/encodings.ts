import { unescapedForms } from './escapes.ts';
import { WINDOW } from './text-search.ts';

/**
 * The text forms a secret value can take in a tool's output, for the scrubber: the value itself,
 * JSON-escaped, URL-encoded (component, form and URI styles, upper- and lower-case escapes), its
 * UTF-8 bytes one character a byte (how the scrubber reads bytes), hex (caseless: its letters in
 * any mix of cases, as hex is read), and base64 /
 * base64url, both of the value alone (with and without padding) and
 * of the value inside a longer string at each of the three byte alignments (only the symbols
 * that depend on nothing but the value's own bytes: at most two symbols at each end, carrying
 * at most 12 bits of the value, stay visible). Any mix of raw and escaped characters (`%HH`,
 * `\uHHHH`, JSON's `\"`, `\xHH`, octal, HTML references, separated hex bytes…) is found by
 * searching the decoded views of a text (`unescapedViews`) for these forms and for the value's own
 * decoded forms, which are listed here too; a form wrapped over lines, by joining them.
 */
export function secretForms(value: string): SecretForm[] {
  const bytes = Buffer.from(value, 'utf8');
  const forms = new Set<string>([value, JSON.stringify(value).slice(1, -1)]);
  for (const encoded of [
    encodeURIComponent(value),
    new URLSearchParams({ v: value }).toString().slice(2),
    encodeURI(value),
  ]) {
    forms.add(encoded);
    forms.add(encoded.replace(/%[0-9A-F]{2}/g, (percent) => percent.toLowerCase()));
  }
  // Its UTF-8 bytes read one character a byte: bytes a tool returns (a Buffer, read so by the
  // scrubber), and text decoded as Latin-1 by mistake.
  forms.add(bytes.toString('latin1'));
  const hex = bytes.toString('hex');
  const base64 = bytes.toString('base64');
  forms.add(base64);
  forms.add(base64.replace(/=+$/, ''));
  forms.add(toUrl(base64));
  forms.add(toUrl(base64).replace(/=+$/, ''));
  for (let offset = 0; offset < 3; offset++) {
    const core = alignedCore(bytes, offset);
    forms.add(core);
    forms.add(toUrl(core));
  }
  for (const form of unescapedForms(value)) if (form.length >= WINDOW) forms.add(form);
  return [...[...forms].map((text) => ({ text })), { text: hex, caseless: true }];
}

/** One form of a secret value; a caseless one is lower-case hex, its letters found in either case. */
export interface SecretForm {
  readonly text: string;
  readonly caseless?: boolean;
}

/**
 * The base64 symbols of `bytes` placed `offset` bytes into a longer string that depend only on
 * `bytes`: symbol j covers bits [6j, 6j + 6) of the whole, so it is determined when that range
 * lies within the value's bits [8 · offset, 8 · (offset + n)).
 */
function alignedCore(bytes: Buffer, offset: number): string {
  const padded = Buffer.concat([Buffer.alloc(offset), bytes, Buffer.alloc(2)]);
  const first = Math.ceil((8 * offset) / 6);
  const end = Math.floor((8 * (offset + bytes.length)) / 6);
  return padded.toString('base64').slice(first, end);
}

function toUrl(base64: string): string {
  return base64.replaceAll('+', '-').replaceAll('/', '_');
}
