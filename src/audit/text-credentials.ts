import { nameWords, secretName } from './sensitive-names.ts';

// Credentials written into text: the userinfo of a URL (`postgres://admin:pw@db`), and values
// after a secret name (`?password=…`, `&access_token=…`, `;Pwd={…}`, `Authorization: Basic …`,
// `"apiKey": "…"`). Scanners rather than one regular expression each, so that every input is read
// in linear time, whatever it holds.

/** Whitespace as `\s` knows it, by code unit (no allocation per character). */
function isSpace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  if (code < 0x85) return false;
  return (
    code === 0x85 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}
const isQuote = (code: number) => code === 0x22 || code === 0x27 || code === 0x60;
/** A URL ends at whitespace, `"`, `<`, `>` or a backtick (`encodeURIComponent` escapes them all; not `'`). */
const ENDS_URL = (code: number) =>
  isSpace(code) || code === 0x22 || code === 0x60 || code === 0x3c || code === 0x3e;

/**
 * Replaces the userinfo of every `scheme://user:password@host` (and `scheme://token@host`) with
 * `replacement`, keeping the scheme and the host. The userinfo runs to the last `@` before the
 * URL ends (see `ENDS_URL`), so a password with a raw `@`, `/` or `:` is covered
 * whole; an `@` in a path with no `:` before it (`https://example.com/@user`) is not userinfo.
 * Go's MySQL form `user:password@tcp(host)/db` counts as a URL too.
 */
export function redactUrlCredentials(text: string, replacement: string): string {
  let out = '';
  let copied = 0;
  let from = 0;
  for (;;) {
    const scheme = text.indexOf('://', from);
    const start = scheme === -1 ? -1 : scheme + 3;
    if (start === -1) break;
    let end = start;
    while (end < text.length && !ENDS_URL(text.charCodeAt(end))) end += 1;
    let at = end - 1;
    while (at > start && text.charCodeAt(at) !== 0x40) at -= 1;
    if (at > start) {
      const userinfo = text.slice(start, at);
      if (userinfo.includes(':') || !userinfo.includes('/')) {
        out += text.slice(copied, start) + replacement;
        copied = at;
      }
    }
    // The next URL starts after this one: every character is looked at a bounded number of times.
    from = Math.max(end, start);
  }
  out += text.slice(copied);
  return redactDsnCredentials(out, replacement);
}

/** `user:password@tcp(…)` and `@unix(…)` (Go's MySQL driver): the userinfo before the `@`. */
function redactDsnCredentials(text: string, replacement: string): string {
  if (!text.includes('@tcp(') && !text.includes('@unix(')) return text;
  let out = '';
  let copied = 0;
  // Each backward look stops at the previous match, so no character is read twice.
  let floor = 0;
  const found = /@(?:tcp|unix)\(/g;
  for (let match = found.exec(text); match !== null; match = found.exec(text)) {
    const at = match.index;
    let start = at;
    while (start > floor && !ENDS_URL(text.charCodeAt(start - 1))) start -= 1;
    floor = at + 1;
    if (at > start && text.slice(start, at).includes(':')) {
      out += text.slice(copied, start) + replacement;
      copied = at;
    }
  }
  return out + text.slice(copied);
}

/**
 * A name followed by `=` or `:`: optionally quoted (`"apiKey": …`), up to 64 characters of
 * letters, digits, `_`, `.` and `-`. Bounded repetitions only, so the scan stays linear.
 */
const ASSIGNMENT = /(["']?)([A-Za-z_][A-Za-z0-9_.-]{0,63})\1[ \t]{0,16}([=:])[ \t]{0,16}/g;

/** How far a value runs, by what came before it. */
type ValueKind =
  /** `?name=` / `&name=`: up to `&`, `#`, a space or a quote. */
  | 'query'
  /** `name=` elsewhere (connection strings, env): up to `;` or the line end. */
  | 'assignment'
  /** `"name": value` (JSON-like): up to `,`, `}`, `]` or the line end. */
  | 'member'
  /** `Authorization: …`, `Cookie: …`: the rest of the line. */
  | 'header'
  /** `name: value`: one run without spaces, unless it is a plain word followed by more words. */
  | 'field';

/**
 * Replaces the value after every secret name (see `secretName`) followed by `=` or `:`:
 * `?password=…` and `&token=…` up to the next `&`, `#`, space or quote; `;Password=…`, `pwd=…`
 * and any other `name=…` up to the next `;` or line end (a `{…}` value whole); `Authorization:` and
 * `Cookie:` up to the end of the line; other `name: value` text one run without spaces (`X-Api-Key:
 * abc123`), except a plain word followed by more words, which is prose (`token: Required field`);
 * a quoted value (`"token": "…"`) up to its closing quote.
 */
export function redactSecretAssignments(text: string, replacement: string): string {
  let out = '';
  let copied = 0;
  ASSIGNMENT.lastIndex = 0;
  for (let match = ASSIGNMENT.exec(text); match !== null; match = ASSIGNMENT.exec(text)) {
    const nameStart = match.index + match[1]!.length;
    const before = nameStart > 0 ? text.charCodeAt(nameStart - 1) : -1;
    // `?name=` and `&name=` are URL query parameters, where `key` and `sig` are credentials too.
    const query = match[3] === '=' && (before === 0x3f || before === 0x26);
    if (!secretName(match[2]!, query)) continue;
    let valueStart = ASSIGNMENT.lastIndex;
    let valueEnd = endOfValue(text, valueStart, valueKind(match[2]!, match[3]!, match[1] !== '', query));
    if (valueEnd <= valueStart) continue;
    // Carry on after the value: it goes, and a name inside it means nothing.
    ASSIGNMENT.lastIndex = valueEnd;
    // A quoted value keeps its quotes: only what is between them is replaced.
    const first = text.charCodeAt(valueStart);
    if ((first === 0x22 || first === 0x27) && valueEnd - valueStart >= 2) {
      if (text.charCodeAt(valueEnd - 1) === first) valueEnd -= 1;
      valueStart += 1;
      if (valueEnd <= valueStart) continue;
    }
    out += text.slice(copied, valueStart) + replacement;
    copied = valueEnd;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

function valueKind(name: string, separator: string, quotedName: boolean, query: boolean): ValueKind {
  if (query) return 'query';
  if (separator === '=') return 'assignment';
  if (quotedName) return 'member';
  const words = nameWords(name);
  return words.includes('authorization') || words.includes('cookie') ? 'header' : 'field';
}

/** Where the value that starts at `start` ends (exclusive); `start` when there is none. */
function endOfValue(text: string, start: number, kind: ValueKind): number {
  const n = text.length;
  if (start >= n) return start;
  const first = text.charCodeAt(start);
  if (first === 0x22 || first === 0x27) {
    // A quoted value, with backslash escapes: up to its closing quote (included), or the end.
    let i = start + 1;
    while (i < n) {
      const code = text.charCodeAt(i);
      if (code === 0x5c) i += 2;
      else if (code === first) return i + 1;
      else i += 1;
    }
    return n;
  }
  if (first === 0x7b && kind === 'assignment') {
    // An ODBC value in braces may hold `;`, and `}}` for a brace: up to the closing brace.
    let i = start + 1;
    while (i < n) {
      if (text.charCodeAt(i) === 0x7d) {
        if (text.charCodeAt(i + 1) !== 0x7d) return i + 1;
        i += 2;
      } else i += 1;
    }
    return n;
  }
  if (kind === 'field') return endOfField(text, start);
  let i = start;
  while (i < n) {
    const code = text.charCodeAt(i);
    if (code === 0x0a || code === 0x0d) break;
    if (kind === 'query') {
      if (code === 0x26 || code === 0x23 || isSpace(code) || isQuote(code)) break;
    } else if (kind === 'assignment') {
      // A connection string's value may hold spaces, quotes and `&`: up to the next `;`.
      if (code === 0x3b) break;
    } else if (kind === 'member' && (code === 0x2c || code === 0x7d || code === 0x5d)) {
      // `"token": 12345,` in JSON-like text: up to the next member.
      break;
    }
    i += 1;
  }
  // Trailing spaces are not part of the value.
  while (i > start && isSpace(text.charCodeAt(i - 1))) i -= 1;
  return i;
}

/**
 * The end of a `name: value` field: one run without spaces. A run of letters only (a word,
 * perhaps with one trailing punctuation mark) followed on the same line by another word is prose,
 * as in a validation message (`password: Too short`, `token: undeclared argument`): no value.
 */
function endOfField(text: string, start: number): number {
  const n = text.length;
  let end = start;
  let letters = true;
  while (end < n) {
    const code = text.charCodeAt(end);
    if (isSpace(code)) break;
    if (!isLetter(code) && !(end + 1 < n && isSpace(text.charCodeAt(end + 1)) && isMark(code)))
      letters = false;
    end += 1;
  }
  if (!letters) return end;
  let next = end;
  while (next < n && (text.charCodeAt(next) === 0x20 || text.charCodeAt(next) === 0x09)) next += 1;
  return next > end && next < n && isLetter(text.charCodeAt(next)) ? start : end;
}

const isLetter = (code: number) => (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
/** `,` `.` `;` `:` `!` `?` closing a word. */
const isMark = (code: number) =>
  code === 0x2c || code === 0x2e || code === 0x3b || code === 0x3a || code === 0x21 || code === 0x3f;

/** `%` escaped 0 to 2 more times (`%3D`, `%253D`, `%25253D`): a URL carried in a URL, once or twice. */
const PCT = '%(?:25){0,2}';
/** An encoded `?name=` or `&name=`. */
const ENCODED_PARAM = new RegExp(`${PCT}(?:3[Ff]|26)([A-Za-z_][A-Za-z0-9_.-]{0,63})${PCT}3[Dd]`, 'g');
/** An encoded `://`. */
const ENCODED_SCHEME = new RegExp(`${PCT}3[Aa]${PCT}2[Ff]${PCT}2[Ff]`, 'g');
const ENCODED_COLON = new RegExp(`${PCT}3[Aa]`);
const ENCODED_SLASH = new RegExp(`${PCT}2[Ff]`);

/**
 * Credentials in a percent-encoded URL carried in another one (`?redirect_uri=https%3A%2F%2F…`,
 * `?next=postgres%3A%2F%2Fadmin%3Apw%40db`), encoded once, twice or three times: the value of an
 * encoded `?name=` / `&name=` with a secret name, up to the next `&` or `#` (raw or encoded) or the
 * end of the outer URL, and the userinfo of an encoded `scheme://user:password@host`, up to its
 * last `@` (raw or encoded) before the outer URL's value ends, as `redactUrlCredentials` reads a
 * raw one.
 */
export function redactEncodedCredentials(
  text: string,
  replacement: string,
  urls: boolean,
  params: boolean,
): string {
  if (text.indexOf('%') < 0) return text;
  let out = text;
  if (urls) {
    let result = '';
    let copied = 0;
    ENCODED_SCHEME.lastIndex = 0;
    for (let match = ENCODED_SCHEME.exec(out); match !== null; match = ENCODED_SCHEME.exec(out)) {
      const start = ENCODED_SCHEME.lastIndex;
      const end = endOfEncoded(out, start, false);
      let at = -1;
      for (let i = start; i < end; i++) {
        if (out.charCodeAt(i) === 0x40) at = i;
        else if (out.charCodeAt(i) === 0x25 && atEncoded(out, i, 0x40) > 0) at = i;
      }
      if (at > start) {
        const userinfo = out.slice(start, at);
        if (
          ENCODED_COLON.test(userinfo) ||
          userinfo.includes(':') ||
          !(ENCODED_SLASH.test(userinfo) || userinfo.includes('/'))
        ) {
          result += out.slice(copied, start) + replacement;
          copied = at;
        }
      }
      ENCODED_SCHEME.lastIndex = Math.max(end, start);
    }
    out = copied === 0 ? out : result + out.slice(copied);
  }
  if (params) {
    let result = '';
    let copied = 0;
    ENCODED_PARAM.lastIndex = 0;
    for (let match = ENCODED_PARAM.exec(out); match !== null; match = ENCODED_PARAM.exec(out)) {
      if (!secretName(match[1]!, true)) {
        // The name's own `%3D` may start the next parameter's `%26`: look again from the name.
        ENCODED_PARAM.lastIndex = match.index + match[0].length - 1;
        continue;
      }
      const start = ENCODED_PARAM.lastIndex;
      const end = endOfEncoded(out, start, true);
      if (end <= start) continue;
      result += out.slice(copied, start) + replacement;
      copied = end;
      ENCODED_PARAM.lastIndex = end;
    }
    out = copied === 0 ? out : result + out.slice(copied);
  }
  return out;
}

/**
 * Where an encoded value or URL starting at `start` ends: at a raw space, quote, `<`, `>`, `&` or
 * `#` (the outer URL's value ends), or with `param`, at an encoded `&` or `#` too.
 */
function endOfEncoded(text: string, start: number, param: boolean): number {
  let i = start;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (ENDS_URL(code) || isQuote(code) || code === 0x26 || code === 0x23) break;
    if (param && code === 0x25 && (atEncoded(text, i, 0x26) > 0 || atEncoded(text, i, 0x23) > 0)) break;
    i += 1;
  }
  return i;
}

/** The length of `%HH` (its `%` escaped 0 to 2 more times: `%2526`) for `byte` at `at`, or 0. */
function atEncoded(text: string, at: number, byte: number): number {
  let i = at + 1;
  for (let k = 0; k < 2 && text.startsWith('25', i) && hexByte(text, i + 2) >= 0; k++) i += 2;
  return hexByte(text, i) === byte ? i + 2 - at : 0;
}

/** The byte two hex digits at `at` write, or -1. */
function hexByte(text: string, at: number): number {
  const digit = (code: number) =>
    code >= 48 && code <= 57
      ? code - 48
      : (code | 0x20) >= 97 && (code | 0x20) <= 102
        ? (code | 0x20) - 87
        : -1;
  const high = digit(text.charCodeAt(at));
  const low = digit(text.charCodeAt(at + 1));
  return high < 0 || low < 0 ? -1 : high * 16 + low;
}
