import type { StandardSchemaV1 } from '../../standard-schema.ts';
import type { JsonObject } from '../../types.ts';

const JSON_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);

/**
 * A Standard Schema for the arguments of an MCP tool, from its pinned JSON Schema `inputSchema`.
 * It is deliberately strict and small: arguments must be an object; every key must be declared in
 * `properties` (whatever `additionalProperties` says: the guard decides on declared arguments
 * only); `required` keys must be present; a property with a simple `type` must have that JSON type.
 * Everything else (formats, ranges, nested shapes) is left to the server's own validation.
 * A schema that is not an object schema refuses every call.
 */
export function mcpInputSchema(tool: string, inputSchema: unknown): StandardSchemaV1<JsonObject> {
  const problem = schemaProblem(inputSchema);
  const schema = inputSchema as { properties?: Record<string, unknown>; required?: unknown };
  const properties = problem === undefined ? (schema.properties ?? {}) : {};
  const required =
    problem === undefined && Array.isArray(schema.required)
      ? schema.required.filter((key): key is string => typeof key === 'string')
      : [];
  return {
    '~standard': {
      version: 1,
      vendor: 'toolgate-mcp',
      validate(value: unknown): StandardSchemaV1.Result<JsonObject> {
        if (problem !== undefined) return fail(`the inputSchema of ${tool} is unusable: ${problem}`);
        if (typeof value !== 'object' || value === null || Array.isArray(value))
          return fail('arguments must be an object');
        const args = value as Record<string, unknown>;
        const issues: StandardSchemaV1.Issue[] = [];
        for (const key of Object.keys(args)) {
          if (!Object.hasOwn(properties, key)) {
            issues.push({
              message: `undeclared argument ${JSON.stringify(key)} (not in the pinned inputSchema)`,
              path: [key],
            });
            continue;
          }
          const expected = simpleTypes((properties as Record<string, unknown>)[key]);
          if (expected !== undefined && !expected.some((type) => hasType(args[key], type)))
            issues.push({ message: `must be of type ${expected.join(' | ')}`, path: [key] });
        }
        for (const key of required)
          if (!Object.hasOwn(args, key)) issues.push({ message: 'is required', path: [key] });
        return issues.length > 0 ? { issues } : { value: args as JsonObject };
      },
    },
  };
}

function fail(message: string): StandardSchemaV1.FailureResult {
  return { issues: [{ message }] };
}

function schemaProblem(schema: unknown): string | undefined {
  if (schema === undefined) return 'it is missing';
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return 'it is not an object';
  const { type, properties } = schema as { type?: unknown; properties?: unknown };
  if (type !== 'object') return 'its type is not "object"';
  if (
    properties !== undefined &&
    (typeof properties !== 'object' || properties === null || Array.isArray(properties))
  )
    return 'its properties are not an object';
  return undefined;
}

/** The JSON types a property schema names with `type`, or undefined when it names none we check. */
function simpleTypes(property: unknown): string[] | undefined {
  if (typeof property !== 'object' || property === null) return undefined;
  const type = (property as { type?: unknown }).type;
  const list = typeof type === 'string' ? [type] : Array.isArray(type) ? type : undefined;
  if (list === undefined || list.length === 0) return undefined;
  if (!list.every((entry) => typeof entry === 'string' && JSON_TYPES.has(entry))) return undefined;
  return list as string[];
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number';
    case 'integer':
      return Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    case 'array':
      return Array.isArray(value);
    default:
      return typeof value === 'object' && value !== null && !Array.isArray(value);
  }
}
