// Where strings, names and comments begin and end, per dialect (issue 14, finding 1 as a class):
// each case is a statement and whether sqlScope allows it on tables orders and customers.
import { describe, expect, test } from 'vitest';
import { type SqlDialect, sqlScope } from '../../src/sql/index.ts';
import { tokenize } from '../../src/sql/lexer.ts';
import { request } from './helpers.ts';

const req = request('db.query');
const scope = (dialect: SqlDialect) => sqlScope({ dialect, tables: ['orders', 'customers'] });
const verdicts = (dialect: SqlDialect, cases: readonly (readonly [string, boolean])[]) =>
  test.each(cases)(`${dialect}: %j → %s`, (sql, allowed) => {
    expect(scope(dialect).test(sql, req)).toBe(allowed);
  });

describe('PostgreSQL tokens', () => {
  verdicts('postgresql', [
    // Standard strings: a backslash is ordinary for the server, but standard_conforming_strings can change that.
    ["SELECT * FROM orders WHERE note = '\\' ; DELETE FROM secrets; -- '", false],
    ["SELECT 'it''s' FROM orders", true],
    ["SELECT 'a' FROM orders WHERE note = ';DROP TABLE secrets'", true],
    // E'…': backslash escapes, the string ends at the last quote.
    ["SELECT E'\\' ; DELETE FROM secrets; -- ' FROM orders", true],
    ["SELECT E'\\\\' ; DELETE FROM secrets; -- '", false],
    ["SELECT E'a''b\\'c' FROM orders", true],
    // Continuation of a string on the next line joins it in the E mode: refused.
    ["SELECT E'a'\n'\\' ; DELETE FROM secrets; --'", false],
    ["SELECT 'a'\n'b'", false],
    // U&'…' and U&"…" with UESCAPE.
    ["SELECT U&'\\0041\\+01F600' FROM orders", true],
    ["SELECT U&'!0041' UESCAPE '!' FROM orders", true],
    ["SELECT U&'\\' ; DELETE FROM secrets; --' FROM orders", false],
    ["SELECT U&'x' UESCAPE 'a'", false],
    ["SELECT U&'x' UESCAPE ''''", false],
    ['SELECT * FROM U&"ord\\0065rs"', true],
    ['SELECT * FROM U&"s\\0065crets"', false],
    ['SELECT * FROM U&"s!0065crets" UESCAPE \'!\'', false],
    ['SELECT * FROM U&"\\D83D\\DE00"', false],
    ['SELECT * FROM U&"\\D83D"', false],
    ['SELECT uescape FROM orders', false],
    // Dollar quoting: nothing inside is special; the body ends at the same tag.
    ["SELECT $$ ' ; DELETE FROM secrets; $$ FROM orders", true],
    ["SELECT $a$ $b$ ' $a$ FROM orders", true],
    ['SELECT $a$ $A$ ; DELETE FROM secrets; $A$', false],
    ['SELECT $1 FROM orders', false],
    ['SELECT $$unterminated', false],
    ['SELECT a$b FROM orders', false],
    // Comments nest; -- ends at a line feed or a carriage return.
    ['SELECT 1 /* a /* b */ ; DELETE FROM secrets; */ FROM orders', true],
    ['SELECT 1 /* a /* b */ FROM orders */ FROM secrets', false],
    ['SELECT 1 /**/ FROM orders', true],
    ['SELECT 1 /* /* */', false],
    ['SELECT 1 --c\rFROM orders', true],
    ['SELECT 1 --c\r; DELETE FROM secrets', false],
    ['SELECT 1 /*+ Set(work_mem 1) */ FROM orders', false],
    // Operators as scan.l cuts them; anything outside the small set refuses.
    ['SELECT id FROM orders WHERE id=-1', true],
    ['SELECT id FROM orders WHERE id<>-1', true],
    ['SELECT id FROM orders WHERE id+-1 > 0', true],
    ['SELECT id FROM orders WHERE id%-1 = 0', false],
    ['SELECT id FROM orders WHERE id @> 1', false],
    ['SELECT 1+--1\n2 FROM orders', true],
    ["SELECT id FROM orders WHERE id::text = '1'", true],
    ['SELECT id FROM orders WHERE id:::text', false],
    // Numbers and names.
    ['SELECT 0x1F FROM orders', false],
    ['SELECT 1_000 FROM orders', false],
    ['SELECT 1e5, 1.5, 2.5e-3 FROM orders', true],
    ['SELECT .5 FROM orders', false],
    ['SELECT 123abc FROM orders', false],
    ['SELECT "id" FROM "orders"', true],
    ['SELECT "" FROM orders', false],
    ['SELECT * FROM "ORDERS"', false],
    ['SELECT * FROM ORDERS', true],
    ['SELECT café FROM orders', false],
    ['SELECT "café" FROM orders', true],
    [`SELECT ${'a'.repeat(64)} FROM orders`, false],
    ['SELECT ` FROM orders', false],
    ['SELECT [id] FROM orders', false],
    ['SELECT id\u00a0FROM orders', false],
    ['SELECT id\vFROM orders', false],
    ["SELECT B'01', X'1F' FROM orders", false],
    ["SELECT N'x' FROM orders", true],
    ['SELECT 1; ', true],
    ['SELECT 1; -- done', true],
    ['SELECT 1;;', false],
    ['SELECT 1; SELECT 2', false],
  ]);
});

describe('MySQL / MariaDB tokens', () => {
  verdicts('mysql', [
    // Backslash escapes unless NO_BACKSLASH_ESCAPES: refused either way.
    ["SELECT * FROM orders WHERE note = 'a\\' ; DELETE FROM secrets; -- '", false],
    ["SELECT * FROM orders WHERE note = 'a\\' OR 1=1 -- '", false],
    ['SELECT \'it\'\'s\', "it""s" FROM orders', true],
    ['SELECT "a\\" FROM orders', false],
    // Without ANSI_QUOTES "…" is a string: not a table.
    ['SELECT * FROM "orders"', false],
    ['SELECT `id` FROM `orders`', true],
    ['SELECT `a``b` FROM orders', true],
    ['SELECT * FROM `secrets`', false],
    // Comments: #, -- followed by a space or a control character, /* */; executable comments refuse.
    ['SELECT 1 # ; DELETE FROM secrets\n FROM orders', true],
    ['SELECT 1 -- ; DELETE FROM secrets\n FROM orders', true],
    ['SELECT 1 --\t; DELETE FROM secrets\n FROM orders', true],
    ['SELECT 1 --', true],
    ['SELECT 1--1 FROM orders', false],
    ['SELECT 1 -- c\r; DELETE FROM secrets', true],
    ['SELECT id FROM orders /*!50000 UNION SELECT password FROM secrets */', false],
    ['SELECT id FROM orders /*! UNION SELECT password FROM secrets */', false],
    ['SELECT id FROM orders /*M!100000 UNION SELECT password FROM secrets */', false],
    ['SELECT /*+ MAX_EXECUTION_TIME(1) */ id FROM orders', false],
    ['SELECT id FROM orders /* /* */ UNION SELECT password FROM secrets */', false],
    ['SELECT id FROM orders /* c */', true],
    // Function names: a space before ( makes MySQL look for another function.
    ['SELECT count(*) FROM orders', true],
    ['SELECT count (*) FROM orders', false],
    ['SELECT count/**/(*) FROM orders', false],
    // Literal prefixes and introducers, variables, placeholders.
    ["SELECT X'41' FROM orders", false],
    ["SELECT _utf8mb4'x' FROM orders", false],
    ["SELECT N'x' FROM orders", false],
    ['SELECT 0x41 FROM orders', false],
    ['SELECT @a FROM orders', false],
    ['SELECT @@version', false],
    ['SELECT ? FROM orders', false],
    ['SELECT \\N FROM orders', false],
    ['SELECT {fn now()} FROM orders', false],
    ['SELECT id FROM orders WHERE id <=> 1', false],
    ['SELECT id FROM orders WHERE id = 1 && id = 2', false],
    ['SELECT $a FROM orders', false],
    ['SELECT * FROM ORDERS', false],
    ['SELECT 1; # done', true],
  ]);

  test('ansiQuotes: "…" is a name, and only in MySQL / MariaDB', () => {
    const ansi = sqlScope({ dialect: 'mariadb', tables: ['orders'], ansiQuotes: true });
    expect(ansi.test('SELECT "id" FROM "orders"', req)).toBe(true);
    expect(ansi.test('SELECT * FROM "secrets"', req)).toBe(false);
    expect(ansi.test('SELECT "a\\" FROM orders', req)).toBe(false);
    expect(() => sqlScope({ dialect: 'postgresql', tables: ['orders'], ansiQuotes: true })).toThrow(/MySQL/);
  });
});

describe('SQLite tokens', () => {
  verdicts('sqlite', [
    // No backslash escapes in SQLite.
    ["SELECT * FROM orders WHERE note = '\\'", true],
    ["SELECT * FROM orders WHERE note = '\\' ; DELETE FROM secrets; -- '", false],
    ['SELECT [id], "id", `id` FROM [orders]', true],
    ['SELECT * FROM [secrets]', false],
    ['SELECT * FROM ORDERS', true],
    ['SELECT * FROM "ORDERS"', true],
    // Block comments do not nest; -- needs no space.
    ['SELECT 1 /* /* */ FROM orders', true],
    ['SELECT 1 /* /* */ */ FROM orders', false],
    ['SELECT 1--x\nFROM orders', true],
    ['SELECT 1 /* unterminated', false],
    ["SELECT x'41' FROM orders", false],
    ['SELECT :a FROM orders', false],
    ['SELECT $a FROM orders', false],
    ['SELECT @a FROM orders', false],
    ['SELECT id FROM orders WHERE id == 1', true],
    ["SELECT * FROM 'orders'", false],
    ['SELECT id FROM orders WHERE id IN orders', false],
  ]);
});

test('the lexer never throws anything but a refusal, and NUL refuses', () => {
  expect(scope('postgresql').test('SELECT 1\u0000', req)).toBe(false);
  expect(scope('postgresql').test('SELECT \ud800', req)).toBe(false);
  expect(() => tokenize('SELECT $$', 'postgresql')).toThrow(/unterminated/);
  expect(tokenize('SELECT /* x */ a', 'postgresql').map((t) => [t.kind, t.text, t.spaced])).toEqual([
    ['word', 'SELECT', false],
    ['word', 'a', true],
    ['end', '', false],
  ]);
});
