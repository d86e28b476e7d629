// The third attack review of sqlScope, as classes: with `columns`, what a statement does to a table
// beyond the columns it names (reading its rows at all, deleting whole rows), and RETURNING where
// the server has none. The real servers judge the same statements in sql-oracle-postgres /
// sql-oracle-mariadb, as roles granted exactly ORDERS_ONLY_COLUMNS.
import { describe, expect, test } from 'vitest';
import { type SqlDialect, sqlScope } from '../../src/sql/index.ts';
import { request } from './helpers.ts';
import {
  ORDERS_ONLY_COLUMNS,
  type ReviewCase,
  reviewCases,
  TABLE_LEVEL_ALLOWED,
  TABLE_LEVEL_REFUSED,
  WRITE_SYNTAX_ALLOWED,
  WRITE_SYNTAX_REFUSED,
} from './sql-oracle/review-cases.ts';

const req = request('db.query');
const tables = ['orders', 'customers'];
const DIALECTS = ['postgresql', 'mysql', 'mariadb', 'sqlite'] as const;
const family = (dialect: SqlDialect) =>
  dialect === 'postgresql' || dialect === 'sqlite' ? 'postgresql' : 'mysql';
const verdict = (dialect: SqlDialect, entry: ReviewCase) =>
  sqlScope({ dialect, tables, columns: ORDERS_ONLY_COLUMNS, readOnly: !entry.write }).test(entry.sql, req);

describe('with `columns`, a table is used only through columns the scope allows', () => {
  for (const dialect of DIALECTS) {
    test.each(reviewCases(TABLE_LEVEL_REFUSED, family(dialect)).map((entry) => [entry.sql, entry] as const))(
      `${dialect} refuses %s`,
      (_, entry) => expect(verdict(dialect, entry)).toBe(false),
    );
    test.each(reviewCases(TABLE_LEVEL_ALLOWED, family(dialect)).map((entry) => [entry.sql, entry] as const))(
      `${dialect} allows %s`,
      (_, entry) => expect(verdict(dialect, entry)).toBe(true),
    );
  }

  test('a table any entry names, or every table, has columns: it may be counted', () => {
    const count = 'SELECT count(*) FROM customers';
    for (const columns of [['customers.name'], ['customers.*'], ['*'], ['id'], ['orders.id', 'name']])
      expect(sqlScope({ dialect: 'postgresql', tables, columns }).test(count, req), columns.join()).toBe(
        true,
      );
    expect(sqlScope({ dialect: 'postgresql', tables }).test(count, req)).toBe(true);
    expect(sqlScope({ dialect: 'postgresql', tables, columns: ['orders.id'] }).explain?.(count, req)).toMatch(
      /uses table customers, of which the scope allows no column/,
    );
  });

  test('DELETE removes every column of its rows: it needs them all (`*` or `table.*`)', () => {
    const sql = 'DELETE FROM orders WHERE id = 1';
    for (const dialect of DIALECTS) {
      const scope = (columns: string[]) => sqlScope({ dialect, tables, columns, readOnly: false });
      expect(scope(['orders.id', 'orders.total']).test(sql, req), dialect).toBe(false);
      expect(scope(['id', 'note', 'total']).test(sql, req), dialect).toBe(false);
      expect(scope(['orders.*']).test(sql, req), dialect).toBe(true);
      expect(scope(['*']).test(sql, req), dialect).toBe(true);
      expect(sqlScope({ dialect, tables, readOnly: false }).test(sql, req), dialect).toBe(true);
      expect(scope(['orders.id']).explain?.(sql, req), dialect).toMatch(/deletes whole rows of table orders/);
    }
  });
});

describe('RETURNING and DELETE aliases only where the server has them', () => {
  test.each(WRITE_SYNTAX_REFUSED.map((entry) => [entry.dialect, entry.sql] as const))(
    '%s refuses %s',
    (dialect, sql) => expect(sqlScope({ dialect, tables, readOnly: false }).test(sql, req)).toBe(false),
  );
  test.each(WRITE_SYNTAX_ALLOWED.map((entry) => [entry.dialect, entry.sql] as const))(
    '%s allows %s',
    (dialect, sql) => expect(sqlScope({ dialect, tables, readOnly: false }).test(sql, req)).toBe(true),
  );
});

describe('MariaDB plugin functions that run SQL or commands on other servers or engines cannot be allowed', () => {
  test.each([
    'spider_direct_sql',
    'spider_bg_direct_sql',
    'spider_copy_tables',
    'spider_flush_table_mon_cache',
    'mroonga_command',
  ])('%s', (name) => {
    expect(() => sqlScope({ dialect: 'mariadb', tables, functions: { add: [name] } })).toThrow(
      /cannot be allowed/,
    );
  });
});

describe('name resolution is bounded', () => {
  // Every column reference may come from every FROM item up its query: 24,000 of each were 576
  // million lookups, minutes of one synchronous call. Past a budget the statement is refused.
  const many = (count: number, text: string) => Array.from({ length: count }, () => text).join(',');

  test.each(DIALECTS)('%s refuses a statement with too many names times FROM items', (dialect) => {
    const scope = sqlScope({ dialect, tables: ['x'] });
    const sql = `SELECT ${many(24_000, 'a')} FROM ${many(24_000, 'x')}`;
    expect(scope.explain?.(sql, req)).toMatch(/too many column references times FROM items/);
    const star = `SELECT ${many(24_000, '*')} FROM ${many(24_000, 'x')}`;
    expect(scope.explain?.(star, req)).toMatch(/too many column references times FROM items/);
  });

  test.each(DIALECTS)('%s still reads a large ordinary statement', (dialect) => {
    const scope = sqlScope({ dialect, tables: ['x'] });
    expect(scope.test(`SELECT ${many(400, 'a')} FROM ${many(400, 'x')}`, req)).toBe(true);
    expect(scope.test(`SELECT a FROM x WHERE a IN (${many(5_000, '1')})`, req)).toBe(true);
  });
});
