import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dialectRules } from '../../src/sql/dialect.ts';
import { defaultSqlFunctions, sqlScope } from '../../src/sql/index.ts';
import { corpus } from './sql-oracle/corpus.ts';
import {
  NARROW_COLUMNS,
  ORDERS_ONLY_COLUMNS,
  reviewCases,
  TABLE_LEVEL_ALLOWED,
  TABLE_LEVEL_REFUSED,
  TRAILING_ALLOWED,
  TRAILING_REFUSED,
  VALUES_ALLOWED,
  VALUES_REFUSED,
  WRITE_SYNTAX_ALLOWED,
} from './sql-oracle/review-cases.ts';
import { runCorpus, runGenerated } from './sql-oracle/runs.ts';
import { GENERATED_RUNS, POSTGRES, postgresSkipReason, uniqueName } from './sql-oracle/servers.ts';
import { type OracleTarget, oracleTables } from './sql-oracle/vocabulary.ts';

const skip = await postgresSkipReason();
const schema = uniqueName('sql');
const target: OracleTarget = { family: 'postgresql', schema, other: `${schema}_x` };
const roles = {
  read: `${schema}_read`,
  write: `${schema}_write`,
  narrow: `${schema}_narrow`,
  narrowWrite: `${schema}_nw`,
  ordersOnly: `${schema}_oo`,
};
const tables = oracleTables(target);
const scopes = {
  read: sqlScope({ dialect: 'postgresql', tables }),
  write: sqlScope({ dialect: 'postgresql', tables, readOnly: false }),
  narrow: sqlScope({ dialect: 'postgresql', tables, columns: NARROW_COLUMNS }),
  narrowWrite: sqlScope({ dialect: 'postgresql', tables, columns: NARROW_COLUMNS, readOnly: false }),
  ordersOnly: sqlScope({ dialect: 'postgresql', tables, columns: ORDERS_ONLY_COLUMNS }),
  ordersOnlyWrite: sqlScope({ dialect: 'postgresql', tables, columns: ORDERS_ONLY_COLUMNS, readOnly: false }),
};
/** Volatile pg_catalog functions a scope may still allow: plain computations, none waits or writes. */
const PLAIN_VOLATILE = new Set(['clock_timestamp', 'gen_random_uuid', 'random', 'timeofday']);
const _request = {} as never;

const SETUP = `
  CREATE SCHEMA ${schema};
  CREATE SCHEMA ${target.other};
  CREATE TABLE ${schema}.orders (id int, customer_id int, total int, status text, note text, created date);
  CREATE TABLE ${schema}.customers (id int, name text, email text);
  CREATE TABLE ${schema}.secrets (id int, password text, tsv tsvector);
  CREATE TABLE ${schema}."ORDERS" (id int, note text);
  CREATE TABLE ${target.other}.orders (id int, customer_id int, total int, status text, note text, created date);
  INSERT INTO ${schema}.orders VALUES (1, 1, 10, 'paid', 'a note', '2026-01-01'), (2, 2, 20, 'open', NULL, '2026-01-02'),
    (3, 1, 30, 'paid', 'another', '2026-01-03');
  INSERT INTO ${schema}.customers VALUES (1, 'Ada', 'ada@example.com'), (2, 'Bo', 'bo@example.com');
  INSERT INTO ${schema}.secrets VALUES (1, 'hunter2', to_tsvector('hunter2'));
  INSERT INTO ${schema}."ORDERS" VALUES (1, 'shadow');
  INSERT INTO ${target.other}.orders VALUES (1, 1, 1, 'x', 'other', '2026-01-01');
  CREATE ROLE ${roles.read} LOGIN;
  CREATE ROLE ${roles.write} LOGIN;
  CREATE ROLE ${roles.narrow} LOGIN;
  CREATE ROLE ${roles.narrowWrite} LOGIN;
  CREATE ROLE ${roles.ordersOnly} LOGIN;
  GRANT USAGE ON SCHEMA ${schema} TO ${roles.read}, ${roles.write}, ${roles.narrow}, ${roles.narrowWrite}, ${roles.ordersOnly};
  GRANT SELECT ON ${schema}.orders, ${schema}.customers TO ${roles.read};
  GRANT SELECT, INSERT, UPDATE, DELETE ON ${schema}.orders, ${schema}.customers TO ${roles.write};
  GRANT SELECT (id, customer_id, total, status) ON ${schema}.orders TO ${roles.narrow};
  GRANT SELECT (id, name) ON ${schema}.customers TO ${roles.narrow};
  GRANT SELECT (id, customer_id, total, status), INSERT (id, customer_id, total, status),
    UPDATE (id, customer_id, total, status) ON ${schema}.orders TO ${roles.narrowWrite};
  GRANT SELECT (id, name), INSERT (id, name), UPDATE (id, name) ON ${schema}.customers TO ${roles.narrowWrite};
  GRANT SELECT (id, customer_id, total, status), INSERT (id, customer_id, total, status),
    UPDATE (id, customer_id, total, status) ON ${schema}.orders TO ${roles.ordersOnly};
`;

/** A connection as `role`, pinned to the test schema, printing its parse trees as notices. */
class RoleConnection {
  readonly client: pg.Client;
  private notices: string[] = [];

  constructor(role: string) {
    const options = [
      `-c search_path=${schema}`,
      '-c statement_timeout=5000',
      '-c lock_timeout=1000',
      '-c debug_print_parse=on',
      '-c debug_pretty_print=off',
      '-c client_min_messages=log',
    ].join(' ');
    this.client = new pg.Client({ ...POSTGRES, user: role, options });
    this.client.on('notice', (notice) => {
      if (notice.message === 'parse tree:') this.notices.push(notice.detail ?? '');
    });
  }

  /** Runs `sql` alone in a rolled-back transaction: the error (if any) and the parse tree. */
  async run(sql: string): Promise<{ error: (Error & { code?: string }) | undefined; tree: string }> {
    await this.client.query('BEGIN');
    this.notices = [];
    let error: (Error & { code?: string }) | undefined;
    try {
      // queryMode 'extended' sends Parse/Bind/Execute: the server refuses more than one statement.
      await this.client.query({ text: sql, queryMode: 'extended' } as pg.QueryConfig);
    } catch (caught) {
      error = caught as Error & { code?: string };
    }
    const tree = this.notices.join('\n');
    await this.client.query('ROLLBACK');
    return { error, tree };
  }
}

describe.skipIf(skip !== undefined)('PostgreSQL judges sqlScope', () => {
  const admin = new pg.Client(POSTGRES);
  const connections = {
    read: new RoleConnection(roles.read),
    write: new RoleConnection(roles.write),
    narrow: new RoleConnection(roles.narrow),
    narrowWrite: new RoleConnection(roles.narrowWrite),
    ordersOnly: new RoleConnection(roles.ordersOnly),
  };
  let allowedRelations: Set<string>;
  const functionNames = new Map<string, string>();
  /** Functions the server calls for allowed syntax: casts (pg_cast), TRIM, EXTRACT, LIKE … ESCAPE. */
  let implementation: Set<string>;
  const allowedFunctions = new Set(defaultSqlFunctions.postgresql);

  beforeAll(async () => {
    await admin.connect();
    await admin.query(SETUP);
    const relations = await admin.query<{ oid: string }>(
      `SELECT c.oid::text AS oid FROM pg_class c WHERE c.relnamespace = '${schema}'::regnamespace AND c.relname IN ('orders', 'customers')`,
    );
    allowedRelations = new Set(relations.rows.map((row) => row.oid));
    const casts = await admin.query<{ proname: string }>(
      'SELECT DISTINCT p.proname FROM pg_cast c JOIN pg_proc p ON p.oid = c.castfunc',
    );
    implementation = new Set([
      ...casts.rows.map((row) => row.proname),
      'btrim',
      'ltrim',
      'rtrim',
      'date_part',
      'like_escape',
    ]);
    for (const connection of Object.values(connections)) await connection.client.connect();
  }, 60_000);

  afterAll(async () => {
    for (const connection of Object.values(connections)) await connection.client.end().catch(() => {});
    await admin.query(
      `DROP SCHEMA IF EXISTS ${schema} CASCADE; DROP SCHEMA IF EXISTS ${target.other} CASCADE`,
    );
    for (const role of Object.values(roles))
      await admin.query(`DROP OWNED BY ${role}; DROP ROLE IF EXISTS ${role}`).catch(() => {});
    await admin.end();
  }, 60_000);

  /** Why the server's verdict on a statement the scope allowed is a failure, or undefined. */
  async function judge(connection: RoleConnection, sql: string): Promise<string | undefined> {
    const { error, tree } = await connection.run(sql);
    if (error !== undefined) {
      const kind = error.code === '42501' ? 'BYPASS: permission denied' : `server error ${error.code}`;
      return `${kind}: ${error.message}`;
    }
    for (const [, oid] of tree.matchAll(/:relid\s+(\d+)/g))
      if (oid !== '0' && !allowedRelations.has(oid!)) return `BYPASS: the parse tree reads relation ${oid}`;
    const calls = [
      ...tree.matchAll(/\{(?:FUNCEXPR|AGGREF|WINDOWFUNC)\s+:(?:funcid|aggfnoid|winfnoid)\s+(\d+)/g),
    ].map((m) => m[1]!);
    const unknown = calls.filter((oid) => !functionNames.has(oid));
    if (unknown.length > 0) {
      const named = await admin.query<{ oid: string; proname: string }>(
        'SELECT oid::text AS oid, proname FROM pg_proc WHERE oid = ANY($1::oid[])',
        [unknown],
      );
      for (const row of named.rows) functionNames.set(row.oid, row.proname);
    }
    for (const oid of calls) {
      const name = functionNames.get(oid) ?? `#${oid}`;
      if (!allowedFunctions.has(name) && !implementation.has(name))
        return `BYPASS: the parse tree calls ${name}()`;
    }
    return undefined;
  }

  test('the corpus: allowed statements run as the role; the others are refused', async () => {
    const failures = await runCorpus(corpus('postgresql', schema, target.other), scopes, (entry) =>
      judge(entry.write ? connections.write : connections.read, entry.sql),
    );
    expect(failures).toEqual([]);
  }, 120_000);

  test('the second review: trailing clauses of parenthesized queries, names in VALUES (narrow roles)', async () => {
    const failures: string[] = [];
    for (const [cases, allow] of [
      [TRAILING_REFUSED, false],
      [VALUES_REFUSED, false],
      [TRAILING_ALLOWED, true],
      [VALUES_ALLOWED, true],
    ] as const) {
      for (const entry of reviewCases(cases, 'postgresql')) {
        const scope = entry.write ? scopes.narrowWrite : scopes.narrow;
        if (scope.test(entry.sql, _request) !== allow) failures.push(`scope says ${!allow}: ${entry.sql}`);
        // What the scope allows runs as the role granted exactly the scope; what it refuses, the
        // server refuses too (a permission error, or a name it cannot resolve).
        const problem = await judge(entry.write ? connections.narrowWrite : connections.narrow, entry.sql);
        if (allow ? problem !== undefined : problem === undefined)
          failures.push(`${problem ?? 'the server runs it'}\n    ${entry.sql}`);
      }
    }
    expect(failures).toEqual([]);
  }, 60_000);

  test('the third review: a table used beyond its allowed columns, write syntax (orders-only role)', async () => {
    const failures: string[] = [];
    for (const [cases, allow] of [
      [TABLE_LEVEL_REFUSED, false],
      [TABLE_LEVEL_ALLOWED, true],
    ] as const) {
      for (const entry of reviewCases(cases, 'postgresql')) {
        const scope = entry.write ? scopes.ordersOnlyWrite : scopes.ordersOnly;
        if (scope.test(entry.sql, _request) !== allow) failures.push(`scope says ${!allow}: ${entry.sql}`);
        // The role granted exactly ORDERS_ONLY_COLUMNS runs what the scope allows and nothing else.
        const problem = await judge(connections.ordersOnly, entry.sql);
        if (allow ? problem !== undefined : problem === undefined)
          failures.push(`${problem ?? 'the server runs it'}\n    ${entry.sql}`);
      }
    }
    for (const { sql } of WRITE_SYNTAX_ALLOWED.filter((entry) => entry.dialect === 'postgresql')) {
      if (!scopes.write.test(sql, _request)) failures.push(`scope says false: ${sql}`);
      const problem = await judge(connections.write, sql);
      if (problem !== undefined) failures.push(`${problem}\n    ${sql}`);
    }
    expect(failures).toEqual([]);
  }, 60_000);

  test('attribute notation: o.f, where f is an allowed column name and a function taking a whole row, reads the row', async () => {
    // PostgreSQL reads o.f as f(o) when orders has no column f; f(o) reads every column of the
    // row, so the narrow role is refused. A scope that allows the column name f and the function
    // f must refuse too: what it allows runs as the role granted exactly its columns.
    const failures: string[] = [];
    let checked = 0;
    for (const name of dialectRules('postgresql').rowFunctions) {
      let scope: ReturnType<typeof sqlScope>;
      try {
        scope = sqlScope({
          dialect: 'postgresql',
          tables,
          columns: [...NARROW_COLUMNS, name],
          functions: { add: [name] },
        });
      } catch {
        continue; // a function no scope may allow (pg_*)
      }
      checked += 1;
      const sql = `SELECT o.${name} FROM orders o`;
      const allowed = scope.test(sql, _request);
      const problem = await judge(connections.narrow, sql);
      // A window or ordered-set function fails without OVER (a server error, nothing read).
      if (allowed && problem?.startsWith('BYPASS') === true) failures.push(`${problem}\n    ${sql}`);
    }
    expect(checked).toBeGreaterThan(20);
    expect(failures).toEqual([]);
  }, 60_000);

  test('every volatile pg_catalog function SQL can call, but a few plain ones, cannot be allowed', async (ctx) => {
    const { rows: version } = await admin.query<{ major: string }>(
      `SELECT current_setting('server_version_num')::int / 10000 AS major`,
    );
    const { rows } = await admin.query<{ proname: string }>(
      `SELECT DISTINCT p.proname FROM pg_proc p
       WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.provolatile = 'v' AND p.prokind = 'f'
         AND p.prorettype NOT IN ('trigger'::regtype, 'event_trigger'::regtype, 'internal'::regtype,
           'table_am_handler'::regtype, 'index_am_handler'::regtype, 'tsm_handler'::regtype,
           'language_handler'::regtype)
         AND NOT ('internal'::regtype = ANY (p.proargtypes::oid[]))`,
    );
    expect(rows.length).toBeGreaterThan(50);
    const accepted = rows
      .map((row) => row.proname)
      .filter((name) => /^[a-z_][a-z0-9_]*$/.test(name) && !PLAIN_VOLATILE.has(name))
      .filter((name) => {
        try {
          sqlScope({ dialect: 'postgresql', tables, functions: { add: [name] } });
          return true;
        } catch {
          return false;
        }
      });
    // The families and the plain list were reviewed against PostgreSQL 15's catalog. Another major
    // version may add volatile functions (PostgreSQL 18's uuidv7, say) that need the same review:
    // they are printed, and this check is skipped there rather than failing every `npm test`.
    const major = Number(version[0]?.major);
    if (major !== 15 && accepted.length > 0) {
      console.warn(
        `PostgreSQL ${major}: volatile functions not reviewed for sqlScope: ${accepted.join(', ')}`,
      );
      ctx.skip(`the catalog check was reviewed on PostgreSQL 15; this server is ${major}`);
    }
    expect(accepted).toEqual([]);
  });

  test(`${GENERATED_RUNS} generated statements: the scope agrees with the generator and the server`, async () => {
    const { failures, ran, count } = await runGenerated('PostgreSQL', target, scopes, connections, judge);
    expect(failures).toEqual([]);
    expect(ran).toBeGreaterThan(count / 4);
  }, 600_000);
});
