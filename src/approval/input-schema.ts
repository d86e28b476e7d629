import { canonicalJson } from '../_internal/canonical.ts';
import { dropPromise, isThenable } from '../_internal/fail-closed.ts';
import type { StandardSchemaV1 } from '../standard-schema.ts';
import type { JsonObject, ToolInfo } from '../types.ts';

// The JSON Schema of a tool's input, when its Standard Schema can describe itself (Standard JSON
// Schema: zod 4, arktype), kept beside the tool's info so approval requests can carry it: an
// approver editing arguments can then check them before answering.

const schemas = new WeakMap<ToolInfo, JsonObject>();
/** The tool's own Standard Schema, to tell approvers whether its args can be edited at all. */
const inputs = new WeakMap<ToolInfo, StandardSchemaV1>();
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
  inputs.set(info, input);
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

/** What the tool's schema makes of some args, run here without the guard's own checks. */
export type SchemaOutcome = 'same' | 'changed' | 'refused' | 'unknown';

/**
 * Whether `args` are a fixed point of the tool's input schema: `'same'` when validating them gives
 * back exactly the same data (canonical JSON), `'changed'` when it accepts them but gives back
 * something else (dollars into cents, trimming, defaults), `'refused'` when it refuses or throws,
 * `'unknown'` when it answers asynchronously (not awaited here). An edit is accepted only when the
 * schema keeps it (src/approval/approval-flow.ts). Without a schema, `'same'`.
 */
export function schemaOutcome(info: ToolInfo, args: unknown): SchemaOutcome {
  const input = inputs.get(info);
  if (input === undefined) return 'same';
  try {
    const result: unknown = input['~standard'].validate(args);
    if (isThenable(result)) {
      dropPromise(result);
      return 'unknown';
    }
    if (typeof result !== 'object' || result === null) return 'refused';
    const { issues, value } = result as { issues?: unknown; value?: unknown };
    if (issues !== undefined) return 'refused';
    return sameJson(value, args) ? 'same' : 'changed';
  } catch {
    return 'refused';
  }
}

/** Why an edit the tool's schema would change is refused (G9: what runs is what was approved). */
export const EDIT_CHANGED =
  "the tool's input schema changes them (its output is not the arguments approved), so the tool would not run with what was approved; edit only arguments the schema keeps as they are";

/** The same JSON data (canonical JSON, so key order does not matter); anything unreadable is not. */
export function sameJson(a: unknown, b: unknown): boolean {
  try {
    return canonicalJson(a) === canonicalJson(b);
  } catch {
    return false;
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
