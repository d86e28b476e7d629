// SQLite judges sqlScope's sqlite dialect (the demo's database), through sql.js. SQLite has no
// roles, so the judge is SQLite's own compiled program: every statement the scope allows must be one
// statement (sql.js iterateStatements), run without error in a rolled-back transaction, and its
// EXPLAIN must open only the allowed tables (OpenRead / OpenWrite root pages) and call only allowed
// functions (Function, PureFunc, AggStep, AggValue; LIKE compiles to the function like()).
import initSqlJs, { type Database } from 'sql.js';
import { beforeAll, describe, expect, test } from 'vitest';
import { defaultSqlFunctions, sqlScope } from '../../src/sql/index.ts';
import { corpus } from './sql-oracle/corpus.ts';
import { runCorpus } from './sql-oracle/runs.ts';

const tables = ['orders', 'customers', 'main.orders'];
const scopes = {
  read: sqlScope({ dialect: 'sqlite', tables }),
  write: sqlScope({ dialect: 'sqlite', tables, readOnly: false }),
};
const _request = {} as never;
// LIKE compiles to like(); the keywords CURRENT_DATE / _TIME / _TIMESTAMP to functions of that name.
const allowedFunctions = new Set([
  ...defaultSqlFunctions.sqlite,
  'like',
  'substr',
  'current_date',
  'current_time',
  'current_timestamp',
]);

describe('SQLite judges sqlScope', () => {
  let db: Database;
  let allowedPages: Set<number>;

  beforeAll(async () => {
    const SQL = await initSqlJs();
    db = new SQL.Database();
    db.run(`
      CREATE TABLE orders (id int, customer_id int, total int, note text);
      CREATE TABLE customers (id int, name text, email text);
      CREATE TABLE secrets (id int, password text);
      INSERT INTO orders VALUES (1, 1, 10, 'a note'), (2, 2, 20, NULL);
      INSERT INTO customers VALUES (1, 'Ada', 'ada@example.com');
      INSERT INTO secrets VALUES (1, 'hunter2');
    `);
    const pages = db.exec("SELECT rootpage FROM sqlite_schema WHERE name IN ('orders', 'customers')")[0]!;
    allowedPages = new Set(pages.values.map((row) => Number(row[0])));
  });

  /** Why SQLite's verdict on a statement the scope allowed is a failure, or undefined. */
  function judge(sql: string): string | undefined {
    let statements = 0;
    for (const statement of db.iterateStatements(sql)) {
      statements += 1;
      statement.free();
    }
    if (statements !== 1) return `BYPASS: ${statements} statements`;
    let program: unknown[][];
    try {
      program = db.exec(`EXPLAIN ${sql}`)[0]?.values ?? [];
    } catch (error) {
      return `error: ${(error as Error).message}`;
    }
    for (const [, opcode, , p2, , p4] of program) {
      if ((opcode === 'OpenRead' || opcode === 'OpenWrite') && !allowedPages.has(Number(p2)))
        return `BYPASS: ${opcode} of root page ${p2}`;
      if (
        ['Function', 'PureFunc', 'AggStep', 'AggValue', 'AggFinal', 'AggInverse'].includes(String(opcode))
      ) {
        const name = String(p4).replace(/\(.*$/, '');
        if (!allowedFunctions.has(name)) return `BYPASS: calls ${name}()`;
      }
    }
    db.run('BEGIN');
    try {
      db.exec(sql);
      return undefined;
    } catch (error) {
      return `error: ${(error as Error).message}`;
    } finally {
      db.run('ROLLBACK');
    }
  }

  test('the corpus: allowed statements run and touch only what the scope allows; the others are refused', async () => {
    const failures = await runCorpus(corpus('sqlite', 'main', 'other'), scopes, (entry) => judge(entry.sql));
    expect(failures).toEqual([]);
  });

  test('the judge catches what the scope must refuse', () => {
    expect(judge('SELECT * FROM secrets')).toMatch(/BYPASS: OpenRead/);
    expect(judge('SELECT sqlite_version()')).toMatch(/BYPASS: calls sqlite_version/);
    expect(judge('SELECT 1; SELECT 2')).toMatch(/BYPASS: 2 statements/);
  });
});
