import { decodeUnicode, dollarQuoted, quotedIdentifier, singleQuoted } from './lex-quotes.ts';
import { asciiLower, type LexMode, SqlRefusal, type Token } from './token.ts';

/** Longest identifier accepted: PostgreSQL cuts names at 63 bytes, MySQL refuses past 64 characters. */
const MAX_IDENTIFIER_BYTES = 63;

/** Operators the parser understands, per dialect; any other operator refuses the statement. */
const OPERATORS: Readonly<Record<LexMode, ReadonlySet<string>>> = {
  postgresql: new Set(['=', '<>', '!=', '<', '>', '<=', '>=', '+', '-', '*', '/', '%', '||']),
  mysql: new Set(['=', '<>', '!=', '<', '>', '<=', '>=', '+', '-', '*', '/', '%', '||']),
  'mysql-ansi': new Set(['=', '<>', '!=', '<', '>', '<=', '>=', '+', '-', '*', '/', '%', '||']),
  sqlite: new Set(['=', '==', '<>', '!=', '<', '>', '<=', '>=', '+', '-', '*', '/', '%', '||']),
};

/** Multi-character operators of MySQL and SQLite, longest first: their lexers take the longest match. */
const MYSQL_MULTI = ['<=>', '->>', '<=', '>=', '<>', '!=', '||', '&&', '<<', '>>', ':=', '->'];
const SQLITE_MULTI = ['->>', '<=', '>=', '<>', '!=', '==', '||', '<<', '>>', '->'];
const MYSQL_SINGLE = '=<>+-*/%!~^&|:';
const SQLITE_SINGLE = '=<>+-*/%&|~';
/** PostgreSQL's operator characters (scan.l `op_chars`), and those that keep a trailing + or - in an operator. */
const PG_OP_CHARS = '~!@#^&|`?+-*/%<>=';
const PG_KEEPS_SIGN = '~!@#^&|`?%';

/**
 * Cuts `sql` into tokens exactly where the dialect's own lexer would, or throws `SqlRefusal` for
 * anything whose meaning depends on a server setting or that the parser does not handle: backslashes
 * in ordinary string literals, MySQL executable comments, parameters, non-ASCII text outside quotes,
 * control characters, unknown operators, unterminated literals and comments.
 */
export function tokenize(sql: string, mode: LexMode): Token[] {
  const tokens: Token[] = [];
  const n = sql.length;
  const pg = mode === 'postgresql';
  const mysql = mode === 'mysql' || mode === 'mysql-ansi';
  let i = 0;
  let spaced = false;
  /** U&'…' / U&"…" tokens, decoded once it is known whether UESCAPE follows. */
  const unicode: { index: number; body: string }[] = [];
  const push = (kind: Token['kind'], text: string, lower: string, at: number) => {
    if (kind === 'string' && tokens.at(-1)?.kind === 'string')
      throw new SqlRefusal('two string literals in a row (servers join them in different ways)');
    tokens.push({ kind, text, lower, spaced, at });
    spaced = false;
  };
  while (i < n) {
    const c = sql.charCodeAt(i);
    const next = i + 1 < n ? sql.charCodeAt(i + 1) : -1;
    if (c === 32 || c === 9 || c === 10 || c === 13) {
      i += 1;
      spaced = true;
    } else if (c === 45 && next === 45) {
      i = lineComment(sql, i, mode);
      spaced = true;
    } else if (c === 35 && mysql) {
      i = endOfLine(sql, i, false);
      spaced = true;
    } else if (c === 47 && next === 42) {
      i = blockComment(sql, i, mode);
      spaced = true;
    } else if (isWordStart(c)) {
      const start = i;
      while (i < n && isWordPart(sql.charCodeAt(i))) i += 1;
      const word = sql.slice(start, i);
      const after = i < n ? sql.charCodeAt(i) : -1;
      if (after === 36 || after > 127)
        throw new SqlRefusal(`identifier ${word}… with $ or a non-ASCII character: quote it`);
      if (
        pg &&
        after === 38 &&
        (word === 'u' || word === 'U') &&
        (sql[i + 1] === "'" || sql[i + 1] === '"')
      ) {
        const { name: body, end } = quotedIdentifier(sql, i + 1, false);
        unicode.push({ index: tokens.length, body });
        push(sql[i + 1] === "'" ? 'string' : 'quoted', sql.slice(start, end), '', start);
        i = end;
        continue;
      }
      if (pg && after === 39) {
        const end = pgPrefixed(sql, start, word);
        if (end !== undefined) {
          push('string', sql.slice(start, end), '', start);
          i = end;
          continue;
        }
      }
      if (!pg && (after === 39 || after === 34))
        throw new SqlRefusal(`literal prefix or character set introducer ${word}: not supported`);
      if (word.length > MAX_IDENTIFIER_BYTES)
        throw new SqlRefusal(`identifier ${word.slice(0, 20)}… too long`);
      push('word', word, asciiLower(word), start);
    } else if (c >= 48 && c <= 57) {
      const end = numberEnd(sql, i);
      push('number', sql.slice(i, end), sql.slice(i, end), i);
      i = end;
    } else if (c === 39) {
      const end = singleQuoted(sql, i, mode !== 'sqlite');
      push('string', sql.slice(i, end), '', i);
      i = end;
    } else if (c === 34 && mode === 'mysql') {
      // Without ANSI_QUOTES "…" is a string; backslashes are refused, so its end is the same in both modes.
      const end = singleQuoted(sql, i, true);
      push('string', sql.slice(i, end), '', i);
      i = end;
    } else if (c === 34 || (c === 96 && !pg) || (c === 91 && mode === 'sqlite')) {
      const { name, end } = quotedIdentifier(sql, i, mysql);
      pushQuoted(name, i);
      i = end;
    } else if (c === 36 && pg) {
      const end = dollarQuoted(sql, i);
      push('string', sql.slice(i, end), '', i);
      i = end;
    } else if (c === 46) {
      if ((next >= 48 && next <= 57) || next === 46)
        throw new SqlRefusal('a dot before a digit or another dot: write 0.5, not .5');
      push('op', '.', '.', i);
      i += 1;
    } else if (c === 40 || c === 41 || c === 44 || c === 59) {
      push('op', sql[i]!, sql[i]!, i);
      i += 1;
    } else if (c === 58 && pg && next === 58) {
      push('op', '::', '::', i);
      i += 2;
    } else {
      const op = pg ? pgOperator(sql, i) : longestOperator(sql, i, mysql);
      if (op === undefined || !OPERATORS[mode].has(op))
        throw new SqlRefusal(`unexpected ${JSON.stringify(op ?? sql[i])} at offset ${i}`);
      push('op', op, op, i);
      i += op.length;
    }
  }
  tokens.push({ kind: 'end', text: '', lower: '', spaced, at: n });
  for (let k = unicode.length - 1; k >= 0; k -= 1) uescape(tokens, unicode[k]!.index, unicode[k]!.body);
  return tokens;

  function pushQuoted(name: string, at: number): void {
    push('quoted', checkedName(name), asciiLower(name), at);
  }
}

function checkedName(name: string): string {
  if (name.length === 0) throw new SqlRefusal('empty quoted identifier');
  if (Buffer.byteLength(name, 'utf8') > MAX_IDENTIFIER_BYTES)
    throw new SqlRefusal('quoted identifier too long');
  return name;
}

/** Decodes the U& token at `index`, taking a following `UESCAPE 'c'` (two tokens) into it. */
function uescape(tokens: Token[], index: number, body: string): void {
  const token = tokens[index]!;
  let marker = '\\';
  const clause = tokens[index + 1]!;
  if (clause.kind === 'word' && clause.lower === 'uescape') {
    const literal = tokens[index + 2]!;
    if (literal.kind !== 'string' || !/^'[^']'$/.test(literal.text))
      throw new SqlRefusal('UESCAPE needs a one-character string');
    marker = literal.text[1]!;
    tokens.splice(index + 1, 2);
  }
  const value = decodeUnicode(body, marker);
  if (token.kind === 'quoted')
    tokens[index] = { ...token, text: checkedName(value), lower: asciiLower(value) };
}

function isWordStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

function isWordPart(c: number): boolean {
  return isWordStart(c) || (c >= 48 && c <= 57);
}

/** `--` comments: PostgreSQL ends them at \n or \r, MySQL and SQLite at \n; MySQL needs a space after `--`. */
function lineComment(sql: string, i: number, mode: LexMode): number {
  if (mode === 'mysql' || mode === 'mysql-ansi') {
    const after = i + 2 < sql.length ? sql.charCodeAt(i + 2) : 0;
    if (after > 32 && after !== 127)
      throw new SqlRefusal(
        '-- without a following space: MySQL reads two minus signs, other servers a comment',
      );
  }
  return endOfLine(sql, i, mode === 'postgresql');
}

function endOfLine(sql: string, i: number, carriageReturnEnds: boolean): number {
  const newline = sql.indexOf('\n', i);
  let end = newline === -1 ? sql.length : newline;
  if (carriageReturnEnds) {
    const cr = sql.indexOf('\r', i);
    if (cr !== -1 && cr < end) end = cr;
  }
  return end;
}

/** Block comments: nested in PostgreSQL, flat in SQLite; in MySQL `/*!` runs its content, so it refuses. */
function blockComment(sql: string, i: number, mode: LexMode): number {
  const marker = sql.charCodeAt(i + 2);
  if (marker === 33 || marker === 43 || sql.startsWith('M!', i + 2))
    throw new SqlRefusal('executable comment or optimizer hint (/*! /*M! /*+)');
  if (mode === 'postgresql') {
    let depth = 0;
    let j = i + 2;
    while (j < sql.length) {
      if (sql.startsWith('/*', j)) {
        depth += 1;
        j += 2;
      } else if (sql.startsWith('*/', j)) {
        if (depth === 0) return j + 2;
        depth -= 1;
        j += 2;
      } else j += 1;
    }
    throw new SqlRefusal('unterminated comment');
  }
  const end = sql.indexOf('*/', i + 2);
  if (end === -1) throw new SqlRefusal('unterminated comment');
  // MySQL nests one level inside some comments and none in others: a /* inside a comment is refused.
  if ((mode === 'mysql' || mode === 'mysql-ansi') && sql.slice(i + 2, end).includes('/*'))
    throw new SqlRefusal('/* inside a comment');
  return end + 2;
}

/** `1`, `1.5`, `1e10`; a letter, digit, `$`, `.` or quote right after a number refuses (`0x1f`, `1_000`, `123abc`). */
function numberEnd(sql: string, i: number): number {
  const match = /\d+(?:\.\d*)?(?:[eE][+-]?\d+)?/y;
  match.lastIndex = i;
  match.exec(sql);
  const end = match.lastIndex;
  const after = end < sql.length ? sql.charCodeAt(end) : -1;
  if (
    isWordPart(after) ||
    after === 36 ||
    after === 46 ||
    after === 39 ||
    after === 34 ||
    after === 96 ||
    after > 127
  )
    throw new SqlRefusal(`number ${sql.slice(i, end + 1)}…: not a plain decimal number`);
  return end;
}

/** The end of PostgreSQL's E'…' or N'…' at `start` (B'…' and X'…' refuse); undefined when `word` is no prefix. */
function pgPrefixed(sql: string, start: number, word: string): number | undefined {
  const open = start + word.length;
  const lower = word.toLowerCase();
  if (lower === 'e') return singleQuoted(sql, open, false, true);
  if (lower === 'n') return singleQuoted(sql, open, true);
  if (lower === 'b' || lower === 'x') throw new SqlRefusal('bit-string literals are not supported');
  return undefined;
}

/** PostgreSQL operators as scan.l cuts them: stop before `--` and `/*`, drop a trailing + or - unless kept. */
function pgOperator(sql: string, i: number): string | undefined {
  if (!PG_OP_CHARS.includes(sql[i]!)) return undefined;
  let j = i;
  while (j < sql.length && PG_OP_CHARS.includes(sql[j]!)) {
    if (j > i && (sql.startsWith('--', j) || sql.startsWith('/*', j))) break;
    j += 1;
  }
  let length = j - i;
  const run = sql.slice(i, j);
  if (length > 1 && (run[length - 1] === '+' || run[length - 1] === '-')) {
    let keeps = false;
    for (let k = 0; k < length - 1; k += 1) if (PG_KEEPS_SIGN.includes(run[k]!)) keeps = true;
    if (!keeps) while (length > 1 && (run[length - 1] === '+' || run[length - 1] === '-')) length -= 1;
  }
  return run.slice(0, length);
}

function longestOperator(sql: string, i: number, mysql: boolean): string | undefined {
  for (const op of mysql ? MYSQL_MULTI : SQLITE_MULTI) if (sql.startsWith(op, i)) return op;
  const c = sql[i]!;
  return (mysql ? MYSQL_SINGLE : SQLITE_SINGLE).includes(c) ? c : undefined;
}
