// The three findings of issue 14 against sqlScope, as they were reported. Each fails on the scope
// built on node-sql-parser (checked before the rewrite).
import { describe, expect, test } from 'vitest';
import { sqlScope } from '../../src/sql/index.ts';
import { request } from './helpers.ts';

const req = request('db.query');
const scope = sqlScope({ dialect: 'postgresql', tables: ['orders'] });

describe('issue 14 findings', () => {
  test('1: a backslash does not hide a second statement (PostgreSQL standard strings)', () => {
    expect(scope.test("SELECT * FROM orders WHERE note = '\\' ; DELETE FROM secrets; -- '", req)).toBe(false);
    expect(scope.test("SELECT * FROM orders WHERE note = '\\' ; COMMIT; DROP TABLE secrets; -- '", req)).toBe(
      false,
    );
  });

  test.each([
    "SELECT query_to_xml_and_xmlschema('select * from secrets', true, false, '') FROM orders",
    "SELECT query_to_xmlschema('select * from secrets', true, false, '') FROM orders",
    "SELECT table_to_xml_and_xmlschema('secrets', true, false, '') FROM orders",
    "SELECT database_to_xmlschema(true, false, '') FROM orders",
    "SELECT * FROM orders WHERE id IN (SELECT nentry FROM ts_stat('select tsv from secrets'))",
    "SELECT ts_stat('select tsv from secrets') FROM orders",
  ])('2: a function outside the allow list is refused: %s', (sql) => {
    expect(scope.test(sql, req)).toBe(false);
  });

  test('3: a WITH name hides a real table only inside its own query', () => {
    expect(
      scope.test('SELECT * FROM secrets, (WITH secrets AS (SELECT 1) SELECT * FROM secrets) t', req),
    ).toBe(false);
    expect(
      scope.test(
        'SELECT * FROM orders WHERE id IN (SELECT id FROM secrets) AND id IN (WITH secrets AS (SELECT 1 AS id) SELECT id FROM secrets)',
        req,
      ),
    ).toBe(false);
  });
});
