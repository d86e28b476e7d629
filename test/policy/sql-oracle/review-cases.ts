// The second attack review's statements (the real servers as the oracle) and their in-scope
// neighbours, shared by the unit test and the PostgreSQL / MariaDB oracles. Every entry is judged by
// a scope with NARROW_COLUMNS (`readOnly: false` for writes), the columns the narrow roles are
// granted; `only` limits an entry to one family.
import type { Family } from './vocabulary.ts';

export interface ReviewCase {
  readonly sql: string;
  readonly write?: boolean;
  readonly only?: Family;
}

export const NARROW_COLUMNS: readonly string[] = [
  'orders.id',
  'orders.customer_id',
  'orders.total',
  'orders.status',
  'customers.id',
  'customers.name',
];

const read = (sql: string, only?: Family): ReviewCase => (only === undefined ? { sql } : { sql, only });
const write = (sql: string, only?: Family): ReviewCase =>
  only === undefined ? { sql, write: true } : { sql, write: true, only };

/**
 * ORDER BY / LIMIT after a parenthesized query, at any nesting and position: both servers resolve
 * them in the inner SELECT's FROM (a set operation: its first branch's output columns).
 */
export const TRAILING_REFUSED: readonly ReviewCase[] = [
  read('(SELECT id FROM orders) ORDER BY note'),
  read('(SELECT total FROM orders o) ORDER BY o'),
  read('WITH c AS ((SELECT id FROM orders) ORDER BY note LIMIT 1) SELECT id FROM c'),
  read('SELECT EXISTS ((SELECT 1 FROM orders) ORDER BY note)'),
  write('INSERT INTO orders (id) (SELECT id FROM customers) ORDER BY email'),
  write('INSERT INTO orders (id) ((SELECT id FROM customers)) ORDER BY email LIMIT 1'),
  read('((SELECT id FROM orders)) ORDER BY note'),
  read('((SELECT id FROM orders) ORDER BY note) LIMIT 1'),
  read('(SELECT id FROM orders o) ORDER BY o.note'),
  read('WITH c AS (SELECT id FROM orders) (SELECT id FROM orders) ORDER BY note'),
  read('SELECT id FROM customers c WHERE EXISTS ((SELECT 1 FROM orders) ORDER BY email)'),
  read('SELECT id FROM orders WHERE EXISTS ((SELECT 1 FROM customers) ORDER BY email)'),
  read('(SELECT id FROM orders) UNION (SELECT id FROM customers) ORDER BY note'),
  read('SELECT id FROM orders UNION SELECT id FROM orders ORDER BY note'),
  read('SELECT 1 ORDER BY note'),
];

export const TRAILING_ALLOWED: readonly ReviewCase[] = [
  read('(SELECT id FROM orders) ORDER BY id'),
  read('(SELECT total FROM orders o) ORDER BY o.total DESC LIMIT 1'),
  read('WITH c AS ((SELECT id FROM orders) ORDER BY total LIMIT 1) SELECT id FROM c'),
  read('SELECT EXISTS ((SELECT 1 FROM orders) ORDER BY status)'),
  read('((SELECT id FROM orders) ORDER BY id) LIMIT 1'),
  read('(SELECT id FROM orders) UNION (SELECT id FROM customers) ORDER BY id'),
  read('SELECT id FROM orders UNION SELECT id FROM customers ORDER BY id LIMIT 2'),
  read('SELECT id FROM customers c WHERE EXISTS ((SELECT 1 FROM orders) ORDER BY c.name)'),
  write('INSERT INTO orders (id) (SELECT id FROM customers) ORDER BY name'),
];

/** Names in INSERT … VALUES: MySQL and MariaDB read them as the target's columns, PostgreSQL refuses them. */
export const VALUES_REFUSED: readonly ReviewCase[] = [
  write('INSERT INTO orders (id) VALUES (note)'),
  write('INSERT INTO orders (id) VALUES (1), (note)'),
  write('INSERT INTO orders (id) VALUES (coalesce(note, 1))'),
  write('INSERT INTO orders (id, status) VALUES (1, orders.note)', 'mysql'),
  write('INSERT INTO orders (id) VALUES ((SELECT max(id) FROM customers WHERE email IS NULL))'),
  // Forms the scope does not read (each would read note as a column of orders in MariaDB).
  write('INSERT INTO orders (id) VALUE (note)', 'mysql'),
  write('INSERT INTO orders SET id = note', 'mysql'),
  write('INSERT INTO orders (id) VALUES (1) ON DUPLICATE KEY UPDATE total = note', 'mysql'),
  write('INSERT INTO orders (id) VALUES (1) ON DUPLICATE KEY UPDATE total = VALUES(note)', 'mysql'),
];

export const VALUES_ALLOWED: readonly ReviewCase[] = [
  write('INSERT INTO orders (id, total) VALUES (1, 2), (3, 4)'),
  write('INSERT INTO orders (id, total) VALUES (1, id + 1)', 'mysql'),
  write('INSERT INTO orders (id) VALUES (coalesce(total, 1))', 'mysql'),
  write('INSERT INTO orders (id) VALUES ((SELECT max(id) FROM customers))'),
];

/** The review's entries for one family. */
export function reviewCases(cases: readonly ReviewCase[], family: Family): ReviewCase[] {
  return cases.filter((entry) => entry.only === undefined || entry.only === family);
}

/**
 * The third review: with `columns`, the columns the orders-only roles are granted (SELECT, INSERT
 * and UPDATE on these, nothing on customers, no DELETE). Both servers refuse such a role any use of
 * customers (a count, EXISTS, a join) and every DELETE.
 */
export const ORDERS_ONLY_COLUMNS: readonly string[] = [
  'orders.id',
  'orders.customer_id',
  'orders.total',
  'orders.status',
];

export const TABLE_LEVEL_REFUSED: readonly ReviewCase[] = [
  read('SELECT count(*) FROM customers'),
  read('SELECT 1 FROM customers'),
  read('SELECT id FROM orders WHERE EXISTS (SELECT 1 FROM customers)'),
  read('SELECT o.id FROM orders o CROSS JOIN customers'),
  read('SELECT id FROM orders WHERE id IN (SELECT count(*) FROM customers)'),
  write('INSERT INTO orders (id) SELECT count(*) FROM customers'),
  write('DELETE FROM orders WHERE id = 1'),
  write('DELETE FROM orders'),
  write('DELETE FROM orders WHERE id = 1 RETURNING id'),
];

export const TABLE_LEVEL_ALLOWED: readonly ReviewCase[] = [
  read('SELECT count(*) FROM orders'),
  read('SELECT 1 FROM orders WHERE id = 1'),
  read('SELECT id FROM orders WHERE EXISTS (SELECT 1 FROM orders WHERE total > 1)'),
  write('UPDATE orders SET total = 1 WHERE id = 1'),
  write('INSERT INTO orders (id, total) VALUES (1, 2)'),
  write('INSERT INTO orders (id) SELECT count(*) FROM orders'),
];

/** Write syntax per server: MariaDB 10.11 has RETURNING on INSERT and DELETE only and no alias in DELETE, MySQL no RETURNING. */
export const WRITE_SYNTAX_REFUSED: readonly { dialect: 'mysql' | 'mariadb'; sql: string }[] = [
  { dialect: 'mariadb', sql: 'UPDATE orders SET total = 1 WHERE id = 1 RETURNING id' },
  { dialect: 'mariadb', sql: 'UPDATE orders SET total = 1 RETURNING *' },
  { dialect: 'mysql', sql: 'INSERT INTO orders (id) VALUES (1) RETURNING id' },
  { dialect: 'mysql', sql: 'UPDATE orders SET total = 1 RETURNING id' },
  { dialect: 'mysql', sql: 'DELETE FROM orders WHERE id = 1 RETURNING id' },
  { dialect: 'mariadb', sql: 'DELETE FROM orders o WHERE o.id = 1' },
  { dialect: 'mariadb', sql: 'DELETE FROM orders AS o WHERE o.id = 1 RETURNING o.id' },
];

export const WRITE_SYNTAX_ALLOWED: readonly { dialect: 'postgresql' | 'mariadb' | 'sqlite'; sql: string }[] =
  [
    { dialect: 'mariadb', sql: 'INSERT INTO orders (id) VALUES (1) RETURNING id' },
    { dialect: 'mariadb', sql: 'INSERT INTO orders (id) SELECT id FROM customers RETURNING id' },
    { dialect: 'mariadb', sql: 'DELETE FROM orders WHERE id = 1 RETURNING id' },
    { dialect: 'postgresql', sql: 'UPDATE orders SET total = 1 WHERE id = 1 RETURNING id' },
    { dialect: 'sqlite', sql: 'UPDATE orders SET total = 1 WHERE id = 1 RETURNING id' },
    { dialect: 'postgresql', sql: 'DELETE FROM orders o WHERE o.id = 1 RETURNING o.id' },
    { dialect: 'mariadb', sql: 'UPDATE orders o SET total = 1 WHERE o.id = 1' },
  ];
