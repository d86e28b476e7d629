/** How a dialect's text is cut into tokens; `mysql-ansi` is MySQL/MariaDB with `ANSI_QUOTES`. */
export type LexMode = 'postgresql' | 'mysql' | 'mysql-ansi' | 'sqlite';

/** One token of a statement. Comments and whitespace are dropped; `spaced` remembers them. */
export interface Token {
  /** `word`: an unquoted identifier or keyword; `quoted`: a delimited identifier; `end`: after the last token. */
  readonly kind: 'word' | 'quoted' | 'string' | 'number' | 'op' | 'end';
  /** A word as written, a quoted identifier's name (unescaped), an operator or punctuation mark. */
  readonly text: string;
  /** `text` with ASCII letters lowered (keywords are matched on this). */
  readonly lower: string;
  /** Whitespace or a comment stands right before this token. */
  readonly spaced: boolean;
  /** Offset in the statement, for messages. */
  readonly at: number;
}

/** Thrown inside the lexer and parser when a statement is refused; caught by `analyze`. */
export class SqlRefusal extends Error {
  override readonly name = 'SqlRefusal';
}

/** Lowers ASCII letters only, as PostgreSQL folds unquoted names and SQLite compares them. */
export function asciiLower(text: string): string {
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c >= 65 && c <= 90) {
      let out = text.slice(0, i);
      for (let j = i; j < text.length; j += 1) {
        const d = text.charCodeAt(j);
        out += d >= 65 && d <= 90 ? String.fromCharCode(d + 32) : text[j];
      }
      return out;
    }
  }
  return text;
}
