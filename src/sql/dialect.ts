import { asciiLower, type LexMode } from './token.ts';

/** The dialects `sqlScope` tokenizes exactly. */
export type SqlDialect = 'postgresql' | 'mysql' | 'mariadb' | 'sqlite';

/** A name as written: its text and whether it was quoted. */
export interface SqlName {
  readonly text: string;
  readonly quoted: boolean;
}

/** What the parser needs to know about a dialect besides its lexer. */
export interface DialectRules {
  readonly family: 'postgresql' | 'mysql' | 'sqlite';
  /** How the server compares table (and WITH) names: PostgreSQL folds unquoted ones, MySQL is exact, SQLite ignores ASCII case. */
  tableKey(name: SqlName): string;
  /** How the server compares column names. */
  columnKey(name: SqlName): string;
  /** Words that are never an unquoted table, column or alias name. */
  readonly reserved: ReadonlySet<string>;
  /** Words that are values without parentheses (`current_date`, PostgreSQL `user`). */
  readonly niladic: ReadonlySet<string>;
  /** Type names a cast may name (after the first word of multi-word names). */
  readonly types: ReadonlySet<string>;
  /** Words that form a literal with a following string (`DATE '2026-01-01'`). */
  readonly typedLiterals: ReadonlySet<string>;
  /** PostgreSQL calls `f(t)` for `t.f` when t has no column f: these built-in f take a whole row. */
  readonly rowFunctions: ReadonlySet<string>;
  /**
   * The row functions PostgreSQL runs as `t.f` (the others need OVER or WITHIN GROUP and fail):
   * `t.f` with one of them reads every column of t unless t has a column f, which the scope
   * cannot see, so it needs both.
   */
  readonly rowReaders: ReadonlySet<string>;
  /** The writes that take a RETURNING list (MariaDB: INSERT and DELETE; MySQL: none). */
  readonly returning: ReadonlySet<string>;
  /** `DELETE FROM t [AS] a` (MariaDB 10.11 has no alias there). */
  readonly deleteAlias: boolean;
}

const words = (text: string): ReadonlySet<string> => new Set(text.trim().split(/\s+/));

/** Clause, operator and modifier words of the three dialects: taken as a name, they would change the parse. */
const COMMON_RESERVED = `
  select from where group by having order limit offset fetch union intersect except minus into for join
  inner left right full outer cross natural on using as with recursive window over partition lateral only
  tablesample returning values table and or not is null true false unknown in exists between like ilike
  similar regexp rlike glob match escape case when then else end cast distinct all any some asc desc
  collate array row interval unique default create drop alter insert update delete replace set grant
  revoke lock procedure straight_join high_priority low_priority distinctrow sql_calc_found_rows sql_small_result
  sql_big_result sql_buffer_result sql_no_cache sql_cache use ignore force indexed dual div mod xor both
  leading trailing analyse analyze do to variadic placing symmetric asymmetric overlaps notnull isnull
  binary freeze verbose concurrently authorization current_date current_time current_timestamp
  current_user current_role current_catalog current_schema session_user system_user localtime
  localtimestamp utc_date utc_time utc_timestamp filter within nulls primary references check constraint
  foreign outfile dumpfile load execute call explain describe show uescape`;

const PG_NILADIC = words(`current_date current_time current_timestamp localtime localtimestamp current_user
  current_role session_user user current_catalog current_schema`);
const MYSQL_NILADIC = words(`current_date current_time current_timestamp localtime localtimestamp utc_date
  utc_time utc_timestamp current_user`);
const SQLITE_NILADIC = words('current_date current_time current_timestamp');

const PG_TYPES = words(`smallint integer int bigint int2 int4 int8 numeric decimal real float float4 float8
  double text varchar character char boolean bool date time timestamp timestamptz interval uuid`);
const MYSQL_TYPES = words('signed unsigned char date datetime time decimal double float integer int');
const SQLITE_TYPES = words('integer int real text numeric blob float double varchar');

/** pg_catalog functions (PostgreSQL 15) with one argument of type record, anyelement, "any" or the like. */
const PG_ROW_FUNCTIONS =
  words(`any_out anycompatible_out anyelement_out anynonarray_out array_agg concat count
  cume_dist dense_rank first_value hash_record json_agg json_build_array json_build_object jsonb_agg
  jsonb_build_array jsonb_build_object lag last_value lead mode num_nonnulls num_nulls percent_rank
  pg_collation_for pg_column_compression pg_column_size pg_typeof quote_literal quote_nullable rank
  record_out record_send row_to_json to_json to_jsonb hstore`);
/** Window and ordered-set aggregates: without OVER or WITHIN GROUP (which `t.f` cannot carry) they fail. */
const PG_ROW_WINDOWED = words('cume_dist dense_rank first_value lag last_value lead mode percent_rank rank');
const PG_ROW_READERS: ReadonlySet<string> = new Set(
  [...PG_ROW_FUNCTIONS].filter((name) => !PG_ROW_WINDOWED.has(name)),
);

const folded = (name: SqlName): string => (name.quoted ? name.text : asciiLower(name.text));
const exact = (name: SqlName): string => name.text;
const anyCase = (name: SqlName): string => asciiLower(name.text);
const NONE: ReadonlySet<string> = new Set();
const ALL_WRITES = words('insert update delete');

const POSTGRESQL: DialectRules = {
  family: 'postgresql',
  tableKey: folded,
  columnKey: folded,
  reserved: words(`${COMMON_RESERVED} user`),
  niladic: PG_NILADIC,
  types: PG_TYPES,
  typedLiterals: words('date time timestamp timestamptz interval'),
  rowFunctions: PG_ROW_FUNCTIONS,
  rowReaders: PG_ROW_READERS,
  returning: ALL_WRITES,
  deleteAlias: true,
};

const MYSQL: DialectRules = {
  family: 'mysql',
  tableKey: exact,
  columnKey: anyCase,
  reserved: words(COMMON_RESERVED),
  niladic: MYSQL_NILADIC,
  types: MYSQL_TYPES,
  typedLiterals: words('date time timestamp'),
  rowFunctions: NONE,
  rowReaders: NONE,
  returning: NONE,
  deleteAlias: true,
};

/** MariaDB 10.11: MySQL's rules, with RETURNING on INSERT and DELETE (not UPDATE), no alias in DELETE. */
const MARIADB: DialectRules = { ...MYSQL, returning: words('insert delete'), deleteAlias: false };

const SQLITE: DialectRules = {
  family: 'sqlite',
  tableKey: anyCase,
  columnKey: anyCase,
  reserved: words(COMMON_RESERVED),
  niladic: SQLITE_NILADIC,
  types: SQLITE_TYPES,
  typedLiterals: NONE,
  rowFunctions: NONE,
  rowReaders: NONE,
  returning: ALL_WRITES,
  deleteAlias: true,
};

/** The parser's rules for a dialect. */
export function dialectRules(dialect: SqlDialect): DialectRules {
  if (dialect === 'postgresql') return POSTGRESQL;
  if (dialect === 'sqlite') return SQLITE;
  return dialect === 'mariadb' ? MARIADB : MYSQL;
}

/** The lexer mode of a dialect and its options. */
export function lexMode(dialect: SqlDialect, ansiQuotes: boolean): LexMode {
  if (dialect === 'postgresql' || dialect === 'sqlite') return dialect;
  return ansiQuotes ? 'mysql-ansi' : 'mysql';
}
