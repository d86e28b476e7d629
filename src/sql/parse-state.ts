import type { DialectRules, SqlName } from './dialect.ts';
import { asciiLower, SqlRefusal, type Token } from './token.ts';

/** Deepest nesting of queries and expressions accepted (bounds time and stack). */
const MAX_DEPTH = 200;
/**
 * Most column references times the FROM items each may come from: resolution looks at all of them,
 * so 24,000 of each would take minutes of one synchronous call. A real statement stays far below.
 */
const MAX_LOOKUPS = 1_000_000;

/** A relation the statement reads or writes, by its server-side name. */
export interface TableUse {
  /** `schema\u0000name` or `name`, as the dialect compares names. */
  readonly key: string;
  /** The name without schema, as `columns` entries name tables. */
  readonly name: string;
  readonly write: boolean;
}

/** A column read: `column` (undefined: every column) of one of `tables` (empty: only derived tables). */
export interface ColumnUse {
  readonly column: string | undefined;
  readonly tables: readonly string[];
}

/** An item of a FROM clause: its visible name and, for a base table, the table's name. */
export interface FromItem {
  readonly key: string;
  readonly table: string | undefined;
}

/** A column reference waiting for name resolution (after the whole statement is read). */
interface ColumnRef {
  readonly qualifier: string | undefined;
  /** Column key; undefined for `*` / `t.*`. */
  readonly column: string | undefined;
  /** The name as an item name (PostgreSQL reads a bare item name as the whole row). */
  readonly itemKey: string | undefined;
}

/** One query level (a SELECT, or the target of a write): its FROM items and its column references. */
export class NameScope {
  readonly items: FromItem[] = [];
  readonly refs: ColumnRef[] = [];
  constructor(readonly parent: NameScope | undefined) {}
}

/** The WITH names visible at a point of the statement, innermost first. */
export interface CteEnv {
  readonly key: string;
  readonly parent: CteEnv | undefined;
}

/** Where an expression stands: the WITH names it sees and the query level its columns belong to. */
export interface Context {
  readonly env: CteEnv | undefined;
  readonly scope: NameScope;
}

/** Parses one query (SELECT, VALUES or WITH …) at the cursor, in the given WITH names and scope. */
export type QueryParser = (p: ParseState, env: CteEnv | undefined, outer: NameScope | undefined) => void;

/** Cursor over the tokens plus what the statement touches, filled while parsing. */
export class ParseState {
  i = 0;
  private depth = 0;
  readonly tables: TableUse[] = [];
  /** `tables` as `key\u0000write`, so that recording a table stays constant time. */
  readonly tableKeys: Set<string> = new Set();
  readonly functions: Set<string> = new Set();
  readonly columns: ColumnUse[] = [];
  /** WITH names declared by the WITH lists around the current point (lowercase). */
  readonly withNames: string[] = [];
  private readonly scopes: NameScope[] = [];

  /**
   * @param query The parser of a nested query (src/sql/query.ts), handed in so the expression
   * parser can parse subqueries without importing it: the two recurse into each other.
   */
  constructor(
    readonly tokens: readonly Token[],
    readonly rules: DialectRules,
    readonly query: QueryParser,
  ) {}

  peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)]!;
  }

  next(): Token {
    const token = this.peek();
    if (this.i < this.tokens.length - 1) this.i += 1;
    return token;
  }

  isWord(word: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token.kind === 'word' && token.lower === word;
  }

  acceptWord(word: string): boolean {
    if (!this.isWord(word)) return false;
    this.i += 1;
    return true;
  }

  expectWord(word: string): void {
    if (!this.acceptWord(word)) this.fail(`expected ${word.toUpperCase()}`);
  }

  isOp(op: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token.kind === 'op' && token.text === op;
  }

  acceptOp(op: string): boolean {
    if (!this.isOp(op)) return false;
    this.i += 1;
    return true;
  }

  expectOp(op: string): void {
    if (!this.acceptOp(op)) this.fail(`expected ${op}`);
  }

  fail(message: string): never {
    const token = this.peek();
    const near = token.kind === 'end' ? 'at the end' : `near ${JSON.stringify(token.text.slice(0, 40))}`;
    throw new SqlRefusal(`${message} ${near} (offset ${token.at})`);
  }

  enter(): void {
    this.depth += 1;
    if (this.depth > MAX_DEPTH) this.fail('nested too deeply');
  }

  leave(): void {
    this.depth -= 1;
  }

  /** A name: an unquoted word that is not reserved, or a quoted identifier. */
  isName(offset = 0): boolean {
    const token = this.peek(offset);
    return token.kind === 'quoted' || (token.kind === 'word' && !this.rules.reserved.has(token.lower));
  }

  name(what: string): SqlName {
    const token = this.peek();
    if (!this.isName()) this.fail(`expected ${what}`);
    this.i += 1;
    return { text: token.text, quoted: token.kind === 'quoted' };
  }

  scope(parent: NameScope | undefined): NameScope {
    const scope = new NameScope(parent);
    this.scopes.push(scope);
    return scope;
  }

  /**
   * Records a column reference in `scope`. PostgreSQL's `t.f` may also be the call `f(t)`, which
   * reads the whole row of t: it then counts as the column f, the call f, and every column of t.
   */
  column(scope: NameScope, qualifier: SqlName | undefined, column: SqlName | undefined): void {
    if (qualifier !== undefined && column !== undefined) {
      const key = this.rules.columnKey(column);
      if (this.rules.rowFunctions.has(key)) this.functions.add(key);
      if (this.rules.rowReaders.has(key))
        scope.refs.push({ qualifier: asciiLower(qualifier.text), column: undefined, itemKey: undefined });
    }
    scope.refs.push({
      qualifier: qualifier === undefined ? undefined : asciiLower(qualifier.text),
      column: column === undefined ? undefined : this.rules.columnKey(column),
      itemKey: column === undefined ? undefined : asciiLower(column.text),
    });
  }

  /**
   * Turns the column references into uses of base tables. Resolution is a superset of the server's:
   * an unqualified column may come from any base table of its query or an enclosing one, a
   * qualifier names every item of that name up the chain (names compared without case).
   */
  resolveColumns(): void {
    // Scopes are created after their parents: each chain's length builds on its parent's.
    const chainLength = new Map<NameScope, number>();
    let lookups = 0;
    for (const scope of this.scopes) {
      const length =
        scope.items.length + (scope.parent === undefined ? 0 : (chainLength.get(scope.parent) ?? 0));
      chainLength.set(scope, length);
      lookups += scope.refs.length * (length + 1);
    }
    if (lookups > MAX_LOOKUPS) throw new SqlRefusal('too many column references times FROM items to resolve');
    const seen = new Set<string>();
    const joined = new WeakMap<readonly string[], string>();
    const use = (column: string | undefined, tables: readonly string[]) => {
      let list = joined.get(tables);
      if (list === undefined) {
        list = tables.join('\u0000');
        joined.set(tables, list);
      }
      const key = `${column ?? '*'}\u0000${list}`;
      if (seen.has(key)) return;
      seen.add(key);
      this.columns.push({ column, tables });
    };
    for (const scope of this.scopes) {
      if (scope.refs.length === 0) continue;
      // Once per scope: the items up its chain, their base tables, and those of each item name.
      const chain: FromItem[] = [];
      for (let at: NameScope | undefined = scope; at !== undefined; at = at.parent) chain.push(...at.items);
      const all = baseTables(chain);
      const own = baseTables(scope.items);
      const itemsNamed = new Map<string, FromItem[]>();
      for (const item of chain) {
        const items = itemsNamed.get(item.key);
        if (items === undefined) itemsNamed.set(item.key, [item]);
        else items.push(item);
      }
      const tablesNamed = new Map<string, readonly string[]>();
      const named = (key: string): readonly string[] | undefined => {
        const items = itemsNamed.get(key);
        if (items === undefined) return undefined;
        let tables = tablesNamed.get(key);
        if (tables === undefined) {
          tables = baseTables(items);
          tablesNamed.set(key, tables);
        }
        return tables;
      };
      for (const ref of scope.refs) {
        if (ref.qualifier === undefined && ref.column === undefined) {
          use(undefined, own);
          continue;
        }
        if (ref.qualifier === undefined) {
          // No FROM item up the chain: the name is an output alias, an error, or a column this model
          // does not see (as the ORDER BY of a parenthesized query once was): refused, never unchecked.
          if (chain.length === 0)
            throw new SqlRefusal(`${ref.itemKey} names no column of the query's tables`);
          use(ref.column, all);
          if (this.rules.family === 'postgresql' && ref.itemKey !== undefined) {
            const rows = named(ref.itemKey);
            if (rows !== undefined) use(undefined, rows);
          }
          continue;
        }
        const tables = named(ref.qualifier);
        if (tables === undefined) throw new SqlRefusal(`${ref.qualifier} is no table of the query`);
        use(ref.column, tables);
      }
    }
  }
}

function baseTables(items: readonly FromItem[]): string[] {
  const seen = new Set<string>();
  for (const item of items) if (item.table !== undefined) seen.add(item.table);
  return [...seen];
}
