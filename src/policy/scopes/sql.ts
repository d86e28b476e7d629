import nodeSqlParser from 'node-sql-parser';
import { ConfigurationError } from '../../errors.ts';
import { defineScope, type PolicyScope } from './scope.ts';

/** Options of `sqlScope`. */
export interface SqlScopeOptions {
  /** Tables the statement may touch, e.g. `['orders', 'public.customers']` (a qualified name matches only qualified). */
  tables: readonly string[];
  /** Columns it may read: `'column'` (any allowed table) or `'table.column'`; `'*'` allows `SELECT *`. Default: any. */
  columns?: readonly string[];
  /** Only a single plain `SELECT` (no `INTO`, no writes anywhere). @default true */
  readOnly?: boolean;
  /** Adds a `maxRows` obligation: the guard pushes a LIMIT / truncates the rows. */
  maxRows?: number;
  /** SQL dialect of node-sql-parser. @default 'postgresql' */
  dialect?:
    | 'postgresql'
    | 'mysql'
    | 'mariadb'
    | 'sqlite'
    | 'transactsql'
    | 'bigquery'
    | 'snowflake'
    | 'redshift';
}

const SQL_KEYS = new Set(['tables', 'columns', 'readOnly', 'maxRows', 'dialect']);
const MAX_SQL = 100_000;
const CACHE_SIZE = 1000;

/** Functions with side effects or that read outside the tables (files, network, locks, sleeps, settings). */
const FORBIDDEN_FUNCTIONS = new Set([
  'sleep',
  'benchmark',
  'load_file',
  'set_config',
  'nextval',
  'setval',
  'txid_current',
  'query_to_xml',
  'query_to_json',
  'table_to_xml',
  'database_to_xml',
  'xp_cmdshell',
  'sys_exec',
  'sys_eval',
  'get_lock',
  'release_lock',
  'openrowset',
  'opendatasource',
  'copy',
  'currval',
  'lastval',
  'version',
  'current_setting',
]);
const FORBIDDEN_PREFIXES = ['pg_', 'lo_', 'dblink', 'sys_', 'xp_', 'sp_'];

/** What a statement does, as parsed once. */
type Analysis =
  | {
      readonly ok: true;
      readonly type: string;
      /** `[operation, schema|null, table]` for every table the statement touches (CTE names excluded). */
      readonly tables: readonly (readonly [string, string | null, string])[];
      /** `[table|null, column]`; column `'*'` for a star. */
      readonly columns: readonly (readonly [string | null, string])[];
      readonly into: boolean;
      readonly functions: readonly string[];
      readonly quoted: boolean;
    }
  | { readonly ok: false; readonly problem: string };

const caches = new Map<string, Map<string, Analysis>>();
let parser: InstanceType<typeof nodeSqlParser.Parser> | undefined;

/**
 * A scope on an SQL statement (the value of e.g. `args.sql`), parsed with node-sql-parser (an
 * optional peer dependency imported only by `toolgate/sql`). In scope only when the text is one
 * statement that parses, every table it touches (through joins, subqueries, CTEs, UNION) is in
 * `tables`, every column is allowed, no forbidden function is called, and with `readOnly` (the
 * default) it is a plain `SELECT` without `INTO`. Stacked statements, writes inside `WITH`,
 * `EXPLAIN ANALYZE`, MySQL executable comments (`/*!`) and anything the parser cannot read are out
 * of scope. Analyses are cached by statement text (LRU, 1,000 per dialect).
 *
 * @example
 * import { sqlScope } from 'toolgate/sql';
 * rules([{ id: 'read-orders', effect: 'allow', tool: 'db.query',
 *   when: { 'args.sql': sqlScope({ tables: ['orders'], maxRows: 500 }) } }]);
 */
export function sqlScope(options: SqlScopeOptions): PolicyScope {
  if (typeof options !== 'object' || options === null)
    throw new ConfigurationError('sqlScope() takes { tables, columns?, readOnly?, maxRows?, dialect? }');
  for (const key of Object.keys(options))
    if (!SQL_KEYS.has(key)) throw new ConfigurationError(`sqlScope(): unknown option ${key}`);
  const { tables, columns, readOnly = true, maxRows, dialect = 'postgresql' } = options;
  if (!Array.isArray(tables) || tables.length === 0 || !tables.every(isIdentifierPath))
    throw new ConfigurationError('sqlScope(): tables must be a non-empty list of table names');
  if (
    columns !== undefined &&
    (!Array.isArray(columns) || !columns.every((c) => c === '*' || isIdentifierPath(c)))
  )
    throw new ConfigurationError('sqlScope(): columns must be a list of column names');
  if (typeof readOnly !== 'boolean') throw new ConfigurationError('sqlScope(): readOnly must be a boolean');
  if (maxRows !== undefined && !(Number.isInteger(maxRows) && maxRows >= 0))
    throw new ConfigurationError('sqlScope(): maxRows must be a non-negative integer');
  if (typeof dialect !== 'string') throw new ConfigurationError('sqlScope(): dialect must be a string');
  const allowedTables = new Set(tables);
  const allowedLower = new Set(tables.map((table) => table.toLowerCase()));
  const allowedColumns = columns === undefined ? undefined : new Set(columns.map((c) => c.toLowerCase()));
  const spec = {
    tables: [...tables],
    readOnly,
    dialect,
    ...(columns === undefined ? {} : { columns: [...columns] }),
    ...(maxRows === undefined ? {} : { maxRows }),
  };
  const tableAllowed = (name: string, quoted: boolean) =>
    allowedTables.has(name) || (!quoted && allowedLower.has(name.toLowerCase()));

  const scope: PolicyScope = {
    kind: 'sql',
    spec,
    test(value: unknown): boolean | undefined {
      if (typeof value !== 'string') return undefined;
      const analysis = analyze(value, dialect);
      if (!analysis.ok) return false;
      if (readOnly && (analysis.type !== 'select' || analysis.into)) return false;
      const touched = new Set<string>();
      for (const [operation, schema, table] of analysis.tables) {
        if (readOnly && operation !== 'select') return false;
        const name = schema === null ? table : `${schema}.${table}`;
        if (!tableAllowed(name, analysis.quoted)) return false;
        touched.add(name.toLowerCase());
      }
      for (const fn of analysis.functions) {
        for (const part of fn.split('.')) {
          if (FORBIDDEN_FUNCTIONS.has(part) || FORBIDDEN_PREFIXES.some((prefix) => part.startsWith(prefix)))
            return false;
        }
      }
      if (allowedColumns !== undefined) {
        for (const [table, column] of analysis.columns) {
          if (!columnAllowed(allowedColumns, table, column, touched)) return false;
        }
      }
      return true;
    },
  };
  if (maxRows !== undefined) return defineScope({ ...scope, obligations: Object.freeze({ maxRows }) });
  return defineScope(scope);
}

function columnAllowed(
  allowed: ReadonlySet<string>,
  table: string | null,
  column: string,
  touched: ReadonlySet<string>,
): boolean {
  const name = column.toLowerCase();
  if (name === '*') {
    if (allowed.has('*')) return true;
    return table !== null && allowed.has(`${table.toLowerCase()}.*`);
  }
  if (allowed.has(name)) return true;
  if (table !== null) return allowed.has(`${table.toLowerCase()}.${name}`);
  // An unqualified column is unambiguous only when the statement touches one table.
  if (touched.size === 1) return allowed.has(`${[...touched][0]}.${name}`);
  return false;
}

function isIdentifierPath(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/.test(value);
}

/** Parses (or reads from the LRU cache) what a statement does. Never throws. */
export function analyze(sql: string, dialect: string): Analysis {
  let cache = caches.get(dialect);
  if (cache === undefined) {
    cache = new Map();
    caches.set(dialect, cache);
  }
  const hit = cache.get(sql);
  if (hit !== undefined) {
    cache.delete(sql);
    cache.set(sql, hit);
    return hit;
  }
  const analysis = analyzeUncached(sql, dialect);
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(sql, analysis);
  return analysis;
}

function analyzeUncached(sql: string, dialect: string): Analysis {
  if (sql.length === 0 || sql.length > MAX_SQL) return { ok: false, problem: 'empty or too long' };
  if (sql.includes('\u0000')) return { ok: false, problem: 'NUL character' };
  if (sql.includes('/*!') || sql.includes('/*+')) return { ok: false, problem: 'executable or hint comment' };
  parser ??= new nodeSqlParser.Parser();
  let result: { tableList: string[]; columnList: string[]; ast: unknown };
  try {
    result = parser.parse(sql, { database: dialect }) as typeof result;
  } catch (error) {
    return {
      ok: false,
      problem: `does not parse: ${String((error as Error)?.message ?? error).slice(0, 200)}`,
    };
  }
  const statements = Array.isArray(result.ast) ? result.ast : [result.ast];
  if (statements.length !== 1) return { ok: false, problem: 'more than one statement' };
  const ast = statements[0] as Record<string, unknown> | null;
  if (typeof ast !== 'object' || ast === null) return { ok: false, problem: 'no statement' };
  const cteNames = new Set<string>();
  const functions: string[] = [];
  let into = false;
  walk(ast, (node) => {
    if (node.type === 'function' || node.type === 'aggr_func') {
      const name = functionName(node.name);
      if (name !== undefined) functions.push(name.toLowerCase());
    }
    const target = node.into as Record<string, unknown> | undefined;
    if (typeof target === 'object' && target !== null && (target.expr != null || target.position != null))
      into = true;
    if (Array.isArray(node.with)) {
      for (const cte of node.with as Record<string, unknown>[]) {
        const name = cte?.name as { value?: unknown } | string | undefined;
        const text = typeof name === 'string' ? name : name?.value;
        if (typeof text === 'string') cteNames.add(text);
      }
    }
  });
  const tables: [string, string | null, string][] = [];
  for (const entry of result.tableList ?? []) {
    const [operation = '', schema = 'null', table = ''] = entry.split('::');
    if (schema === 'null' && cteNames.has(table)) continue;
    tables.push([operation.toLowerCase(), schema === 'null' ? null : schema, table]);
  }
  const columns: [string | null, string][] = [];
  for (const entry of result.columnList ?? []) {
    const [, table = 'null', column = ''] = entry.split('::');
    columns.push([table === 'null' ? null : table, column === '(.*)' ? '*' : column]);
  }
  return {
    ok: true,
    type: String(ast.type).toLowerCase(),
    tables,
    columns,
    into,
    functions,
    quoted: /["`[]/.test(sql),
  };
}

function functionName(name: unknown): string | undefined {
  if (typeof name === 'string') return name;
  if (typeof name !== 'object' || name === null) return undefined;
  const parts = (name as { name?: unknown }).name;
  if (Array.isArray(parts)) {
    const values = parts
      .map((part) => (part as { value?: unknown })?.value)
      .filter((v) => typeof v === 'string');
    return values.length === 0 ? undefined : values.join('.');
  }
  return undefined;
}

function walk(node: unknown, visit: (node: Record<string, unknown>) => void, depth = 0): void {
  if (depth > 500 || typeof node !== 'object' || node === null) return;
  if (Array.isArray(node)) {
    for (const item of node) walk(item, visit, depth + 1);
    return;
  }
  visit(node as Record<string, unknown>);
  for (const value of Object.values(node)) walk(value, visit, depth + 1);
}
