import { expression } from './expression.ts';
import type { Context, ParseState } from './parse-state.ts';
import { query, selectList, useTable } from './query.ts';
import { asciiLower } from './token.ts';

/** The kinds of statement the scope understands. */
export type StatementKind = 'select' | 'insert' | 'update' | 'delete';

/** One statement, an optional `;`, then nothing (comments were dropped by the lexer). */
export function statement(p: ParseState): StatementKind {
  let kind: StatementKind;
  if (p.isWord('select') || p.isWord('with') || p.isOp('(')) {
    query(p, undefined, undefined);
    kind = 'select';
  } else if (p.acceptWord('insert')) {
    insert(p);
    kind = 'insert';
  } else if (p.acceptWord('update')) {
    update(p);
    kind = 'update';
  } else if (p.acceptWord('delete')) {
    remove(p);
    kind = 'delete';
  } else p.fail('only SELECT, INSERT, UPDATE and DELETE are understood');
  p.acceptOp(';');
  if (p.peek().kind !== 'end') p.fail('unexpected text after the statement');
  return kind;
}

/** `INSERT INTO t [(columns)] {VALUES (…), … | query} [RETURNING …]` */
function insert(p: ParseState): void {
  p.expectWord('into');
  const ctx = target(p);
  const table = ctx.scope.items[0]!.table!;
  if (p.acceptOp('(')) {
    do p.columns.push({ column: p.rules.columnKey(p.name('a column name')), tables: [table] });
    while (p.acceptOp(','));
    p.expectOp(')');
  } else p.columns.push({ column: undefined, tables: [table] });
  // MySQL and MariaDB read a name in VALUES as a column of the target (a read of it); PostgreSQL
  // and SQLite refuse such names. Neither lets the query of INSERT … SELECT see the target.
  const values: Context = p.rules.family === 'mysql' ? ctx : { env: undefined, scope: p.scope(undefined) };
  if (p.acceptWord('values')) {
    do {
      p.expectOp('(');
      do if (!p.acceptWord('default')) expression(p, values);
      while (p.acceptOp(','));
      p.expectOp(')');
    } while (p.acceptOp(','));
  } else if (p.isWord('select') || p.isWord('with') || p.isOp('(')) query(p, undefined, undefined);
  else p.fail('expected VALUES or a query');
  returning(p, ctx, 'insert');
}

/** `UPDATE t [[AS] alias] SET column = expr, … [WHERE …] [RETURNING …]` */
function update(p: ParseState): void {
  const ctx = target(p, true);
  const table = ctx.scope.items[0]!.table!;
  p.expectWord('set');
  do {
    p.columns.push({ column: p.rules.columnKey(p.name('a column name')), tables: [table] });
    p.expectOp('=');
    if (!p.acceptWord('default')) expression(p, ctx);
  } while (p.acceptOp(','));
  if (p.acceptWord('where')) expression(p, ctx);
  returning(p, ctx, 'update');
}

/** `DELETE FROM t [[AS] alias] [WHERE …] [RETURNING …]` */
function remove(p: ParseState): void {
  p.expectWord('from');
  const ctx = target(p, p.rules.deleteAlias);
  if (p.acceptWord('where')) expression(p, ctx);
  returning(p, ctx, 'delete');
}

/** The written table (and, for UPDATE and DELETE, its alias) as the only item of a new scope. */
function target(p: ParseState, aliased = false): Context {
  const first = p.name('a table name');
  const second = p.acceptOp('.') ? p.name('a table name') : undefined;
  if (p.isOp('.')) p.fail('three-part table names are not supported');
  const table = useTable(p, first, second, true);
  let name = (second ?? first).text;
  if (aliased && (p.acceptWord('as') || p.isName())) name = p.name('an alias').text;
  const scope = p.scope(undefined);
  scope.items.push({ key: asciiLower(name), table });
  return { env: undefined, scope };
}

/** `RETURNING …` where the server has it for this kind of write (elsewhere the word is left unread: refused). */
function returning(p: ParseState, ctx: Context, kind: StatementKind): void {
  if (p.rules.returning.has(kind) && p.acceptWord('returning')) selectList(p, ctx);
}
