import type { StandardSchemaV1 } from '../standard-schema.ts';
import type { JsonObject, ToolInfo } from '../types.ts';

// The JSON Schema of a tool's input, when its Standard Schema can describe itself (Standard JSON
// Schema: zod 4, arktype), kept beside the tool's info so approval requests can carry it: an
// approver editing arguments can then check them before answering.

const schemas = new WeakMap<ToolInfo, JsonObject>();
/** Larger schemas are left out of approval requests rather than bloating every one. */
const MAX_SCHEMA_BYTES = 64 * 1024;

interface JsonSchemaCapable {
  readonly jsonSchema?: { readonly input?: (options: { target: string }) => unknown };
}

/**
 * Remembers the JSON Schema of `info`'s input, if `input` can produce one. Never throws: a schema
 * that cannot be described (transforms, custom checks) simply has none.
 */
export function registerInputSchema(info: ToolInfo, input: StandardSchemaV1 | undefined): void {
  if (input === undefined) return;
  try {
    const standard = input['~standard'] as StandardSchemaV1.Props & JsonSchemaCapable;
    const produce = standard.jsonSchema?.input;
    if (typeof produce !== 'function') return;
    const text = JSON.stringify(produce.call(standard.jsonSchema, { target: 'draft-2020-12' }));
    if (typeof text !== 'string' || text.length > MAX_SCHEMA_BYTES) return;
    const schema = JSON.parse(text) as unknown;
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return;
    schemas.set(info, deepFreeze(schema as JsonObject));
  } catch {
    // No JSON Schema for this tool; approvers validate nothing before answering, the guard still does.
  }
}

/** The JSON Schema registered for a tool's info, if any. */
export function inputSchemaOf(info: ToolInfo): JsonObject | undefined {
  return schemas.get(info);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
