import { ConfigurationError } from '../../errors.ts';
import { analyzer } from '../../sql/analysis.ts';
import { dialectRules, type SqlDialect } from '../../sql/dialect.ts';
import { defaultSqlFunctions, neverAllowed } from '../../sql/functions.ts';
import type { JsonValue } from '../../types.ts';
import { defineScope, type PolicyScope } from './scope.ts';

/** A scope's functions: `add` to and `remove` from the dialect's default list. */
export interface SqlFunctionsOptions {
  /** Functions allowed besides the default ones, e.g. `['regexp_replace']`. */
  add?: readonly string[];
  /** Default functions to refuse, e.g. `['now']`. */
  remove?: readonly string[];
}

/** Options of `sqlScope`. */
export interface SqlScopeOptions {
  /** How the server reads SQL: `'postgresql'`, `'mysql'`, `'mariadb'` or `'sqlite'`. Required: nothing guesses it. */
  dialect: SqlDialect;
  /** Tables the statement may touch, e.g. `['orders', 'public.customers']` (a qualified name matches only qualified). */
  tables: readonly string[];
  /**
   * Columns it may read and write: `'column'` (of any allowed table), `'table.column'`, `'table.*'`
   * (every column of the table), `'*'` (every column). A table none of them names cannot be used at
   * all, and DELETE needs `'table.*'` or `'*'`. Default: any.
   */
  columns?: readonly string[];
  /** Only a single query (no INSERT, UPDATE or DELETE). @default true */
  readOnly?: boolean;
  /** Adds a `maxRows` obligation: the guard pushes a LIMIT / truncates the rows. */
  maxRows?: number;
  /**
   * Functions the statement may call: a list replaces the dialect's default (`defaultSqlFunctions`),
   * `{ add, remove }` changes it. Every other function refuses the statement.
   */
  functions?: readonly string[] | SqlFunctionsOptions;
  /** MySQL / MariaDB only: the server runs with `ANSI_QUOTES`, so `"…"` is a name, not a string. @default false */
  ansiQuotes?: boolean;
}

const SQL_KEYS = new Set(['dialect', 'tables', 'columns', 'readOnly', 'maxRows', 'functions', 'ansiQuotes']);
const DIALECTS: readonly SqlDialect[] = ['postgresql', 'mysql', 'mariadb', 'sqlite'];
const FUNCTION_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A scope on an SQL statement (the value of e.g. `args.sql`) in a declared dialect. The statement is
 * cut into tokens exactly as that server does (strings, quoted names, comments, dollar quoting) and
 * read by a parser of a small, known subset; anything else, ambiguous or not understood, is out of
 * scope. In scope only when it is one statement, every table it touches (through joins, subqueries,
 * WITH, set operations) is in `tables` after resolving WITH names where they stand, every function
 * it calls is on the allow list, every column it reads is allowed, and with `readOnly` (the default)
 * it is a query. Analyses are cached by statement text (LRU, 1,000 per dialect).
 *
 * @example
 * import { sqlScope } from 'toolgate/sql';
 * rules([{ id: 'read-orders', effect: 'allow', tool: 'db.query',
 *   when: { 'args.sql': sqlScope({ dialect: 'postgresql', tables: ['orders'], maxRows: 500 }) } }]);
 */
export function sqlScope(options: SqlScopeOptions): PolicyScope {
  if (typeof options !== 'object' || options === null)
    throw new ConfigurationError(
      'sqlScope() takes { dialect, tables, columns?, readOnly?, maxRows?, functions?, ansiQuotes? }',
    );
  for (const key of Object.keys(options))
    if (!SQL_KEYS.has(key)) throw new ConfigurationError(`sqlScope(): unknown option ${key}`);
  const { dialect, tables, columns, readOnly = true, maxRows, functions, ansiQuotes = false } = options;
  if (!DIALECTS.includes(dialect))
    throw new ConfigurationError(
      `sqlScope(): dialect is required, one of ${DIALECTS.map((d) => `'${d}'`).join(', ')} (nothing guesses it)`,
    );
  if (!Array.isArray(tables) || tables.length === 0 || !tables.every(isIdentifierPath))
    throw new ConfigurationError('sqlScope(): tables must be a non-empty list of table names');
  if (
    columns !== undefined &&
    (!Array.isArray(columns) ||
      !columns.every(
        (c) => c === '*' || isIdentifierPath(c) || (isIdentifierPath(c.slice(0, -2)) && c.endsWith('.*')),
      ))
  )
    throw new ConfigurationError('sqlScope(): columns must be a list of column names');
  if (typeof readOnly !== 'boolean') throw new ConfigurationError('sqlScope(): readOnly must be a boolean');
  if (maxRows !== undefined && !(Number.isInteger(maxRows) && maxRows >= 0))
    throw new ConfigurationError('sqlScope(): maxRows must be a non-negative integer');
  if (typeof ansiQuotes !== 'boolean')
    throw new ConfigurationError('sqlScope(): ansiQuotes must be a boolean');
  if (ansiQuotes && dialect !== 'mysql' && dialect !== 'mariadb')
    throw new ConfigurationError('sqlScope(): ansiQuotes is a MySQL / MariaDB option');
  const rules = dialectRules(dialect);
  const table = (name: string) => rules.tableKey({ text: name, quoted: false });
  const column = (name: string) => rules.columnKey({ text: name, quoted: false });
  const allowedTables = new Set(tables.map((name) => name.split('.').map(table).join('\u0000')));
  const allowedColumns =
    columns === undefined
      ? undefined
      : new Set(
          columns.map((name) => {
            const dot = name.indexOf('.');
            if (dot === -1) return name === '*' ? '*' : column(name);
            const part = name.slice(dot + 1);
            return `${table(name.slice(0, dot))}\u0000${part === '*' ? '*' : column(part)}`;
          }),
        );
  // Tables a role granted exactly `columns` may use at all: those with a granted column ('*' and an
  // unqualified entry may name a column of any table).
  const tablesWithColumns = new Set<string>();
  let anyTableHasColumns = false;
  for (const key of allowedColumns ?? []) {
    const cut = key.indexOf('\u0000');
    if (cut === -1) anyTableHasColumns = true;
    else tablesWithColumns.add(key.slice(0, cut));
  }
  const allowedFunctions = functionList(dialect, functions);
  const analyze = analyzer(dialect, ansiQuotes);
  const spec: Record<string, JsonValue> = { dialect, tables: [...tables], readOnly };
  if (columns !== undefined) spec.columns = [...columns];
  if (maxRows !== undefined) spec.maxRows = maxRows;
  if (functions !== undefined) spec.functions = [...allowedFunctions].sort();
  if (ansiQuotes) spec.ansiQuotes = true;

  const shownName = (key: string) => key.split('\u0000').join('.');
  /** Why a statement is out of scope (the first problem found), or undefined when it is in scope. */
  const refusal = (sql: string): string | undefined => {
    const analysis = analyze(sql);
    if (!analysis.ok) return `is not a statement the scope can read (${analysis.problem})`;
    if (readOnly && analysis.statement !== 'select')
      return `is a ${analysis.statement} statement; the scope allows only queries`;
    for (const use of analysis.tables)
      if (!allowedTables.has(use.key)) return `reads table ${shownName(use.key)}, outside the scope`;
    for (const name of analysis.functions)
      if (!allowedFunctions.has(name)) return `calls function ${name}, outside the scope`;
    if (allowedColumns !== undefined) {
      // Counting rows, EXISTS or a join needs a grant on some column of the table, and DELETE (no
      // column privilege exists for it) removes every column of its rows.
      for (const use of analysis.tables) {
        if (!anyTableHasColumns && !tablesWithColumns.has(use.name))
          return `uses table ${shownName(use.key)}, of which the scope allows no column`;
        if (
          use.write &&
          analysis.statement === 'delete' &&
          !allowedColumns.has('*') &&
          !allowedColumns.has(`${use.name}\u0000*`)
        )
          return `deletes whole rows of table ${shownName(use.key)}; the scope allows only some of its columns`;
      }
      for (const use of analysis.columns) {
        for (const name of use.tables) {
          // '*' and 'table.*' allow every column (of every table, of that table).
          const ok =
            allowedColumns.has('*') ||
            allowedColumns.has(`${name}\u0000*`) ||
            (use.column !== undefined &&
              (allowedColumns.has(use.column) || allowedColumns.has(`${name}\u0000${use.column}`)));
          if (!ok)
            return `reads ${use.column === undefined ? 'every column' : `column ${use.column}`} of table ${shownName(name)}, outside the scope`;
        }
      }
    }
    return undefined;
  };
  const scope: PolicyScope = {
    kind: 'sql',
    spec,
    test(value: unknown): boolean | undefined {
      if (typeof value !== 'string') return undefined;
      return refusal(value) === undefined;
    },
    explain(value: unknown): string | undefined {
      return typeof value === 'string' ? refusal(value) : undefined;
    },
  };
  if (maxRows !== undefined) return defineScope({ ...scope, obligations: Object.freeze({ maxRows }) });
  return defineScope(scope);
}

/** The allowed function names (lowercase) from the dialect's default and the `functions` option. */
function functionList(dialect: SqlDialect, option: SqlScopeOptions['functions']): ReadonlySet<string> {
  const names = (value: unknown, what: string): string[] => {
    if (!Array.isArray(value) || !value.every((name) => typeof name === 'string' && FUNCTION_NAME.test(name)))
      throw new ConfigurationError(`sqlScope(): ${what} must be a list of function names`);
    return value.map((name: string) => name.toLowerCase());
  };
  let allowed: Set<string>;
  if (option === undefined) return new Set(defaultSqlFunctions[dialect]);
  if (Array.isArray(option)) allowed = new Set(names(option, 'functions'));
  else if (typeof option === 'object' && option !== null) {
    for (const key of Object.keys(option))
      if (key !== 'add' && key !== 'remove')
        throw new ConfigurationError(`sqlScope(): unknown option functions.${key}`);
    const { add = [], remove = [] } = option as SqlFunctionsOptions;
    allowed = new Set([...defaultSqlFunctions[dialect], ...names(add, 'functions.add')]);
    for (const name of names(remove, 'functions.remove')) allowed.delete(name);
  } else throw new ConfigurationError('sqlScope(): functions must be a list or { add, remove }');
  for (const name of allowed) {
    const problem = neverAllowed(name);
    if (problem !== undefined) throw new ConfigurationError(`sqlScope(): ${problem}; it cannot be allowed`);
  }
  return allowed;
}

function isIdentifierPath(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(value);
}
