// The second attack review of sqlScope, as classes: trailing clauses of a parenthesized query, names
// in MySQL / MariaDB INSERT … VALUES, and functions that wait, write or set session state. The real
// servers judge the same statements in sql-oracle-postgres / sql-oracle-mariadb.
import { describe, expect, test } from 'vitest';
import { ConfigurationError } from '../../src/errors.ts';
import { type SqlDialect, sqlScope } from '../../src/sql/index.ts';
import { request } from './helpers.ts';
import {
  NARROW_COLUMNS,
  type ReviewCase,
  reviewCases,
  TRAILING_ALLOWED,
  TRAILING_REFUSED,
  VALUES_ALLOWED,
  VALUES_REFUSED,
} from './sql-oracle/review-cases.ts';

const req = request('db.query');
const tables = ['orders', 'customers'];
const SERVERS = ['postgresql', 'mysql', 'mariadb'] as const;

const family = (dialect: (typeof SERVERS)[number]) => (dialect === 'postgresql' ? 'postgresql' : 'mysql');
const verdict = (dialect: SqlDialect, entry: ReviewCase) =>
  sqlScope({ dialect, tables, columns: NARROW_COLUMNS, readOnly: !entry.write }).test(entry.sql, req);

describe('ORDER BY and LIMIT of a parenthesized query resolve where the server resolves them', () => {
  for (const dialect of SERVERS) {
    test.each(reviewCases(TRAILING_REFUSED, family(dialect)).map((entry) => [entry.sql, entry] as const))(
      `${dialect} refuses %s`,
      (_, entry) => expect(verdict(dialect, entry)).toBe(false),
    );
    test.each(reviewCases(TRAILING_ALLOWED, family(dialect)).map((entry) => [entry.sql, entry] as const))(
      `${dialect} allows %s`,
      (_, entry) => expect(verdict(dialect, entry)).toBe(true),
    );
  }

  test('an unqualified name with no table anywhere up the query is refused', () => {
    for (const dialect of [...SERVERS, 'sqlite'] as const) {
      const scope = sqlScope({ dialect, tables });
      expect(scope.test('SELECT 1 AS n ORDER BY n', req), dialect).toBe(false);
      expect(scope.test('SELECT (SELECT note)', req), dialect).toBe(false);
      expect(scope.test('SELECT 1 AS n FROM orders ORDER BY n', req), dialect).toBe(true);
    }
  });
});

describe('names in INSERT … VALUES', () => {
  for (const dialect of SERVERS) {
    test.each(reviewCases(VALUES_REFUSED, family(dialect)).map((entry) => [entry.sql, entry] as const))(
      `${dialect} refuses %s`,
      (_, entry) => expect(verdict(dialect, entry)).toBe(false),
    );
    test.each(reviewCases(VALUES_ALLOWED, family(dialect)).map((entry) => [entry.sql, entry] as const))(
      `${dialect} allows %s`,
      (_, entry) => expect(verdict(dialect, entry)).toBe(true),
    );
  }

  test('MySQL / MariaDB read them as the target columns, with their read rights (`columns`)', () => {
    const sql = 'INSERT INTO orders (id) VALUES (note)';
    expect(sqlScope({ dialect: 'mariadb', tables, readOnly: false, columns: ['id'] }).test(sql, req)).toBe(
      false,
    );
    expect(
      sqlScope({ dialect: 'mariadb', tables, readOnly: false, columns: ['id', 'orders.note'] }).test(
        sql,
        req,
      ),
    ).toBe(true);
    expect(sqlScope({ dialect: 'mariadb', tables: ['customers'], readOnly: false }).test(sql, req)).toBe(
      false,
    );
  });
});

describe('functions that wait, write or set session state cannot be allowed', () => {
  test.each([
    ['mariadb', 'master_gtid_wait'],
    ['mariadb', 'last_insert_id'],
    ['mariadb', 'wsrep_sync_wait_upto_gtid'],
    ['mariadb', 'wsrep_last_seen_gtid'],
    ['mariadb', 'binlog_gtid_pos'],
    ['mariadb', 'des_decrypt'],
    ['mariadb', 'nextval'],
    ['mysql', 'wait_for_executed_gtid_set'],
    ['mysql', 'service_get_write_locks'],
    ['mysql', 'keyring_key_fetch'],
    ['mysql', 'version_tokens_lock_shared'],
    ['postgresql', 'setseed'],
    ['postgresql', 'brin_summarize_new_values'],
    ['postgresql', 'brin_summarize_range'],
    ['postgresql', 'brin_desummarize_range'],
    ['postgresql', 'gin_clean_pending_list'],
    ['postgresql', 'loread'],
    ['postgresql', 'lowrite'],
    ['postgresql', 'lo_put'],
    ['postgresql', 'pg_advisory_xact_lock'],
    ['postgresql', 'pg_sleep_for'],
    ['postgresql', 'currval'],
    ['postgresql', 'txid_current_if_assigned'],
    ['postgresql', 'to_regclass'],
    ['postgresql', 'has_table_privilege'],
    ['postgresql', 'row_security_active'],
    ['postgresql', 'currtid2'],
    ['postgresql', 'crosstab'],
    ['postgresql', 'xpath_table'],
    ['postgresql', 'pgstattuple'],
    ['postgresql', 'heap_force_kill'],
    ['postgresql', 'set_limit'],
  ] as const)('%s: %s', (dialect, name) => {
    expect(() => sqlScope({ dialect, tables, functions: { add: [name] } })).toThrow(ConfigurationError);
    expect(() => sqlScope({ dialect, tables, functions: [name] })).toThrow(/cannot be allowed/);
  });

  test.each([
    ['postgresql', 'random'],
    ['postgresql', 'gen_random_uuid'],
    ['postgresql', 'regexp_replace'],
    ['mariadb', 'connection_id'],
    ['mariadb', 'sys_guid'],
    ['mariadb', 'json_extract'],
  ] as const)('%s: %s (a plain computation or the session’s own counters) can be', (dialect, name) => {
    expect(sqlScope({ dialect, tables, functions: { add: [name] } }).kind).toBe('sql');
  });
});
