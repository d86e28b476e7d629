import type { SqlName } from './dialect.ts';
import { expression, expressionList, orderByList } from './expression.ts';
import type { Context, CteEnv, NameScope, ParseState } from './parse-state.ts';
import { asciiLower } from './token.ts';

/**
 * A query: `[WITH [RECURSIVE] …] select [UNION|INTERSECT|EXCEPT select]… [ORDER BY] [LIMIT/OFFSET/FETCH]`.
 * A WITH name is visible in the later WITH bodies, in the query after the list, and (with
 * RECURSIVE) in its own body; every other name in FROM is a table. In MySQL / MariaDB a WITH body
 * does not see the names of enclosing WITH lists (MariaDB reads them as tables there).
 *
 * Returns the scope its ORDER BY and LIMIT resolve names in: that of its first SELECT, however
 * deeply parenthesized, so a parenthesized query's own trailing clauses resolve there too.
 */
export function query(p: ParseState, env: CteEnv | undefined, outer: NameScope | undefined): NameScope {
  p.enter();
  const declared = p.withNames.length;
  if (p.acceptWord('with')) {
    const recursive = p.acceptWord('recursive');
    // MariaDB reads a name in a WITH body as a table unless this WITH list declares it (names of an
    // enclosing WITH are not visible there): for MySQL / MariaDB such a body sees only its siblings.
    const isolated = p.rules.family === 'mysql';
    let siblings: CteEnv | undefined;
    do {
      const name = p.name('a WITH name');
      const key = p.rules.tableKey(name);
      // MariaDB 10.11 crashes on a WITH name declared again inside the WITH of that name: refused.
      if (isolated && p.withNames.includes(asciiLower(key)))
        p.fail(`the WITH name ${name.text} repeats the name of an enclosing WITH`);
      p.withNames.push(asciiLower(key));
      if (p.acceptOp('(')) nameList(p);
      p.expectWord('as');
      if (p.rules.family === 'postgresql') {
        p.acceptWord('not');
        p.acceptWord('materialized');
      }
      p.expectOp('(');
      const visible = isolated ? siblings : env;
      query(p, recursive ? { key, parent: visible } : visible, outer);
      p.expectOp(')');
      env = { key, parent: env };
      siblings = { key, parent: siblings };
    } while (p.acceptOp(','));
  }
  const first = setOperand(p, env, outer);
  while (p.isWord('union') || p.isWord('intersect') || p.isWord('except')) {
    p.next();
    if (!p.acceptWord('all')) p.acceptWord('distinct');
    setOperand(p, env, outer);
  }
  // Both servers resolve the ORDER BY of `(SELECT …) ORDER BY x` in the inner SELECT's FROM
  // (PostgreSQL moves the clause into it), and that of a set operation in its first branch's output
  // columns (MariaDB also takes expressions there): the first SELECT's scope covers both.
  const ctx: Context = { env, scope: first };
  if (p.acceptWord('order')) {
    p.expectWord('by');
    orderByList(p, ctx);
  }
  limits(p, ctx);
  p.withNames.length = declared;
  p.leave();
  return first;
}

/** A SELECT, or a parenthesized query: the scope of its first SELECT. */
function setOperand(p: ParseState, env: CteEnv | undefined, outer: NameScope | undefined): NameScope {
  if (p.acceptOp('(')) {
    const scope = query(p, env, outer);
    p.expectOp(')');
    return scope;
  }
  p.expectWord('select');
  const scope = p.scope(outer);
  const ctx: Context = { env, scope };
  if (p.acceptWord('distinct')) {
    if (p.rules.family === 'postgresql' && p.acceptWord('on')) {
      p.expectOp('(');
      expressionList(p, ctx);
      p.expectOp(')');
    }
  } else p.acceptWord('all');
  selectList(p, ctx);
  if (p.acceptWord('from')) {
    do tableReference(p, ctx);
    while (p.acceptOp(','));
  }
  if (p.acceptWord('where')) expression(p, ctx);
  if (p.acceptWord('group')) {
    p.expectWord('by');
    expressionList(p, ctx);
  }
  if (p.acceptWord('having')) expression(p, ctx);
  return scope;
}

/** `*`, `t.*`, or `expr [[AS] alias]`, separated by commas (also RETURNING lists). */
export function selectList(p: ParseState, ctx: Context): void {
  do {
    if (p.acceptOp('*')) {
      p.column(ctx.scope, undefined, undefined);
      continue;
    }
    if (p.isName() && p.isOp('.', 1) && p.isOp('*', 2)) {
      const table = p.name('a table');
      p.i += 2;
      p.column(ctx.scope, table, undefined);
      continue;
    }
    expression(p, ctx);
    alias(p);
  } while (p.acceptOp(','));
}

/** `AS name` (any word after AS), or a bare name that is no keyword. */
function alias(p: ParseState): SqlName | undefined {
  if (p.acceptWord('as')) {
    const token = p.next();
    if (token.kind !== 'word' && token.kind !== 'quoted') p.fail('expected a name after AS');
    return { text: token.text, quoted: token.kind === 'quoted' };
  }
  return p.isName() ? p.name('an alias') : undefined;
}

function nameList(p: ParseState): SqlName[] {
  const names: SqlName[] = [];
  do names.push(p.name('a column name'));
  while (p.acceptOp(','));
  p.expectOp(')');
  return names;
}

/** A FROM item followed by joins. */
function tableReference(p: ParseState, ctx: Context): void {
  p.enter();
  tablePrimary(p, ctx);
  for (;;) {
    const start = p.i;
    const natural = p.acceptWord('natural');
    const cross = !natural && p.acceptWord('cross');
    if (!cross && !p.acceptWord('inner')) {
      if (p.acceptWord('left') || p.acceptWord('right') || p.acceptWord('full')) p.acceptWord('outer');
    }
    if (!p.acceptWord('join')) {
      if (p.i !== start) p.fail('expected JOIN');
      break;
    }
    tablePrimary(p, ctx);
    // A NATURAL join compares every column of the same name: it reads them all.
    if (natural) p.column(ctx.scope, undefined, undefined);
    else if (!cross && p.acceptWord('on')) expression(p, ctx);
    else if (!cross && p.acceptWord('using')) {
      p.expectOp('(');
      for (const column of nameList(p)) p.column(ctx.scope, undefined, column);
    }
  }
  p.leave();
}

/** A table, a WITH name, `(query) alias`, or a parenthesized join. */
function tablePrimary(p: ParseState, ctx: Context): void {
  if (p.acceptOp('(')) {
    if (p.isWord('select') || p.isWord('with')) {
      // A derived table sees the enclosing queries; its siblings are added too (a superset).
      query(p, ctx.env, ctx.scope);
      p.expectOp(')');
      const name = alias(p);
      if (name !== undefined && p.acceptOp('(')) nameList(p);
      ctx.scope.items.push({ key: name === undefined ? '' : asciiLower(name.text), table: undefined });
      return;
    }
    tableReference(p, ctx);
    p.expectOp(')');
    return;
  }
  const first = p.name('a table name');
  const second = p.acceptOp('.') ? p.name('a table name') : undefined;
  if (p.isOp('.')) p.fail('three-part table names are not supported');
  if (p.isOp('(')) p.fail('functions in FROM are not supported');
  const table = second ?? first;
  const key = p.rules.tableKey(table);
  const cte = second === undefined && isWithName(ctx.env, key);
  if (!cte) useTable(p, first, second, false);
  const name = alias(p);
  if (name !== undefined && p.isOp('(')) {
    if (!cte) p.fail('column aliases on a table are not supported');
    p.next();
    nameList(p);
  }
  ctx.scope.items.push({ key: asciiLower((name ?? table).text), table: cte ? undefined : key });
}

/** The WITH names visible from a point, collected once per point (many table names may ask). */
const visibleWithNames = new WeakMap<CteEnv, ReadonlySet<string>>();

function isWithName(env: CteEnv | undefined, key: string): boolean {
  if (env === undefined) return false;
  let names = visibleWithNames.get(env);
  if (names === undefined) {
    const collected = new Set<string>();
    for (let at: CteEnv | undefined = env; at !== undefined; at = at.parent) collected.add(at.key);
    visibleWithNames.set(env, collected);
    names = collected;
  }
  return names.has(key);
}

/** Records a table the statement touches. */
export function useTable(p: ParseState, first: SqlName, second: SqlName | undefined, write: boolean): string {
  const name = p.rules.tableKey(second ?? first);
  const key = second === undefined ? name : `${p.rules.tableKey(first)}\u0000${name}`;
  const seen = `${key}\u0000${write}`;
  if (!p.tableKeys.has(seen)) {
    p.tableKeys.add(seen);
    p.tables.push({ key, name, write });
  }
  return name;
}

/** `LIMIT n [OFFSET m]`, `LIMIT m, n`, `OFFSET m [ROWS]`, `FETCH FIRST n ROWS ONLY`, once each. */
function limits(p: ParseState, ctx: Context): void {
  let limit = false;
  let offset = false;
  for (;;) {
    if (!limit && p.acceptWord('limit')) {
      limit = true;
      if (!(p.rules.family === 'postgresql' && p.acceptWord('all'))) expression(p, ctx);
      if (p.rules.family !== 'postgresql' && !offset && p.acceptOp(',')) {
        offset = true;
        expression(p, ctx);
      }
    } else if (!offset && p.acceptWord('offset')) {
      offset = true;
      expression(p, ctx);
      if (p.rules.family === 'postgresql' && !p.acceptWord('rows')) p.acceptWord('row');
    } else if (!limit && p.rules.family === 'postgresql' && p.acceptWord('fetch')) {
      limit = true;
      if (!p.acceptWord('first')) p.expectWord('next');
      if (!p.isWord('row') && !p.isWord('rows')) expression(p, ctx);
      if (!p.acceptWord('rows')) p.expectWord('row');
      p.expectWord('only');
    } else return;
  }
}
