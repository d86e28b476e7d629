import { type DialectRules, dialectRules, lexMode, type SqlDialect } from './dialect.ts';
import { tokenize } from './lexer.ts';
import { type ColumnUse, ParseState, type TableUse } from './parse-state.ts';
import { query } from './query.ts';
import { type StatementKind, statement } from './statement.ts';
import { SqlRefusal } from './token.ts';

/** Longest statement analysed, in UTF-16 code units. */
export const MAX_SQL = 100_000;
const CACHE_SIZE = 1000;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What one statement touches, as read once; or why it is refused. */
export type SqlAnalysis =
  | {
      readonly ok: true;
      readonly statement: StatementKind;
      readonly tables: readonly TableUse[];
      /** Names of the functions it calls (lowercase), each once. */
      readonly functions: readonly string[];
      readonly columns: readonly ColumnUse[];
    }
  | { readonly ok: false; readonly problem: string };

/**
 * Recently used analyses of one dialect, at most CACHE_SIZE: two generations of maps, the older
 * dropped whole when the newer fills, so a hit is one map lookup (a delete-and-set LRU on a JS Map
 * slows down to microseconds once it has evicted many entries).
 */
class AnalysisCache {
  private recent = new Map<string, SqlAnalysis>();
  private older = new Map<string, SqlAnalysis>();

  get(sql: string): SqlAnalysis | undefined {
    const hit = this.recent.get(sql);
    if (hit !== undefined) return hit;
    const old = this.older.get(sql);
    if (old !== undefined) this.add(sql, old);
    return old;
  }

  add(sql: string, analysis: SqlAnalysis): void {
    if (this.recent.size >= CACHE_SIZE / 2) {
      this.older = this.recent;
      this.recent = new Map();
    }
    this.recent.set(sql, analysis);
  }
}

const caches = new Map<string, AnalysisCache>();

/**
 * The analysis function of a dialect: reads (or takes from the dialect's cache of recently used
 * statements, shared by all scopes of that dialect) what a statement does. It never throws.
 */
export function analyzer(dialect: SqlDialect, ansiQuotes: boolean): (sql: string) => SqlAnalysis {
  // Per dialect, not per lexer mode: MySQL and MariaDB lex alike but read RETURNING and DELETE aliases differently.
  const key = `${dialect}${ansiQuotes ? '+ansi' : ''}`;
  let cache = caches.get(key);
  if (cache === undefined) {
    cache = new AnalysisCache();
    caches.set(key, cache);
  }
  const recent = cache;
  return (sql) => {
    const hit = recent.get(sql);
    if (hit !== undefined) return hit;
    const analysis = analyzeUncached(sql, dialect, ansiQuotes);
    recent.add(sql, analysis);
    return analysis;
  };
}

function analyzeUncached(sql: string, dialect: SqlDialect, ansiQuotes: boolean): SqlAnalysis {
  if (sql.length === 0 || sql.length > MAX_SQL) return { ok: false, problem: 'empty or too long' };
  if (sql.includes('\u0000')) return { ok: false, problem: 'NUL character' };
  if (LONE_SURROGATE.test(sql)) return { ok: false, problem: 'lone surrogate' };
  try {
    const rules: DialectRules = dialectRules(dialect);
    const state = new ParseState(tokenize(sql, lexMode(dialect, ansiQuotes)), rules, query);
    const kind = statement(state);
    state.resolveColumns();
    return {
      ok: true,
      statement: kind,
      tables: state.tables,
      functions: [...state.functions],
      columns: state.columns,
    };
  } catch (error) {
    if (error instanceof SqlRefusal) return { ok: false, problem: error.message };
    // A stack overflow or a bug in the parser refuses the statement, never allows it.
    return {
      ok: false,
      problem: `not understood (${String((error as Error)?.message ?? error).slice(0, 120)})`,
    };
  }
}
