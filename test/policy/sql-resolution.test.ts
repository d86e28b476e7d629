// What a statement touches: WITH names resolved where they stand (finding 3 as a class), functions
// against the allow list (finding 2 as a class), columns, statement kinds, and the options.
import { describe, expect, test } from 'vitest';
import { ConfigurationError } from '../../src/errors.ts';
import { defaultSqlFunctions, type SqlDialect, sqlScope } from '../../src/sql/index.ts';
import { request } from './helpers.ts';

const req = request('db.query');
const tables = ['orders', 'customers'];
const DIALECTS: readonly SqlDialect[] = ['postgresql', 'mysql', 'mariadb', 'sqlite'];

describe('WITH names resolve in the scope where they stand', () => {
  test.each(DIALECTS)('%s', (dialect) => {
    const scope = sqlScope({ dialect, tables });
    const allowed = (sql: string) => scope.test(sql, req);
    // A WITH name hides a table only inside its own query.
    expect(allowed('WITH secrets AS (SELECT id FROM orders) SELECT * FROM secrets')).toBe(true);
    expect(allowed('SELECT * FROM secrets, (WITH secrets AS (SELECT 1) SELECT * FROM secrets) t')).toBe(
      false,
    );
    expect(
      allowed('SELECT (WITH secrets AS (SELECT 1 AS x) SELECT x FROM secrets), (SELECT 1 FROM secrets)'),
    ).toBe(false);
    expect(
      allowed('SELECT * FROM orders WHERE id IN (WITH secrets AS (SELECT 1 AS id) SELECT id FROM secrets)'),
    ).toBe(true);
    // Later siblings are not visible to earlier ones; a body does not see itself without RECURSIVE.
    expect(allowed('WITH a AS (SELECT * FROM b), b AS (SELECT 1 AS x) SELECT * FROM a')).toBe(false);
    expect(allowed('WITH RECURSIVE a AS (SELECT * FROM b), b AS (SELECT 1 AS x) SELECT * FROM a')).toBe(
      false,
    );
    expect(allowed('WITH secrets AS (SELECT * FROM secrets) SELECT * FROM secrets')).toBe(false);
    expect(
      allowed(
        'WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r',
      ),
    ).toBe(true);
    expect(allowed('WITH a AS (SELECT id FROM orders), b AS (SELECT id FROM a) SELECT * FROM b')).toBe(true);
    // Bodies are checked even when nothing uses them; a qualified name is never a WITH name.
    expect(allowed('WITH unused AS (SELECT * FROM secrets) SELECT 1')).toBe(false);
    expect(allowed('WITH customers AS (SELECT 1 AS x) SELECT * FROM main.customers')).toBe(false);
  });

  test('MySQL / MariaDB: a WITH body sees only its own list (MariaDB reads other names as tables)', () => {
    const inner =
      'WITH secrets AS (SELECT 1 AS id) SELECT * FROM (WITH c AS (SELECT * FROM secrets) SELECT * FROM c) t';
    expect(sqlScope({ dialect: 'mariadb', tables }).test(inner, req)).toBe(false);
    expect(sqlScope({ dialect: 'postgresql', tables }).test(inner, req)).toBe(true);
    const main =
      'WITH secrets AS (SELECT 1 AS id) SELECT * FROM (WITH c AS (SELECT 1 AS x) SELECT id FROM secrets) t';
    expect(sqlScope({ dialect: 'mariadb', tables }).test(main, req)).toBe(true);
  });

  test('MySQL / MariaDB: a WITH name declared again inside the WITH of that name refuses (it crashes MariaDB 10.11)', () => {
    const crash =
      'WITH orders AS (WITH orders AS (SELECT 2 AS id FROM orders), x AS (SELECT id FROM orders) SELECT 1 AS id FROM orders), y AS (SELECT id FROM orders) SELECT 1 FROM y a, y b';
    expect(sqlScope({ dialect: 'mariadb', tables }).test(crash, req)).toBe(false);
    expect(sqlScope({ dialect: 'postgresql', tables }).test(crash, req)).toBe(true);
    expect(
      sqlScope({ dialect: 'mariadb', tables }).test(
        'WITH a AS (SELECT 1 AS x) SELECT * FROM a, (WITH a AS (SELECT 2 AS x) SELECT x FROM a) t',
        req,
      ),
    ).toBe(false);
    expect(
      sqlScope({ dialect: 'mariadb', tables }).test(
        'SELECT * FROM (WITH a AS (SELECT 1 AS x) SELECT x FROM a) s, (WITH a AS (SELECT 2 AS x) SELECT x FROM a) t',
        req,
      ),
    ).toBe(true);
  });

  test('names compare as the server compares them', () => {
    // PostgreSQL folds unquoted names; "Secrets" is another name than secrets.
    const pg = sqlScope({ dialect: 'postgresql', tables });
    expect(pg.test('WITH Secrets AS (SELECT 1) SELECT * FROM SECRETS', req)).toBe(true);
    expect(pg.test('WITH "Secrets" AS (SELECT 1) SELECT * FROM secrets', req)).toBe(false);
    // MySQL: a WITH name matches exactly; table names are case-sensitive on most servers.
    const my = sqlScope({ dialect: 'mysql', tables });
    expect(my.test('WITH Secrets AS (SELECT 1) SELECT * FROM secrets', req)).toBe(false);
    expect(my.test('WITH secrets AS (SELECT 1) SELECT * FROM `secrets`', req)).toBe(true);
    expect(my.test('SELECT * FROM Orders', req)).toBe(false);
    // SQLite ignores ASCII case everywhere.
    const lite = sqlScope({ dialect: 'sqlite', tables });
    expect(lite.test('WITH Secrets AS (SELECT 1) SELECT * FROM "SECRETS"', req)).toBe(true);
  });
});

describe('functions: an allow list per dialect', () => {
  test.each([
    ['postgresql', "SELECT query_to_xml('select * from secrets', true, false, '')"],
    [
      'postgresql',
      "SELECT * FROM orders WHERE id IN (SELECT nentry FROM ts_stat('select tsv from secrets'))",
    ],
    ['postgresql', "SELECT xmlexists('//x' PASSING BY REF note) FROM orders"],
    ['postgresql', 'SELECT o.to_json FROM orders o'],
    ['postgresql', "SELECT pg_catalog.lower('x')"],
    ['postgresql', 'SELECT "lower"(note) FROM orders'],
    ['postgresql', 'SELECT some_udf(id) FROM orders'],
    ['mysql', 'SELECT sleep(1)'],
    ['mysql', "SELECT extractvalue(note, '/a') FROM orders"],
    ['sqlite', "SELECT load_extension('x')"],
    ['sqlite', "SELECT * FROM pragma_table_info('orders')"],
  ] as const)('%s refuses %s', (dialect, sql) => {
    expect(sqlScope({ dialect, tables }).test(sql, req)).toBe(false);
  });

  test('the default list, replaced or changed per scope', () => {
    expect(defaultSqlFunctions.postgresql).toContain('count');
    expect(defaultSqlFunctions.postgresql).not.toContain('query_to_xml');
    const sql = "SELECT regexp_replace(note, 'a', 'b'), count(*) FROM orders GROUP BY note";
    expect(sqlScope({ dialect: 'postgresql', tables }).test(sql, req)).toBe(false);
    expect(
      sqlScope({ dialect: 'postgresql', tables, functions: { add: ['regexp_replace'] } }).test(sql, req),
    ).toBe(true);
    expect(sqlScope({ dialect: 'postgresql', tables, functions: ['regexp_replace'] }).test(sql, req)).toBe(
      false,
    );
    expect(
      sqlScope({ dialect: 'postgresql', tables, functions: ['regexp_replace', 'count'] }).test(sql, req),
    ).toBe(true);
    expect(
      sqlScope({ dialect: 'postgresql', tables, functions: { remove: ['count'] } }).test(
        'SELECT count(*) FROM orders',
        req,
      ),
    ).toBe(false);
  });

  test('functions that run SQL text, touch files, sessions, locks or settings cannot be allowed', () => {
    for (const name of [
      'query_to_xml',
      'ts_stat',
      'pg_sleep',
      'dblink_exec',
      'set_config',
      'sleep',
      'load_file',
      'load_extension',
    ])
      expect(() => sqlScope({ dialect: 'postgresql', tables, functions: { add: [name] } }), name).toThrow(
        ConfigurationError,
      );
    expect(() => sqlScope({ dialect: 'postgresql', tables, functions: ['bad name'] })).toThrow(
      /function names/,
    );
    expect(() => sqlScope({ dialect: 'postgresql', tables, functions: { keep: [] } as never })).toThrow(
      /functions.keep/,
    );
  });
});

describe('statements', () => {
  test.each([
    'SELECT * INTO copy FROM orders',
    'SELECT * FROM orders FOR UPDATE',
    'SELECT * FROM orders FOR SHARE',
    'TABLE orders',
    'VALUES (1)',
    'EXPLAIN ANALYZE DELETE FROM orders',
    'WITH x AS (DELETE FROM orders RETURNING *) SELECT * FROM x',
    'COPY orders TO STDOUT',
    'SET search_path = secret',
    'BEGIN',
    'SELECT * FROM orders LEFT WHERE id = 1',
    'SELECT * FROM orders, LATERAL (SELECT 1) t',
    'SELECT * FROM generate_series(1, 2)',
    'SELECT 1 FROM orders o(a)',
    'SELECT id FROM orders ORDER BY id USING <',
    'SELECT * FROM orders WINDOW w AS (ORDER BY id)',
    'SELECT row_number() OVER w FROM orders',
    'SELECT (1, 2)',
  ])('refused: %s', (sql) => {
    expect(sqlScope({ dialect: 'postgresql', tables, readOnly: false }).test(sql, req)).toBe(false);
  });

  test('writes on allowed tables with readOnly: false; their subqueries are reads', () => {
    const writer = sqlScope({ dialect: 'postgresql', tables, readOnly: false });
    expect(writer.test("INSERT INTO orders (id, note) VALUES (1, 'x'), (2, DEFAULT) RETURNING id", req)).toBe(
      true,
    );
    expect(
      writer.test('UPDATE orders AS o SET total = 0 WHERE o.id IN (SELECT id FROM customers)', req),
    ).toBe(true);
    expect(writer.test('DELETE FROM orders WHERE id = 1', req)).toBe(true);
    expect(writer.test('INSERT INTO orders (id) SELECT id FROM secrets', req)).toBe(false);
    expect(writer.test('UPDATE orders SET total = (SELECT count(*) FROM secrets)', req)).toBe(false);
    expect(writer.test('DELETE FROM secrets', req)).toBe(false);
    expect(writer.test('UPDATE orders SET total = 0 FROM secrets', req)).toBe(false);
    expect(writer.test('INSERT INTO orders (id) VALUES (1) ON CONFLICT DO NOTHING', req)).toBe(false);
    expect(sqlScope({ dialect: 'postgresql', tables }).test('DELETE FROM orders WHERE id = 1', req)).toBe(
      false,
    );
  });
});

describe('columns', () => {
  const narrow = (dialect: SqlDialect) =>
    sqlScope({ dialect, tables, columns: ['id', 'orders.total', 'orders.status', 'customers.name'] });

  test.each([
    ['SELECT id, total FROM orders', true],
    ['SELECT o.total, c.name FROM orders o JOIN customers c ON c.id = o.customer_id', false],
    ['SELECT o.total, c.name FROM orders o JOIN customers c ON c.id = o.id', true],
    ['SELECT count(*) FROM orders', true],
    ['SELECT * FROM orders', false],
    ['SELECT o.* FROM orders o', false],
    ['SELECT email FROM customers', false],
    // An unqualified column could come from any table of its query or an enclosing one.
    ['SELECT total FROM orders o JOIN customers c ON c.id = o.id', false],
    ['SELECT id FROM orders WHERE id IN (SELECT name FROM customers)', false],
    ['SELECT t.x FROM (SELECT email AS x FROM customers) t', false],
    ['SELECT t.x FROM (SELECT name AS x FROM customers) t', true],
    ['SELECT * FROM orders NATURAL JOIN customers', false],
    ['SELECT 1 FROM orders JOIN customers USING (email)', false],
    ['SELECT x.email FROM orders o', false],
  ] as const)('postgresql %s → %s', (sql, allowed) => {
    expect(narrow('postgresql').test(sql, req)).toBe(allowed);
  });

  test('PostgreSQL reads a bare table name as its whole row', () => {
    expect(narrow('postgresql').test('SELECT c FROM customers c', req)).toBe(false);
    expect(narrow('mysql').test('SELECT status FROM orders', req)).toBe(true);
    const star = sqlScope({ dialect: 'postgresql', tables, columns: ['customers.*'] });
    expect(star.test('SELECT c FROM customers c', req)).toBe(true);
    expect(star.test('SELECT * FROM customers', req)).toBe(true);
  });

  test("PostgreSQL's t.f may be f(t), which reads the whole row: it needs the column and t's every column", () => {
    const scope = (columns: string[]) =>
      sqlScope({ dialect: 'postgresql', tables, columns, functions: { add: ['to_json', 'rank'] } });
    // No column concat in orders: the server runs concat(o), the whole row as text.
    expect(scope(['orders.id', 'concat']).test('SELECT o.concat FROM orders o', req)).toBe(false);
    expect(
      scope(['orders.id', 'to_json']).test('SELECT o.id FROM orders o WHERE o.to_json IS NOT NULL', req),
    ).toBe(false);
    expect(scope(['orders.*', 'concat']).test('SELECT o.concat FROM orders o', req)).toBe(true);
    // The price of not seeing the schema: a real column named after such a function, qualified, needs
    // the whole row too; unqualified it is only the column.
    expect(scope(['orders.count']).test('SELECT o.count FROM orders o', req)).toBe(false);
    expect(scope(['orders.count']).test('SELECT count FROM orders', req)).toBe(true);
    // A window function fails without OVER, so o.rank can only be the column.
    expect(scope(['orders.rank']).test('SELECT o.rank FROM orders o', req)).toBe(true);
    // MySQL has no attribute notation.
    expect(
      sqlScope({ dialect: 'mysql', tables, columns: ['orders.concat'] }).test(
        'SELECT o.concat FROM orders o',
        req,
      ),
    ).toBe(true);
  });

  test('writes: the named columns, or all of them', () => {
    const writer = sqlScope({
      dialect: 'postgresql',
      tables,
      readOnly: false,
      columns: ['id', 'orders.total'],
    });
    expect(writer.test('INSERT INTO orders (id, total) VALUES (1, 2)', req)).toBe(true);
    expect(writer.test('INSERT INTO orders VALUES (1, 2)', req)).toBe(false);
    expect(writer.test("UPDATE orders SET note = 'x' WHERE id = 1", req)).toBe(false);
  });
});

describe('options', () => {
  test('the dialect is required: nothing guesses it', () => {
    expect(() => sqlScope({ tables } as never)).toThrow(/dialect is required/);
    expect(() => sqlScope({ dialect: 'transactsql', tables } as never)).toThrow(ConfigurationError);
    expect(() => sqlScope({ dialect: 'postgresql', tables: ['or$ders'] })).toThrow(ConfigurationError);
  });

  test('the spec names the dialect and the resolved function list when changed', () => {
    expect(sqlScope({ dialect: 'sqlite', tables }).spec).toEqual({
      dialect: 'sqlite',
      tables,
      readOnly: true,
    });
    expect(sqlScope({ dialect: 'sqlite', tables, functions: ['count'] }).spec).toMatchObject({
      functions: ['count'],
    });
  });
});
