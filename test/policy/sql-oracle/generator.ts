// A grammar-based generator of SQL statements for the oracles. It knows what each statement means
// (which table every name resolves to, with WITH names resolved where they stand, and which functions
// it calls), so it also knows whether the scope must allow or refuse it; the real server then judges
// every statement the scope allows. Statements stay type-correct and small so that they run.
import fc from 'fast-check';
import {
  type Column,
  columnWritings,
  cteDeclarations,
  cteWritings,
  type Family,
  forbiddenCalls,
  gaps,
  nameKey,
  type OracleTarget,
  PAIR,
  type Piece,
  stringLiterals,
  type TableWriting,
  type Type,
  tableWritings,
} from './vocabulary.ts';

export interface GeneratedStatement {
  readonly sql: string;
  /** Why the scope must refuse it; undefined when it must allow it. */
  readonly refuse: string | undefined;
  /** An INSERT, UPDATE or DELETE: a readOnly scope refuses it. */
  readonly write: boolean;
}

/** Statements for `target`, deterministic for a fast-check seed. */
export function generatedStatements(target: OracleTarget): fc.Arbitrary<GeneratedStatement> {
  return fc.gen().map((g) => new Builder(g, target).statement());
}

interface Item {
  /** The name columns are qualified with; undefined: only unqualified references. */
  readonly alias: string | undefined;
  readonly columns: readonly Column[];
}
interface Level {
  readonly items: Item[];
  readonly parent: Level | undefined;
}
interface Cte {
  readonly key: string;
}
type Shape = 'top' | 'pair' | 'column' | 'scalar' | 'exists';

class Builder {
  private refusal: string | undefined;
  private aliases = 0;
  /** Names of enclosing WITH lists a MySQL WITH body must not use (see withClause). */
  private hidden: ReadonlySet<string> = new Set();
  /** Names declared by the WITH lists around the current point (lowercase). */
  private readonly declared: string[] = [];
  private recursives = 0;
  private readonly family: Family;
  private readonly tables: readonly TableWriting[];

  constructor(
    private readonly g: fc.GeneratorValue,
    target: OracleTarget,
  ) {
    this.family = target.family;
    this.tables = tableWritings(target);
  }

  statement(): GeneratedStatement {
    const write = this.chance(15);
    let sql = write ? this.write() : this.query([], undefined, 0, 'top');
    const end = this.int(0, 99);
    if (end < 4) sql += ';';
    else if (end < 7) {
      sql += this.pick(['; SELECT 1', '; DELETE FROM secrets', ';\nDROP TABLE secrets']);
      this.refuse('a second statement');
    } else if (!write && end < 10) {
      sql += ' FOR UPDATE';
      this.refuse('a locking clause');
    }
    return { sql, refuse: this.refusal, write };
  }

  private int(min: number, max: number): number {
    return this.g(fc.integer, { min, max });
  }

  private pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }

  private chance(percent: number): boolean {
    return this.int(0, 99) < percent;
  }

  private refuse(why: string): void {
    this.refusal ??= why;
  }

  private piece(pieces: readonly Piece[]): string {
    // Pieces the scope refuses are rarer, so that most statements reach the server.
    const [text, why] = this.pick(
      this.chance(93) ? pieces.filter((piece) => piece[1] === undefined) : pieces,
    );
    if (why !== undefined) this.refuse(why);
    return text;
  }

  /** A space, sometimes a comment or a line break. */
  private gap(): string {
    return this.chance(12) ? this.piece(gaps(this.family)) : ' ';
  }

  private alias(): string {
    this.aliases += 1;
    return `t${this.aliases}`;
  }

  private query(env: readonly Cte[], outer: Level | undefined, depth: number, shape: Shape): string {
    let sql = '';
    const declared = this.declared.length;
    if (depth < 3 && shape !== 'exists' && this.chance(depth === 0 ? 30 : 12)) {
      const [clause, inner] = this.withClause(env, depth);
      sql += clause;
      env = inner;
    }
    const compound = (shape === 'top' || shape === 'pair') && depth < 3 && this.chance(15);
    if (compound) {
      sql += this.core(env, outer, depth, 'pair', false);
      for (let k = this.int(1, 2); k > 0; k -= 1) {
        const op = this.pick(['UNION', 'UNION ALL', 'INTERSECT', 'EXCEPT', 'UNION DISTINCT']);
        sql += `${this.gap()}${op}${this.gap()}${this.core(env, outer, depth, 'pair', false)}`;
      }
      if (shape === 'top' && this.chance(50)) sql += ' ORDER BY 1';
    } else sql += this.core(env, outer, depth, shape, shape === 'top');
    if (shape === 'top' && this.chance(30)) sql += this.limit();
    this.declared.length = declared;
    return sql;
  }

  private limit(): string {
    const n = this.int(1, 5);
    if (this.family === 'postgresql')
      return this.pick([
        ` LIMIT ${n}`,
        ` LIMIT ${n} OFFSET 1`,
        ` OFFSET 0 ROWS FETCH FIRST ${n} ROWS ONLY`,
        ' LIMIT ALL',
      ]);
    return this.pick([` LIMIT ${n}`, ` LIMIT ${n} OFFSET 1`, ` LIMIT 1, ${n}`]);
  }

  private withClause(env: readonly Cte[], depth: number): [string, readonly Cte[]] {
    const recursive = this.chance(20);
    const parts: string[] = [];
    const used = new Set<string>();
    let inner = env;
    // MySQL / MariaDB: a WITH body sees its siblings only, not the names of enclosing WITH lists.
    let siblings: readonly Cte[] = [];
    for (let k = this.int(1, 2); k > 0; k -= 1) {
      // Recursive lists use fresh names no table has, so a body never meets itself or a namesake.
      const [text, key] = recursive
        ? [`r${++this.recursives}`, `r${this.recursives}`]
        : this.pick(cteDeclarations(this.family));
      if (used.has(key.toLowerCase())) continue;
      used.add(key.toLowerCase());
      // MariaDB 10.11 crashes on a name declared again inside the WITH of that name.
      if (this.family === 'mysql' && this.declared.includes(key.toLowerCase()))
        this.refuse('a WITH name repeated inside an enclosing WITH of that name');
      this.declared.push(key.toLowerCase());
      let body: string;
      if (recursive && this.chance(50)) {
        const self = this.alias();
        body = `SELECT 1 AS id, 'r' AS label UNION ALL SELECT ${self}.id + 1, ${self}.label FROM ${text} ${self} WHERE ${self}.id < 3`;
      } else if (this.family === 'mysql') {
        // MariaDB resolves some of these hidden names as WITH names after all (a body directly in a
        // WITH body): the generator keeps clear of them, the scope reads them as tables.
        const saved = this.hidden;
        this.hidden = new Set([...saved, ...inner.map((cte) => cte.key)]);
        body = this.query(siblings, undefined, depth + 1, 'pair');
        this.hidden = saved;
      } else body = this.query(inner, undefined, depth + 1, 'pair');
      const materialized = this.family === 'postgresql' && this.chance(10) ? 'MATERIALIZED ' : '';
      parts.push(`${text} AS ${materialized}(${body})`);
      inner = [{ key }, ...inner];
      siblings = [{ key }, ...siblings];
    }
    let list = parts[0]!;
    for (const part of parts.slice(1)) list += `,${this.gap()}${part}`;
    return [`WITH ${recursive ? 'RECURSIVE ' : ''}${list} `, inner];
  }

  /** One SELECT. */
  private core(
    env: readonly Cte[],
    outer: Level | undefined,
    depth: number,
    shape: Shape,
    ordered: boolean,
  ): string {
    const level: Level = { items: [], parent: outer };
    const from = shape === 'exists' || this.chance(92) ? ` FROM ${this.fromList(env, level, depth)}` : '';
    const where =
      level.items.length > 0 && this.chance(45) ? ` WHERE ${this.condition(env, level, depth + 1)}` : '';
    let list: string;
    let tail = '';
    if (shape === 'pair')
      list = `${this.intExpr(env, level, depth + 1)} AS id, ${this.textExpr(env, level, depth + 1)} AS label`;
    else if (shape === 'column') list = this.intExpr(env, level, depth + 1);
    // An aggregate over outer columns would belong to the outer query: aggregate local columns only.
    else if (shape === 'scalar')
      list = this.chance(50)
        ? 'count(*)'
        : `max(${this.column({ items: level.items, parent: undefined }, 'int') ?? '1'})`;
    else if (shape === 'exists') list = '1';
    else [list, tail] = this.topList(env, level, depth);
    const distinct = shape === 'top' && tail === '' && this.chance(8) ? 'DISTINCT ' : '';
    const order = ordered && this.chance(30) ? ' ORDER BY 1' : '';
    return `SELECT${this.gap()}${distinct}${list}${from}${where}${tail}${order}`;
  }

  /** The select list of a top-level query, and a GROUP BY / HAVING tail. */
  private topList(env: readonly Cte[], level: Level, depth: number): [string, string] {
    const mode = this.int(0, 9);
    if (mode === 0 && level.items.length > 0)
      return [this.chance(50) ? '*' : `${this.itemWithAlias(level)}.*`, ''];
    if (mode === 1) return [`count(*), max(${this.intExpr(env, level, depth + 1)})`, ''];
    if (mode === 2 && level.items.length > 0) {
      const key = this.column(level, 'text') ?? "'k'";
      const having = this.chance(40) ? ' HAVING count(*) > 0' : '';
      return [`${key}, count(*) AS n`, ` GROUP BY ${key}${having}`];
    }
    if (mode === 3 && level.items.length > 0) {
      const key = this.column(level, 'int') ?? '1';
      const partition = this.chance(50) ? `PARTITION BY ${this.column(level, 'text') ?? "'p'"} ` : '';
      return [`${key}, row_number() OVER (${partition}ORDER BY ${key}) AS rn`, ''];
    }
    const items: string[] = [];
    for (let k = this.int(1, 3); k > 0; k -= 1) {
      const expression = this.chance(50)
        ? this.intExpr(env, level, depth + 1)
        : this.textExpr(env, level, depth + 1);
      items.push(this.chance(60) ? `${expression} AS c${k}` : expression);
    }
    return [items.join(', '), ''];
  }

  private itemWithAlias(level: Level): string {
    const named = level.items.filter((item) => item.alias !== undefined);
    return named.length === 0 ? 'missing' : this.pick(named).alias!;
  }

  private fromList(env: readonly Cte[], level: Level, depth: number): string {
    let sql = this.fromItem(env, level, depth);
    if (depth < 3 && this.chance(25)) {
      const left = level.items.at(-1)!;
      const right = this.fromItem(env, level, depth);
      const rightItem = level.items.at(-1)!;
      const join = this.pick(['JOIN', 'INNER JOIN', 'LEFT JOIN', 'LEFT OUTER JOIN', 'CROSS JOIN', ',']);
      if (join === ',' || join === 'CROSS JOIN') sql += `${join === ',' ? ',' : ' CROSS JOIN'} ${right}`;
      else sql += ` ${join} ${right} ON ${left.alias}.id = ${rightItem.alias}.id`;
    }
    return sql;
  }

  /** A table, a WITH name or a derived table, with an alias; records what it resolves to. */
  private fromItem(env: readonly Cte[], level: Level, depth: number): string {
    const alias = this.alias();
    const as = this.chance(50) ? ' AS ' : ' ';
    const roll = this.int(0, 99);
    if (roll < 12 && depth < 3) {
      // Derived tables and WITH bodies stay uncorrelated (MariaDB refuses outer references there).
      const body = this.query(env, undefined, depth + 1, 'pair');
      level.items.push({ alias, columns: PAIR });
      return `(${body})${as}${alias}`;
    }
    let text: string;
    if (roll < 45 && env.length > 0) text = this.pick(cteWritings(this.family, this.pick(env).key));
    else {
      // Mostly allowed tables: a forbidden one refuses the whole statement.
      const usable = this.tables.filter(
        (t) => t.key === undefined || !this.hidden.has(t.key) || env.some((c) => c.key === t.key),
      );
      const pool = this.chance(92) ? usable.filter((t) => t.refuse === undefined) : usable;
      text = this.pick(pool).text;
    }
    level.items.push({ alias, columns: this.resolve(text, env) });
    return `${text}${as}${alias}`;
  }

  /** The columns of what a FROM name resolves to; refuses a table the scope does not allow. */
  private resolve(text: string, env: readonly Cte[]): readonly Column[] {
    const table = this.tables.find((t) => t.text === text);
    const key = table === undefined ? nameKey(this.family, text) : table.key;
    if (key !== undefined && env.some((cte) => cte.key === key)) return PAIR;
    if (table === undefined) {
      this.refuse(`${text} is no table the scope allows`);
      return PAIR;
    }
    if (table.refuse !== undefined) this.refuse(table.refuse);
    return table.columns;
  }

  /** A column of `type` visible from `level` (its items and the enclosing ones), or undefined. */
  private column(level: Level, type: Type): string | undefined {
    const candidates: [Item, Column, boolean][] = [];
    for (let at: Level | undefined = level; at !== undefined; at = at.parent)
      for (const item of at.items)
        for (const column of item.columns)
          if (column.type === type) candidates.push([item, column, at === level]);
    if (candidates.length === 0) return undefined;
    const [item, column, here] = this.pick(candidates);
    const name = this.pick(columnWritings(this.family, column.name));
    if (item.alias === undefined || (here && level.items.length === 1 && this.chance(40))) return name;
    if (this.family === 'postgresql' && this.chance(3) && item.columns.some((c) => c.name === 'status')) {
      this.refuse('attribute notation calls to_json');
      return `${item.alias}.to_json::text`;
    }
    return `${item.alias}.${name}`;
  }

  private intExpr(env: readonly Cte[], level: Level, depth: number): string {
    const leaf = () => (this.chance(60) ? this.column(level, 'int') : undefined) ?? String(this.int(0, 9));
    if (depth > 3) return leaf();
    const next = () => this.intExpr(env, level, depth + 1);
    switch (this.int(0, 13)) {
      case 0: {
        const [left, op, right] = [next(), this.pick([' + ', ' - ', ' * ', '+', '-', '*']), next()];
        // An unspaced operator before a negative number would write `--`, a comment.
        return right.startsWith('-') ? `${left} ${op.trim()} ${right}` : `${left}${op}${right}`;
      }
      case 1:
        return `abs(${next()})`;
      case 2:
        return `length(${this.textExpr(env, level, depth + 1)})`;
      case 3:
        return `coalesce(${next()}, 0)`;
      case 4:
        return `greatest(${next()}, ${next()})`;
      case 5:
        return `CASE WHEN ${this.condition(env, level, depth + 1)} THEN ${next()} ELSE ${next()} END`;
      case 6: {
        const inner = next();
        return this.family === 'postgresql'
          ? this.pick([`CAST(${inner} AS integer)`, `(${inner})::int`, `(${inner})::bigint`])
          : `CAST(${inner} AS signed)`;
      }
      case 7:
        return depth < 3 ? `(${this.query(env, level, depth + 1, 'scalar')})` : leaf();
      case 8:
        if (this.chance(20)) {
          this.refuse('a function outside the allow list');
          return this.pick(forbiddenCalls(this.family, 'int'));
        }
        return leaf();
      case 9:
        return `-${leaf()}`;
      default:
        return leaf();
    }
  }

  private textExpr(env: readonly Cte[], level: Level, depth: number): string {
    const literal = () => this.piece(stringLiterals(this.family));
    const leaf = () => (this.chance(55) ? this.column(level, 'text') : undefined) ?? literal();
    if (depth > 3) return leaf();
    const next = () => this.textExpr(env, level, depth + 1);
    const pg = this.family === 'postgresql';
    switch (this.int(0, 13)) {
      case 0:
        return `${this.pick(['lower', 'upper', 'LOWER', 'trim'])}(${next()})`;
      case 1:
        return pg && this.chance(50) ? `${next()} || ${next()}` : `concat(${next()}, ${next()})`;
      case 2: {
        const inner = this.intExpr(env, level, depth + 1);
        return pg ? this.pick([`CAST(${inner} AS text)`, `(${inner})::text`]) : `CAST(${inner} AS char)`;
      }
      case 3:
        return `substring(${next()} FROM 1 FOR 2)`;
      case 4:
        return `replace(${next()}, 'a', 'b')`;
      case 5:
        return `coalesce(${next()}, 'none')`;
      case 6:
        return `CASE WHEN ${this.condition(env, level, depth + 1)} THEN ${next()} ELSE ${next()} END`;
      case 7:
        if (this.chance(20)) {
          this.refuse('a function outside the allow list');
          return this.pick(forbiddenCalls(this.family, 'text'));
        }
        return leaf();
      default:
        return leaf();
    }
  }

  private condition(env: readonly Cte[], level: Level, depth: number): string {
    const int = () => this.intExpr(env, level, depth + 1);
    const text = () => this.textExpr(env, level, depth + 1);
    const next = () => this.condition(env, level, depth + 1);
    const deep = depth > 3;
    switch (this.int(0, deep ? 5 : 12)) {
      case 0:
        return `${int()} ${this.pick(['=', '<', '<>', '>=', '!='])} ${int()}`;
      case 1:
        return `${int()} IN (1, 2, 3)`;
      case 2:
        return `${int()} BETWEEN 0 AND 5`;
      case 3:
        return `${text()} ${this.pick(['LIKE', 'NOT LIKE'])} 'a%'`;
      case 4:
        return `${text()} ${this.pick(['IS NULL', 'IS NOT NULL'])}`;
      case 5:
        return this.family === 'postgresql' ? `${text()} ILIKE 'A%'` : `${int()}=-1`;
      case 6:
        return `${int()} ${this.pick(['IN', 'NOT IN'])} (${this.query(env, level, depth + 1, 'column')})`;
      case 7:
        return `${this.pick(['EXISTS', 'NOT EXISTS'])} (${this.query(env, level, depth + 1, 'exists')})`;
      case 8:
        return `NOT (${next()})`;
      case 9:
        return `(${next()} ${this.pick(['AND', 'OR'])} ${next()})`;
      case 10:
        return this.family === 'postgresql' ? `${int()} IS DISTINCT FROM ${int()}` : `${int()} <> ${int()}`;
      default:
        return `${int()} = ${int()}`;
    }
  }

  /** INSERT, UPDATE or DELETE on a table (mostly one the writer may change). */
  private write(): string {
    const writable = this.tables.filter((t) => t.refuse === undefined);
    const table = this.chance(85) ? this.pick(writable) : this.pick(this.tables);
    const columns = this.resolve(table.text, []);
    const level: Level = { items: [{ alias: undefined, columns }], parent: undefined };
    const orders = columns.some((c) => c.name === 'total');
    const returning = this.chance(20) ? ` RETURNING ${columns[0]!.name}` : '';
    switch (this.int(0, 2)) {
      case 0: {
        if (this.chance(25)) {
          const target = orders
            ? '(id, note)'
            : columns.some((c) => c.name === 'password')
              ? '(id, password)'
              : '(id, name)';
          return `INSERT INTO ${table.text} ${target} ${this.query([], undefined, 1, 'pair')}`;
        }
        const values = columns.map((c) =>
          c.type === 'int'
            ? String(this.int(100, 999))
            : this.textExpr([], { items: [], parent: undefined }, 3),
        );
        return `INSERT INTO ${table.text} (${columns.map((c) => c.name).join(', ')}) VALUES (${values.join(', ')})${returning}`;
      }
      case 1: {
        const set = orders
          ? `total = ${this.intExpr([], level, 2)}`
          : `${columns[1]!.name} = ${this.textExpr([], level, 2)}`;
        const where = this.chance(70) ? ` WHERE ${this.condition([], level, 2)}` : '';
        return `UPDATE ${table.text} SET ${set}${where}${this.family === 'postgresql' ? returning : ''}`;
      }
      default: {
        const where = this.chance(80) ? ` WHERE ${this.condition([], level, 2)}` : '';
        return `DELETE FROM ${table.text}${where}${returning}`;
      }
    }
  }
}
