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
