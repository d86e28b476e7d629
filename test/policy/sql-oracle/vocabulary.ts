// The words the oracle generator builds statements from, per dialect: how tables and names may be
// written, string literals, comments, functions the scope must refuse. Entries with a reason are
// refused by the scope by design; the rest must be allowed when the rest of the statement is.
export type Family = 'postgresql' | 'mysql';
export type Type = 'int' | 'text';

export interface Column {
  readonly name: string;
  readonly type: Type;
}

/** Where the generated statements run: the schema (PostgreSQL) or database (MariaDB) of the tables. */
export interface OracleTarget {
  readonly family: Family;
  readonly schema: string;
  /** A second schema / database with a table `orders` the scope does not allow. */
  readonly other: string;
}

/** A piece of text and, when the scope must refuse it, why. */
export type Piece = readonly [text: string, refuse?: string];

export const ORDERS: readonly Column[] = [
  { name: 'id', type: 'int' },
  { name: 'customer_id', type: 'int' },
  { name: 'total', type: 'int' },
  { name: 'status', type: 'text' },
  { name: 'note', type: 'text' },
];
export const CUSTOMERS: readonly Column[] = [
  { name: 'id', type: 'int' },
  { name: 'name', type: 'text' },
  { name: 'email', type: 'text' },
];
export const SECRETS: readonly Column[] = [
  { name: 'id', type: 'int' },
  { name: 'password', type: 'text' },
];
/** The shape of every WITH body and derived table the generator writes. */
export const PAIR: readonly Column[] = [
  { name: 'id', type: 'int' },
  { name: 'label', type: 'text' },
];

/** The `tables` option of the scopes the generated verdicts are for. */
export function oracleTables(target: OracleTarget): string[] {
  return ['orders', 'customers', `${target.schema}.orders`];
}

/** A table as written, the key the server resolves it to, and whether the scope allows it. */
export interface TableWriting {
  readonly text: string;
  /** Set for an unqualified name: a visible WITH name with this key hides the table. */
  readonly key: string | undefined;
  readonly columns: readonly Column[];
  /** Undefined when the scope allows the table; else why not. */
  readonly refuse: string | undefined;
}

/** How the generator may write each table in `family`. */
export function tableWritings(target: OracleTarget): readonly TableWriting[] {
  const { schema, other } = target;
  const allowed = (text: string, key: string | undefined, columns: readonly Column[]): TableWriting => ({
    text,
    key,
    columns,
    refuse: undefined,
  });
  const forbidden = (text: string, key: string | undefined, columns: readonly Column[]): TableWriting => ({
    text,
    key,
    columns,
    refuse: `reads ${text}`,
  });
  if (target.family === 'postgresql')
    return [
      allowed('orders', 'orders', ORDERS),
      allowed('ORDERS', 'orders', ORDERS),
      allowed('"orders"', 'orders', ORDERS),
      allowed(`${schema}.orders`, undefined, ORDERS),
      allowed(`"${schema}"."orders"`, undefined, ORDERS),
      allowed('customers', 'customers', CUSTOMERS),
      allowed('Customers', 'customers', CUSTOMERS),
      allowed('"customers"', 'customers', CUSTOMERS),
      forbidden('secrets', 'secrets', SECRETS),
      forbidden('"secrets"', 'secrets', SECRETS),
      forbidden('U&"s\\0065crets"', 'secrets', SECRETS),
      forbidden('"ORDERS"', 'ORDERS', [ORDERS[0]!, ORDERS[4]!]),
      forbidden(`${other}.orders`, undefined, ORDERS),
      forbidden(`${schema}.customers`, undefined, CUSTOMERS),
    ];
  return [
    allowed('orders', 'orders', ORDERS),
    allowed('`orders`', 'orders', ORDERS),
    allowed(`${schema}.orders`, undefined, ORDERS),
    allowed(`\`${schema}\`.\`orders\``, undefined, ORDERS),
    allowed('customers', 'customers', CUSTOMERS),
    allowed('`customers`', 'customers', CUSTOMERS),
    forbidden('secrets', 'secrets', SECRETS),
    forbidden('`secrets`', 'secrets', SECRETS),
    forbidden('ORDERS', 'ORDERS', [ORDERS[0]!, ORDERS[4]!]),
    forbidden('`ORDERS`', 'ORDERS', [ORDERS[0]!, ORDERS[4]!]),
    forbidden(`${other}.orders`, undefined, ORDERS),
    forbidden(`${schema}.customers`, undefined, CUSTOMERS),
  ];
}

/** WITH names as declared, and their keys (PostgreSQL folds unquoted names; MySQL compares exactly). */
export function cteDeclarations(family: Family): readonly (readonly [text: string, key: string])[] {
  return family === 'postgresql'
    ? [
        ['recent', 'recent'],
        ['secrets', 'secrets'],
        ['orders', 'orders'],
        ['customers', 'customers'],
        ['Secrets', 'secrets'],
        ['"secrets"', 'secrets'],
        ['"Recent"', 'Recent'],
      ]
    : [
        ['recent', 'recent'],
        ['secrets', 'secrets'],
        ['orders', 'orders'],
        ['customers', 'customers'],
        ['Secrets', 'Secrets'],
        ['`secrets`', 'secrets'],
      ];
}

/** Ways to write a reference to a WITH name with `key`. */
export function cteWritings(family: Family, key: string): readonly string[] {
  if (family === 'mysql') return [key, `\`${key}\``];
  return key === key.toLowerCase() ? [key, key.toUpperCase(), `"${key}"`] : [`"${key}"`, key];
}

/** The key a written table name resolves to (unqualified names only), as the dialect compares names. */
export function nameKey(family: Family, text: string): string {
  if (family === 'mysql') return text.replace(/^`|`$/g, '');
  if (text.startsWith('"')) return text.slice(1, -1);
  return text.toLowerCase();
}

export function columnWritings(family: Family, name: string): readonly string[] {
  return family === 'postgresql'
    ? [name, name.toUpperCase(), `"${name}"`]
    : [name, name.toUpperCase(), `\`${name}\``];
}

export function stringLiterals(family: Family): readonly Piece[] {
  return family === 'postgresql'
    ? [
        ["'plain'"],
        ["'it''s'"],
        ["'-- not a comment'"],
        ["'/* not a comment */'"],
        ["'; DELETE FROM secrets'"],
        ["$$dollar ' quoted$$"],
        ['$q$ has $$ inside $q$'],
        ["E'e\\'s'"],
        ["E'back\\\\slash'"],
        ["U&'\\0041bc'"],
        ["U&'!0041' UESCAPE '!'"],
        ["'multi\nline'"],
        ["N'national'"],
        ["'back\\slash'", 'a backslash in a standard string'],
        ["'\\' ; DELETE FROM secrets; -- '", 'a backslash in a standard string'],
      ]
    : [
        ["'plain'"],
        ["'it''s'"],
        ["'-- not a comment'"],
        ["'# not a comment'"],
        ["'/*! not code */'"],
        ['"double"'],
        ['"it""s"'],
        ["'; DELETE FROM secrets'"],
        ["'back\\slash'", 'a backslash in a string'],
        ["'it\\'s'", 'a backslash in a string'],
      ];
}

/** What may stand between two tokens besides a space. */
export function gaps(family: Family): readonly Piece[] {
  const common: Piece[] = [[' /* c */ '], ['\n'], ['\t'], [' -- note\n'], ['/**/']];
  return family === 'postgresql'
    ? [
        ...common,
        [' /* a /* nested */ b */ '],
        [' --no space needed\n'],
        [' -- a carriage return ends it\r'],
        [' /*+ hint */ ', 'an optimizer hint'],
      ]
    : [
        ...common,
        [' # hash\n'],
        [' /*! 1 */ ', 'an executable comment'],
        [' /*M! 1 */ ', 'an executable comment'],
        [' --x\n', '-- without a space'],
        [' /* /* */ ', 'a comment inside a comment'],
      ];
}

/** Function calls outside the default allow list, returning an integer or text. */
export function forbiddenCalls(family: Family, type: Type): readonly string[] {
  if (family === 'postgresql')
    return type === 'int'
      ? [
          'pg_backend_pid()',
          "length(current_setting('search_path'))",
          "length(set_config('tg.x', '1', true))",
          'txid_current()',
          'length(version())',
          "length(repeat('a', 2))",
          "length(query_to_xml('select 1', true, false, '')::text)",
        ]
      : [
          "current_setting('search_path')",
          'version()',
          "to_json('x'::text)::text",
          "quote_literal('x')",
          'current_schema()',
        ];
  return type === 'int'
    ? [
        'sleep(0)',
        'connection_id()',
        'benchmark(1, 1)',
        'length(version())',
        "coalesce(length(load_file('/etc/hostname')), 0)",
      ]
    : ['version()', 'database()', 'user()', "coalesce(load_file('/etc/hostname'), 'x')"];
}
