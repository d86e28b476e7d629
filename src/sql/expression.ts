import type { Context, ParseState } from './parse-state.ts';

/** Binding power of binary operators (higher binds tighter); grouping never changes what a name is. */
const BINARY: Readonly<Record<string, number>> = {
  '=': 4,
  '==': 4,
  '<>': 4,
  '!=': 4,
  '<': 4,
  '>': 4,
  '<=': 4,
  '>=': 4,
  '||': 5,
  '+': 6,
  '-': 6,
  '*': 7,
  '/': 7,
  '%': 7,
};

const IS_OPERANDS = ['null', 'true', 'false', 'unknown'];
const INTERVAL_UNITS = new Set(
  `microsecond second minute hour day week month quarter year second_microsecond minute_microsecond
  minute_second hour_microsecond hour_second hour_minute day_microsecond day_second day_minute day_hour
  year_month`
    .trim()
    .split(/\s+/),
);

/** Reads an expression whose operators bind at least as tightly as `min`. */
export function expression(p: ParseState, ctx: Context, min = 0): void {
  p.enter();
  operand(p, ctx);
  for (;;) {
    const token = p.peek();
    if (token.kind === 'op') {
      if (token.text === '::' && p.rules.family === 'postgresql') {
        p.next();
        typeName(p);
        continue;
      }
      const power = BINARY[token.text];
      if (power === undefined || power < min) break;
      p.next();
      expression(p, ctx, power + 1);
      continue;
    }
    if (token.kind !== 'word') break;
    if (token.lower === 'or' && min <= 1) {
      p.next();
      expression(p, ctx, 2);
    } else if (token.lower === 'and' && min <= 2) {
      p.next();
      expression(p, ctx, 3);
    } else if (min <= 4 && token.lower === 'is') {
      p.next();
      p.acceptWord('not');
      if (p.acceptWord('distinct')) {
        p.expectWord('from');
        expression(p, ctx, 5);
      } else if (!IS_OPERANDS.some((word) => p.acceptWord(word)))
        p.fail('expected NULL, TRUE, FALSE, UNKNOWN or DISTINCT FROM after IS');
    } else if (min <= 4 && predicate(p, ctx)) {
      // IN, LIKE, ILIKE, BETWEEN, with or without NOT, were read by predicate().
    } else break;
  }
  p.leave();
}

/** `[NOT] IN (…)`, `[NOT] LIKE x [ESCAPE y]`, `[NOT] ILIKE`, `[NOT] BETWEEN a AND b`. */
function predicate(p: ParseState, ctx: Context): boolean {
  const negated = p.isWord('not');
  const op = p.peek(negated ? 1 : 0);
  if (op.kind !== 'word') return false;
  const word = op.lower;
  if (
    !(
      word === 'in' ||
      word === 'like' ||
      word === 'between' ||
      (word === 'ilike' && p.rules.family === 'postgresql')
    )
  )
    return false;
  p.i += negated ? 2 : 1;
  if (word === 'in') {
    p.expectOp('(');
    if (p.isWord('select') || p.isWord('with')) p.query(p, ctx.env, ctx.scope);
    else expressionList(p, ctx);
    p.expectOp(')');
  } else if (word === 'between') {
    expression(p, ctx, 5);
    p.expectWord('and');
    expression(p, ctx, 5);
  } else {
    expression(p, ctx, 5);
    if (p.acceptWord('escape')) expression(p, ctx, 5);
  }
  return true;
}

function operand(p: ParseState, ctx: Context): void {
  const token = p.peek();
  if (token.kind === 'number' || token.kind === 'string') {
    p.next();
    return;
  }
  if (token.kind === 'op') {
    if (token.text === '(') {
      p.next();
      if (p.isWord('select') || p.isWord('with')) p.query(p, ctx.env, ctx.scope);
      else {
        expression(p, ctx);
        if (p.isOp(',')) p.fail('row values are not supported');
      }
      p.expectOp(')');
      return;
    }
    if (token.text === '-' || token.text === '+') {
      p.next();
      expression(p, ctx, 8);
      return;
    }
    p.fail('expected an expression');
  }
  if (token.kind === 'quoted') {
    columnReference(p, ctx);
    return;
  }
  if (token.kind !== 'word') p.fail('expected an expression');
  const word = token.lower;
  const following = p.peek(1);
  if (word === 'not') {
    p.next();
    expression(p, ctx, 3);
  } else if (word === 'exists') {
    p.next();
    p.expectOp('(');
    p.query(p, ctx.env, ctx.scope);
    p.expectOp(')');
  } else if (word === 'case') caseExpression(p, ctx);
  else if (word === 'cast') {
    p.next();
    p.expectOp('(');
    expression(p, ctx);
    p.expectWord('as');
    typeName(p);
    p.expectOp(')');
  } else if (word === 'null' || word === 'true' || word === 'false') p.next();
  else if (following.kind === 'string' && p.rules.typedLiterals.has(word)) p.i += 2;
  else if (word === 'interval' && p.rules.family === 'mysql') {
    p.next();
    expression(p, ctx, 8);
    const unit = p.next();
    if (unit.kind !== 'word' || !INTERVAL_UNITS.has(unit.lower)) p.fail('expected an INTERVAL unit');
  } else if (following.kind === 'op' && following.text === '(') functionCall(p, ctx);
  else if (p.rules.niladic.has(word)) p.next();
  else columnReference(p, ctx);
}

/** `column` or `table.column`. */
function columnReference(p: ParseState, ctx: Context): void {
  const first = p.name('a column');
  if (p.isOp('(')) p.fail('quoted or qualified function names are not supported');
  if (!p.acceptOp('.')) {
    p.column(ctx.scope, undefined, first);
    return;
  }
  if (p.isOp('*')) p.fail('t.* stands only in a select list');
  const second = p.name('a column');
  if (p.isOp('.') || p.isOp('(')) p.fail('three-part names and qualified function names are not supported');
  p.column(ctx.scope, first, second);
}

function functionCall(p: ParseState, ctx: Context): void {
  const name = p.next().lower;
  // MySQL reads a built-in name followed by a space as another (possibly stored) function.
  if (p.rules.family === 'mysql' && p.peek().spaced) p.fail(`a space between ${name} and its (`);
  p.expectOp('(');
  if (!p.isOp(')')) functionArguments(p, ctx, name);
  p.expectOp(')');
  p.functions.add(name);
  if (p.isWord('filter') && p.isOp('(', 1)) {
    p.i += 2;
    p.expectWord('where');
    expression(p, ctx);
    p.expectOp(')');
  }
  if (p.acceptWord('over')) windowSpecification(p, ctx);
}

/** Arguments, with the special forms of EXTRACT, POSITION, SUBSTRING and TRIM. */
function functionArguments(p: ParseState, ctx: Context, name: string): void {
  if (name === 'count' && p.acceptOp('*')) return;
  if (name === 'extract') {
    const field = p.next();
    if (field.kind !== 'word' && field.kind !== 'string') p.fail('expected a field name');
    p.expectWord('from');
    expression(p, ctx);
    return;
  }
  if (name === 'position' && p.rules.family !== 'sqlite') {
    expression(p, ctx, 5);
    p.expectWord('in');
    expression(p, ctx);
    return;
  }
  if (name === 'trim' && ['leading', 'trailing', 'both'].some((word) => p.acceptWord(word))) {
    if (!p.isWord('from')) expression(p, ctx);
    p.expectWord('from');
    expression(p, ctx);
    return;
  }
  if (!p.acceptWord('distinct')) p.acceptWord('all');
  expression(p, ctx);
  if ((name === 'substring' || name === 'substr') && p.acceptWord('from')) {
    expression(p, ctx);
    if (p.acceptWord('for')) expression(p, ctx);
    return;
  }
  if (name === 'trim' && p.acceptWord('from')) {
    expression(p, ctx);
    return;
  }
  while (p.acceptOp(',')) expression(p, ctx);
  if (p.acceptWord('order')) {
    p.expectWord('by');
    orderByList(p, ctx);
  }
  if (name === 'group_concat' && p.acceptWord('separator') && p.next().kind !== 'string')
    p.fail('expected a string after SEPARATOR');
}

function caseExpression(p: ParseState, ctx: Context): void {
  p.expectWord('case');
  if (!p.isWord('when')) expression(p, ctx);
  if (!p.isWord('when')) p.fail('expected WHEN');
  while (p.acceptWord('when')) {
    expression(p, ctx);
    p.expectWord('then');
    expression(p, ctx);
  }
  if (p.acceptWord('else')) expression(p, ctx);
  p.expectWord('end');
}

/** `OVER ( [PARTITION BY …] [ORDER BY …] [ROWS|RANGE|GROUPS frame] )`; named windows refuse. */
function windowSpecification(p: ParseState, ctx: Context): void {
  p.expectOp('(');
  if (p.acceptWord('partition')) {
    p.expectWord('by');
    expressionList(p, ctx);
  }
  if (p.acceptWord('order')) {
    p.expectWord('by');
    orderByList(p, ctx);
  }
  if (p.acceptWord('rows') || p.acceptWord('range') || p.acceptWord('groups')) {
    if (p.acceptWord('between')) {
      frameBound(p, ctx);
      p.expectWord('and');
    }
    frameBound(p, ctx);
  }
  p.expectOp(')');
}

function frameBound(p: ParseState, ctx: Context): void {
  if (p.acceptWord('current')) {
    p.expectWord('row');
    return;
  }
  if (!p.acceptWord('unbounded')) expression(p, ctx, 5);
  if (!p.acceptWord('preceding')) p.expectWord('following');
}

/** A cast's target: one of the dialect's listed types, with an optional length or precision. */
export function typeName(p: ParseState): void {
  const token = p.next();
  if (token.kind !== 'word' || !p.rules.types.has(token.lower))
    p.fail('expected a type name from the allowed list');
  const pg = p.rules.family === 'postgresql';
  if (pg && token.lower === 'double') p.expectWord('precision');
  if (pg && token.lower === 'character') p.acceptWord('varying');
  if (token.lower === 'signed' || token.lower === 'unsigned') {
    if (!p.acceptWord('integer')) p.acceptWord('int');
  }
  if (p.acceptOp('(')) {
    if (p.next().kind !== 'number') p.fail('expected a number');
    if (p.acceptOp(',') && p.next().kind !== 'number') p.fail('expected a number');
    p.expectOp(')');
  }
  if (
    pg &&
    (token.lower === 'time' || token.lower === 'timestamp') &&
    (p.acceptWord('with') || p.acceptWord('without'))
  ) {
    p.expectWord('time');
    p.expectWord('zone');
  }
}

/** `expr [ASC|DESC] [NULLS FIRST|LAST], …` */
export function orderByList(p: ParseState, ctx: Context): void {
  do {
    expression(p, ctx);
    if (!p.acceptWord('asc')) p.acceptWord('desc');
    if (p.acceptWord('nulls') && !p.acceptWord('first')) p.expectWord('last');
  } while (p.acceptOp(','));
}

/** `expr, expr, …` */
export function expressionList(p: ParseState, ctx: Context): void {
  do expression(p, ctx);
  while (p.acceptOp(','));
}
