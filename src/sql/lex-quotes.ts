import { SqlRefusal } from './token.ts';

/**
 * The end (after the closing quote) of a literal opened by the quote at `i`, with the quote doubled
 * inside. `refuseBackslash`: a backslash refuses, because whether it escapes depends on a server
 * setting (PostgreSQL `standard_conforming_strings`, MySQL `NO_BACKSLASH_ESCAPES`).
 * `backslashEscapes`: a backslash takes the next character (PostgreSQL `E'…'`).
 */
export function singleQuoted(
  sql: string,
  i: number,
  refuseBackslash: boolean,
  backslashEscapes = false,
): number {
  const quote = sql[i]!;
  let j = i + 1;
  while (j < sql.length) {
    const c = sql[j]!;
    if (c === '\\') {
      if (refuseBackslash)
        throw new SqlRefusal('a backslash in a string literal: its meaning depends on the server settings');
      j += backslashEscapes ? 2 : 1;
    } else if (c === quote) {
      if (sql[j + 1] !== quote) return j + 1;
      j += 2;
    } else j += 1;
  }
  throw new SqlRefusal('unterminated string literal');
}

/** A delimited identifier (`"…"`, `` `…` ``, SQLite `[…]`), or the body of a PostgreSQL `U&'…'`: its text and end. */
export function quotedIdentifier(
  sql: string,
  i: number,
  refuseBackslash: boolean,
): { name: string; end: number } {
  const open = sql[i]!;
  if (open === '[') {
    const close = sql.indexOf(']', i + 1);
    if (close === -1) throw new SqlRefusal('unterminated [identifier]');
    return { name: sql.slice(i + 1, close), end: close + 1 };
  }
  let name = '';
  let j = i + 1;
  while (j < sql.length) {
    const c = sql[j]!;
    if (c === '\\' && refuseBackslash) throw new SqlRefusal('a backslash in a quoted identifier');
    if (c === open) {
      if (sql[j + 1] !== open) return { name, end: j + 1 };
      name += open;
      j += 2;
    } else {
      name += c;
      j += 1;
    }
  }
  throw new SqlRefusal('unterminated quoted identifier');
}

/**
 * PostgreSQL dollar quoting at `i`: `$$…$$` or `$tag$…$tag$`; nothing inside is special, and the
 * body ends at the first copy of the opening delimiter (as scan.l finds it). `$1` parameters refuse.
 */
export function dollarQuoted(sql: string, i: number): number {
  const open = /\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/y;
  open.lastIndex = i;
  const match = open.exec(sql);
  if (match === null)
    throw new SqlRefusal('a $ that opens no dollar-quoted string (parameters are not supported)');
  const close = sql.indexOf(match[0], i + match[0].length);
  if (close === -1) throw new SqlRefusal('unterminated dollar-quoted string');
  return close + match[0].length;
}

/**
 * Decodes a `U&` body with escape character `marker` (`\\` unless `UESCAPE 'c'` follows):
 * `\XXXX`, `\+XXXXXX`, a doubled marker. A bad escape or a lone surrogate refuses.
 */
export function decodeUnicode(body: string, marker: string): string {
  if (/[0-9A-Fa-f+'" \t\r\n]/.test(marker) || marker.length !== 1)
    throw new SqlRefusal('invalid UESCAPE character');
  let out = '';
  let k = 0;
  let high = 0;
  while (k < body.length) {
    const c = body[k]!;
    if (c !== marker) {
      if (high !== 0) throw new SqlRefusal('lone surrogate in a Unicode escape');
      out += c;
      k += 1;
      continue;
    }
    if (body[k + 1] === marker) {
      if (high !== 0) throw new SqlRefusal('lone surrogate in a Unicode escape');
      out += marker;
      k += 2;
      continue;
    }
    const long = body[k + 1] === '+';
    const hex = long ? body.slice(k + 2, k + 8) : body.slice(k + 1, k + 5);
    if (!(long ? /^[0-9A-Fa-f]{6}$/ : /^[0-9A-Fa-f]{4}$/).test(hex))
      throw new SqlRefusal('invalid Unicode escape');
    const code = Number.parseInt(hex, 16);
    k += long ? 8 : 5;
    if (code >= 0xd800 && code <= 0xdbff) {
      if (high !== 0) throw new SqlRefusal('lone surrogate in a Unicode escape');
      high = code;
      continue;
    }
    if (code >= 0xdc00 && code <= 0xdfff) {
      if (high === 0) throw new SqlRefusal('lone surrogate in a Unicode escape');
      out += String.fromCharCode(high, code);
      high = 0;
      continue;
    }
    if (high !== 0 || code === 0 || code > 0x10ffff) throw new SqlRefusal('invalid Unicode escape');
    out += String.fromCodePoint(code);
  }
  if (high !== 0) throw new SqlRefusal('lone surrogate in a Unicode escape');
  return out;
}
