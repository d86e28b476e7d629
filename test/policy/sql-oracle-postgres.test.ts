import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { defaultSqlFunctions, sqlScope } from '../../src/sql/index.ts';
import { corpus } from './sql-oracle/corpus.ts';
import { runCorpus, runGenerated } from './sql-oracle/runs.ts';
import { GENERATED_RUNS, POSTGRES, postgresSkipReason, uniqueName } from './sql-oracle/servers.ts';
import { type OracleTarget, oracleTables } from './sql-oracle/vocabulary.ts';

const skip = await postgresSkipReason();
const schema = uniqueName('sql');
const target: OracleTarget = { family: 'postgresql', schema, other: `${schema}_x` };
const roles = { read: `${schema}_read`, write: `${schema}_write`, narrow: `${schema}_narrow` };
const tables = oracleTables(target);
const NARROW_COLUMNS = [
  'orders.id',
  'orders.customer_id',
  'orders.total',
  'orders.status',
  'customers.id',
  'customers.name',
];
const scopes = {
  read: sqlScope({ dialect: 'postgresql', tables }),
  write: sqlScope({ dialect: 'postgresql', tables, readOnly: false }),
  narrow: sqlScope({ dialect: 'postgresql', tables, columns: NARROW_COLUMNS }),
};
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
  GRANT USAGE ON SCHEMA ${schema} TO ${roles.read}, ${roles.write}, ${roles.narrow};
  GRANT SELECT ON ${schema}.orders, ${schema}.customers TO ${roles.read};
  GRANT SELECT, INSERT, UPDATE, DELETE ON ${schema}.orders, ${schema}.customers TO ${roles.write};
  GRANT SELECT (id, customer_id, total, status) ON ${schema}.orders TO ${roles.narrow};
  GRANT SELECT (id, name) ON ${schema}.customers TO ${roles.narrow};
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

  test(`${GENERATED_RUNS} generated statements: the scope agrees with the generator and the server`, async () => {
    const { failures, ran, count } = await runGenerated('PostgreSQL', target, scopes, connections, judge);
    expect(failures).toEqual([]);
    expect(ran).toBeGreaterThan(count / 4);
  }, 600_000);
});
