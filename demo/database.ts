// The demo's embedded database: SQLite (sql.js, WebAssembly: no native build, no server), seeded
// with a support desk's customers, orders, payments and the notes agents may write.
import initSqlJs, { type Database } from 'sql.js';

export interface DemoDatabase {
  /** Runs one statement; returns rows as objects. */
  query(sql: string): Record<string, unknown>[];
  /** Runs one write statement; returns the number of changed rows. */
  execute(sql: string): number;
  readonly counts: { customers: number; orders: number; payments: number };
  close(): void;
}

export async function openDemoDatabase(options: {
  customers: number;
  orders: number;
}): Promise<DemoDatabase> {
  const SQL = await initSqlJs();
  const db: Database = new SQL.Database();
  // Customers' name and email are virtual generated columns: a million rows seed in seconds, and
  // `SELECT * FROM customers` still returns a million real-looking rows (the attack to stop).
  db.run(`
    PRAGMA journal_mode = OFF;
    PRAGMA synchronous = OFF;
    CREATE TABLE customers (
      id INTEGER PRIMARY KEY,
      country TEXT NOT NULL,
      name TEXT GENERATED ALWAYS AS ('Customer ' || id) VIRTUAL,
      email TEXT GENERATED ALWAYS AS ('customer' || id || '@example.com') VIRTUAL
    );
    CREATE TABLE orders (
      id INTEGER PRIMARY KEY,
      customer_id INTEGER NOT NULL REFERENCES customers(id),
      status TEXT NOT NULL,
      total_cents INTEGER NOT NULL,
      created_at TEXT NOT NULL
    );
    CREATE TABLE payments (
      id INTEGER PRIMARY KEY,
      order_id INTEGER NOT NULL REFERENCES orders(id),
      method TEXT NOT NULL,
      amount_cents INTEGER NOT NULL
    );
    CREATE TABLE refunds (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      order_id INTEGER NOT NULL REFERENCES orders(id),
      amount_cents INTEGER NOT NULL,
      reason TEXT NOT NULL
    );
    CREATE TABLE order_notes (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      order_id INTEGER NOT NULL REFERENCES orders(id),
      note TEXT NOT NULL
    );
  `);
  db.run(`
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${options.customers})
    INSERT INTO customers (id, country) SELECT i, substr('DEUSFRGBNL', 1 + 2 * (i % 5), 2) FROM n;
  `);
  db.run(`
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${options.orders})
    INSERT INTO orders SELECT i, (i * 7919) % ${options.customers} + 1,
      CASE i % 4 WHEN 0 THEN 'shipped' WHEN 1 THEN 'delivered' WHEN 2 THEN 'pending' ELSE 'refunded' END,
      500 + (i * 37) % 50000, date('2026-01-01', '+' || (i % 300) || ' days')
    FROM n;
    INSERT INTO payments SELECT id, id, CASE id % 3 WHEN 0 THEN 'card' WHEN 1 THEN 'paypal' ELSE 'sepa' END, total_cents
    FROM orders;
    CREATE INDEX orders_by_customer ON orders(customer_id);
  `);

  const query = (sql: string): Record<string, unknown>[] => {
    const statement = db.prepare(sql);
    try {
      const rows: Record<string, unknown>[] = [];
      while (statement.step()) rows.push(statement.getAsObject() as Record<string, unknown>);
      return rows;
    } finally {
      statement.free();
    }
  };
  const count = (table: string) => Number(query(`SELECT count(*) AS n FROM ${table}`)[0]?.n ?? 0);
  return {
    query,
    execute(sql) {
      db.run(sql);
      return db.getRowsModified();
    },
    counts: { customers: count('customers'), orders: count('orders'), payments: count('payments') },
    close: () => db.close(),
  };
}
