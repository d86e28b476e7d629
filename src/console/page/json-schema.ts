// A small JSON Schema (draft 2020-12) checker for edited arguments, shared by the console's page and
// its server. It covers the keywords Standard Schema libraries emit for plain data (types, objects,
// arrays, enums, bounds, patterns, combinators, local $ref); anything else is not checked here, and
// the guard validates edits against the tool's own schema either way.

/** A problem with a value, at a JSON path such as `$.items[0].amount`. */
export interface SchemaIssue {
  readonly path: string;
  readonly message: string;
}

type Schema = Record<string, unknown> | boolean;

const MAX_ISSUES = 50;
const MAX_DEPTH = 64;

/** Checks `value` against `schema`; an empty list means it conforms (as far as this checker goes). */
export function checkSchema(schema: unknown, value: unknown): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  if (typeof schema !== 'object' || schema === null) return issues;
  visit(schema as Schema, value, '$', schema as Record<string, unknown>, issues, 0);
  return issues;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function matchesType(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return (
    ka.length === kb.length &&
    ka.every((k) => equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

function child(path: string, key: string | number): string {
  return typeof key === 'number'
    ? `${path}[${key}]`
    : /^[A-Za-z_$][\w$]*$/.test(key)
      ? `${path}.${key}`
      : `${path}[${JSON.stringify(key)}]`;
}

function resolveRef(root: Record<string, unknown>, ref: string): Schema | undefined {
  if (!ref.startsWith('#')) return undefined;
  let node: unknown = root;
  for (const raw of ref
    .slice(1)
    .split('/')
    .filter((part) => part !== '')) {
    const part = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return typeof node === 'object' || typeof node === 'boolean' ? (node as Schema) : undefined;
}

function visit(
  schema: Schema,
  value: unknown,
  path: string,
  root: Record<string, unknown>,
  issues: SchemaIssue[],
  depth: number,
): void {
  if (issues.length >= MAX_ISSUES || depth > MAX_DEPTH) return;
  const add = (message: string, at = path) => {
    if (issues.length < MAX_ISSUES) issues.push({ path: at, message });
  };
  if (schema === true) return;
  if (schema === false) {
    add('no value is allowed here');
    return;
  }
  const s = schema;
  if (typeof s.$ref === 'string') {
    const target = resolveRef(root, s.$ref);
    if (target !== undefined) visit(target, value, path, root, issues, depth + 1);
  }
  if (s.type !== undefined) {
    const types = (Array.isArray(s.type) ? s.type : [s.type]).filter(
      (t): t is string => typeof t === 'string',
    );
    if (types.length > 0 && !types.some((t) => matchesType(value, t))) {
      add(`must be ${types.join(' or ')}, not ${typeOf(value)}`);
      return;
    }
  }
  if (Array.isArray(s.enum) && !s.enum.some((option) => equal(option, value)))
    add(`must be one of ${s.enum.map((option) => JSON.stringify(option)).join(', ')}`);
  if (Object.hasOwn(s, 'const') && !equal(s.const, value)) add(`must be ${JSON.stringify(s.const)}`);
  if (typeof value === 'number') checkNumber(s, value, add);
  if (typeof value === 'string') checkString(s, value, add);
  if (Array.isArray(value)) checkArray(s, value, path, root, issues, depth, add);
  else if (typeof value === 'object' && value !== null)
    checkObject(s, value as Record<string, unknown>, path, root, issues, depth, add);
  for (const part of Array.isArray(s.allOf) ? (s.allOf as Schema[]) : [])
    visit(part, value, path, root, issues, depth + 1);
  if (Array.isArray(s.anyOf) || Array.isArray(s.oneOf)) {
    const options = (Array.isArray(s.anyOf) ? s.anyOf : s.oneOf) as Schema[];
    const passing = options.filter((option) => checkSub(option, value, root, depth).length === 0).length;
    if (Array.isArray(s.anyOf) && passing === 0) add('matches none of the allowed shapes');
    if (!Array.isArray(s.anyOf) && passing !== 1)
      add(passing === 0 ? 'matches none of the allowed shapes' : 'matches more than one allowed shape');
  }
  if (s.not !== undefined && checkSub(s.not as Schema, value, root, depth).length === 0)
    add('matches a shape that is not allowed');
}

function checkSub(
  schema: Schema,
  value: unknown,
  root: Record<string, unknown>,
  depth: number,
): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  visit(schema, value, '$', root, issues, depth + 1);
  return issues;
}

function checkNumber(s: Record<string, unknown>, value: number, add: (message: string) => void): void {
  if (typeof s.minimum === 'number' && value < s.minimum) add(`must be at least ${s.minimum}`);
  if (typeof s.maximum === 'number' && value > s.maximum) add(`must be at most ${s.maximum}`);
  if (typeof s.exclusiveMinimum === 'number' && value <= s.exclusiveMinimum)
    add(`must be more than ${s.exclusiveMinimum}`);
  if (typeof s.exclusiveMaximum === 'number' && value >= s.exclusiveMaximum)
    add(`must be less than ${s.exclusiveMaximum}`);
  if (typeof s.multipleOf === 'number' && s.multipleOf > 0) {
    const ratio = value / s.multipleOf;
    if (Math.abs(ratio - Math.round(ratio)) > 1e-9) add(`must be a multiple of ${s.multipleOf}`);
  }
}

function checkString(s: Record<string, unknown>, value: string, add: (message: string) => void): void {
  const length = [...value].length;
  if (typeof s.minLength === 'number' && length < s.minLength)
    add(`must have at least ${s.minLength} characters`);
  if (typeof s.maxLength === 'number' && length > s.maxLength)
    add(`must have at most ${s.maxLength} characters`);
  if (typeof s.pattern === 'string') {
    let pattern: RegExp | undefined;
    try {
      pattern = new RegExp(s.pattern, 'u');
    } catch {
      pattern = undefined;
    }
    if (pattern !== undefined && !pattern.test(value)) add(`must match ${s.pattern}`);
  }
}

function checkArray(
  s: Record<string, unknown>,
  value: unknown[],
  path: string,
  root: Record<string, unknown>,
  issues: SchemaIssue[],
  depth: number,
  add: (message: string) => void,
): void {
  if (typeof s.minItems === 'number' && value.length < s.minItems)
    add(`must have at least ${s.minItems} items`);
  if (typeof s.maxItems === 'number' && value.length > s.maxItems)
    add(`must have at most ${s.maxItems} items`);
  if (s.uniqueItems === true && value.some((item, i) => value.findIndex((other) => equal(other, item)) !== i))
    add('items must be unique');
  const prefix = Array.isArray(s.prefixItems) ? (s.prefixItems as Schema[]) : [];
  value.forEach((item, i) => {
    const itemSchema = i < prefix.length ? prefix[i] : (s.items as Schema | undefined);
    if (itemSchema !== undefined) visit(itemSchema, item, child(path, i), root, issues, depth + 1);
  });
}

function checkObject(
  s: Record<string, unknown>,
  value: Record<string, unknown>,
  path: string,
  root: Record<string, unknown>,
  issues: SchemaIssue[],
  depth: number,
  add: (message: string, at?: string) => void,
): void {
  const properties =
    typeof s.properties === 'object' && s.properties !== null ? (s.properties as Record<string, Schema>) : {};
  for (const name of Array.isArray(s.required) ? (s.required as string[]) : []) {
    if (!Object.hasOwn(value, name)) add('is required', child(path, name));
  }
  const keys = Object.keys(value);
  if (typeof s.minProperties === 'number' && keys.length < s.minProperties)
    add(`must have at least ${s.minProperties} fields`);
  if (typeof s.maxProperties === 'number' && keys.length > s.maxProperties)
    add(`must have at most ${s.maxProperties} fields`);
  for (const key of keys) {
    if (Object.hasOwn(properties, key)) {
      visit(properties[key] as Schema, value[key], child(path, key), root, issues, depth + 1);
    } else if (s.additionalProperties === false) {
      add('is not an allowed field', child(path, key));
    } else if (typeof s.additionalProperties === 'object' && s.additionalProperties !== null) {
      visit(s.additionalProperties as Schema, value[key], child(path, key), root, issues, depth + 1);
    }
  }
}
