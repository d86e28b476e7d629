import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sqlScope } from '../../src/sql/index.ts';
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
  WRITE_SYNTAX_REFUSED,
} from './sql-oracle/review-cases.ts';
import { runCorpus, runGenerated } from './sql-oracle/runs.ts';
import { GENERATED_RUNS, MARIADB, mariadbSkipReason, uniqueName } from './sql-oracle/servers.ts';
import { type OracleTarget, oracleTables } from './sql-oracle/vocabulary.ts';

const skip = await mariadbSkipReason();
const database = uniqueName('sql');
const target: OracleTarget = { family: 'mysql', schema: database, other: `${database}_x` };
const users = {
  read: `${database}_r`,
  write: `${database}_w`,
  narrow: `${database}_n`,
  narrowWrite: `${database}_nw`,
  ordersOnly: `${database}_oo`,
};
const tables = oracleTables(target);
const scopes = {
  read: sqlScope({ dialect: 'mariadb', tables }),
  write: sqlScope({ dialect: 'mariadb', tables, readOnly: false }),
  narrow: sqlScope({ dialect: 'mariadb', tables, columns: NARROW_COLUMNS }),
  narrowWrite: sqlScope({ dialect: 'mariadb', tables, columns: NARROW_COLUMNS, readOnly: false }),
  ordersOnly: sqlScope({ dialect: 'mariadb', tables, columns: ORDERS_ONLY_COLUMNS }),
  ordersOnlyWrite: sqlScope({ dialect: 'mariadb', tables, columns: ORDERS_ONLY_COLUMNS, readOnly: false }),
};
/** Information and miscellaneous functions (MariaDB's help) a scope may still allow: none waits, locks or sets state. */
const PLAIN_INFORMATION = new Set(
  `charset coercibility collation connection_id current_role current_user database decode_histogram default
  found_rows last_value row_count rownum schema session_user system_user user version format_bytes inet6_aton
  inet6_ntoa inet_aton inet_ntoa is_ipv4 is_ipv4_compat is_ipv4_mapped is_ipv6 name_const old_value sys_guid
  uuid uuid_short uuid_v4 uuid_v7`.split(/\s+/),
);
const request = {} as never;
/** MariaDB's default sql_mode, pinned: other tests may change the server's global one. */
const SQL_MODE = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION';
const PERMISSION_ERRORS = new Set([1044, 1045, 1142, 1143, 1227, 1370]);

const SETUP = [
  `CREATE DATABASE ${database} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
  `CREATE DATABASE ${target.other} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
  `CREATE TABLE ${database}.orders (id int, customer_id int, total int, status text, note text, created date)`,
  `CREATE TABLE ${database}.customers (id int, name text, email text)`,
  `CREATE TABLE ${database}.secrets (id int, password text)`,
  `CREATE TABLE ${database}.ORDERS (id int, note text)`,
  `CREATE TABLE ${target.other}.orders (id int, customer_id int, total int, status text, note text, created date)`,
  `INSERT INTO ${database}.orders VALUES (1, 1, 10, 'paid', 'a note', '2026-01-01'), (2, 2, 20, 'open', NULL, '2026-01-02'), (3, 1, 30, 'paid', 'another', '2026-01-03')`,
  `INSERT INTO ${database}.customers VALUES (1, 'Ada', 'ada@example.com'), (2, 'Bo', 'bo@example.com')`,
  `INSERT INTO ${database}.secrets VALUES (1, 'hunter2')`,
  `INSERT INTO ${database}.ORDERS VALUES (1, 'shadow')`,
  `INSERT INTO ${target.other}.orders VALUES (1, 1, 1, 'x', 'other', '2026-01-01')`,
  ...Object.values(users).map((user) => `CREATE USER '${user}'@'%'`),
  `GRANT SELECT ON ${database}.orders TO '${users.read}'@'%'`,
  `GRANT SELECT ON ${database}.customers TO '${users.read}'@'%'`,
  `GRANT SELECT, INSERT, UPDATE, DELETE ON ${database}.orders TO '${users.write}'@'%'`,
  `GRANT SELECT, INSERT, UPDATE, DELETE ON ${database}.customers TO '${users.write}'@'%'`,
  `GRANT SELECT (id, customer_id, total, status) ON ${database}.orders TO '${users.narrow}'@'%'`,
  `GRANT SELECT (id, name) ON ${database}.customers TO '${users.narrow}'@'%'`,
  `GRANT SELECT (id, customer_id, total, status), INSERT (id, customer_id, total, status), UPDATE (id, customer_id, total, status) ON ${database}.orders TO '${users.narrowWrite}'@'%'`,
  `GRANT SELECT (id, name), INSERT (id, name), UPDATE (id, name) ON ${database}.customers TO '${users.narrowWrite}'@'%'`,
  `GRANT SELECT (id, customer_id, total, status), INSERT (id, customer_id, total, status), UPDATE (id, customer_id, total, status) ON ${database}.orders TO '${users.ordersOnly}'@'%'`,
];

type Connection = mysql.Connection;

async function connect(user: string, sqlMode = SQL_MODE): Promise<Connection> {
  const connection = await mysql.createConnection({
    ...MARIADB,
    user,
    password: '',
    database,
    multipleStatements: false,
  });
  await connection.query(`SET SESSION max_statement_time = 5, sql_mode = '${sqlMode}'`);
  return connection;
}

/** Why the server's verdict on a statement the scope allowed is a failure, or undefined. */
async function judge(connection: Connection, sql: string): Promise<string | undefined> {
  await connection.query('START TRANSACTION');
  try {
    // A statement that does not come back in time fails (max_statement_time does not cover every wait).
    await connection.query({ sql, timeout: 10_000 });
    return undefined;
  } catch (caught) {
    const error = caught as Error & { errno?: number; code?: string };
    const kind = PERMISSION_ERRORS.has(error.errno ?? 0)
      ? 'BYPASS: permission denied'
      : `server error ${error.code}`;
    return `${kind}: ${error.message}`;
  } finally {
    await connection.query('ROLLBACK');
  }
}

describe.skipIf(skip !== undefined)('MariaDB judges sqlScope', () => {
  let admin: Connection;
  const connections = {} as Record<keyof typeof users, Connection>;

  beforeAll(async () => {
    admin = await mysql.createConnection({ ...MARIADB, multipleStatements: false });
    for (const statement of SETUP) await admin.query(statement);
    for (const role of Object.keys(users) as (keyof typeof users)[])
      connections[role] = await connect(users[role]);
  }, 60_000);

  afterAll(async () => {
    for (const connection of Object.values(connections)) await connection.end().catch(() => {});
    await admin.query(`DROP DATABASE IF EXISTS ${database}`);
    await admin.query(`DROP DATABASE IF EXISTS ${target.other}`);
    for (const user of Object.values(users)) await admin.query(`DROP USER IF EXISTS '${user}'@'%'`);
    await admin.end();
  }, 60_000);

  test('the corpus: allowed statements run as the user; the others are refused', async () => {
    const failures = await runCorpus(corpus('mysql', database, target.other), scopes, (entry) =>
      judge(entry.write ? connections.write : connections.read, entry.sql),
    );
    expect(failures).toEqual([]);
  }, 120_000);

  test('ansiQuotes: "…" names a column or table when the server runs with ANSI_QUOTES', async () => {
    const ansi = sqlScope({ dialect: 'mariadb', tables, ansiQuotes: true });
    const connection = await connect(users.read, `${SQL_MODE},ANSI_QUOTES`);
    try {
      for (const sql of [
        'SELECT "id", "o"."total" FROM "orders" AS "o"',
        `SELECT * FROM "${database}"."orders"`,
      ]) {
        expect(ansi.test(sql, request), sql).toBe(true);
        expect(await judge(connection, sql), sql).toBeUndefined();
      }
      for (const sql of [
        'SELECT * FROM "secrets"',
        'SELECT "a\\" FROM orders',
        `SELECT * FROM "${target.other}"."orders"`,
      ])
        expect(ansi.test(sql, request), sql).toBe(false);
      // Without ansiQuotes the same text is a string in FROM, which the scope refuses.
      expect(scopes.read.test('SELECT "id" FROM "orders"', request)).toBe(false);
    } finally {
      await connection.end();
    }
  });

  test('the second review: trailing clauses of parenthesized queries, names in VALUES (narrow users)', async () => {
    const failures: string[] = [];
    for (const [cases, allow] of [
      [TRAILING_REFUSED, false],
      [VALUES_REFUSED, false],
      [TRAILING_ALLOWED, true],
      [VALUES_ALLOWED, true],
    ] as const) {
      for (const entry of reviewCases(cases, 'mysql')) {
        const scope = entry.write ? scopes.narrowWrite : scopes.narrow;
        if (scope.test(entry.sql, request) !== allow) failures.push(`scope says ${!allow}: ${entry.sql}`);
        // What the scope allows runs as the user granted exactly the scope; what it refuses, the
        // server refuses too (a permission error, or a name it cannot resolve).
        const problem = await judge(entry.write ? connections.narrowWrite : connections.narrow, entry.sql);
        if (allow ? problem !== undefined : problem === undefined)
          failures.push(`${problem ?? 'the server runs it'}\n    ${entry.sql}`);
      }
    }
    expect(failures).toEqual([]);
  }, 60_000);

  test('the third review: a table used beyond its allowed columns, write syntax (orders-only user)', async () => {
    const failures: string[] = [];
    for (const [cases, allow] of [
      [TABLE_LEVEL_REFUSED, false],
      [TABLE_LEVEL_ALLOWED, true],
    ] as const) {
      for (const entry of reviewCases(cases, 'mysql')) {
        const scope = entry.write ? scopes.ordersOnlyWrite : scopes.ordersOnly;
        if (scope.test(entry.sql, request) !== allow) failures.push(`scope says ${!allow}: ${entry.sql}`);
        // The user granted exactly ORDERS_ONLY_COLUMNS runs what the scope allows and nothing else.
        const problem = await judge(connections.ordersOnly, entry.sql);
        if (allow ? problem !== undefined : problem === undefined)
          failures.push(`${problem ?? 'the server runs it'}\n    ${entry.sql}`);
      }
    }
    // Write syntax: what the scope allows runs; what it refuses, MariaDB cannot parse.
    for (const { dialect, sql } of [...WRITE_SYNTAX_ALLOWED, ...WRITE_SYNTAX_REFUSED]) {
      if (dialect !== 'mariadb') continue;
      const allow = WRITE_SYNTAX_ALLOWED.some((entry) => entry.sql === sql && entry.dialect === dialect);
      if (scopes.write.test(sql, request) !== allow) failures.push(`scope says ${!allow}: ${sql}`);
      const problem = await judge(connections.write, sql);
      if (allow ? problem !== undefined : problem === undefined)
        failures.push(`${problem ?? 'the server runs it'}\n    ${sql}`);
    }
    expect(failures).toEqual([]);
  }, 60_000);

  test("MariaDB's information and miscellaneous functions that wait, lock or set state cannot be allowed", async (context) => {
    const [rows] = await admin.query<mysql.RowDataPacket[]>(
      `SELECT lower(replace(t.name, '\\\\_', '_')) AS name FROM mysql.help_topic t
       JOIN mysql.help_category c USING (help_category_id)
       WHERE c.name IN ('Information Functions', 'Miscellaneous Functions')
          OR (c.name = 'Contents' AND t.name LIKE 'WSREP%')`,
    );
    // The help tables are optional (mariadb-install-db fills them): without them there is no catalog.
    if (rows.length === 0) context.skip();
    const accepted = rows
      .map((row) => String(row.name))
      .filter((name) => /^[a-z_][a-z0-9_]*$/.test(name) && !PLAIN_INFORMATION.has(name))
      .filter((name) => {
        try {
          sqlScope({ dialect: 'mariadb', tables, functions: { add: [name] } });
          return true;
        } catch {
          return false;
        }
      });
    expect(accepted).toEqual([]);
  });

  test(`${GENERATED_RUNS} generated statements: the scope agrees with the generator and the server`, async () => {
    const { failures, ran, count } = await runGenerated('MariaDB', target, scopes, connections, judge);
    expect(failures).toEqual([]);
    expect(ran).toBeGreaterThan(count / 4);
  }, 600_000);
});
