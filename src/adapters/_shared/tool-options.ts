import type { ToolOptions } from '../../guard-types.ts';
import type { StandardSchemaV1 } from '../../standard-schema.ts';

/** What an adapter knows about a framework tool, for the guard's tool options. */
export interface HostToolFacts {
  readonly name: string;
  /** The framework tool's schema; used as the guard's `input` when it is a Standard Schema. */
  readonly schema?: unknown;
  readonly description?: unknown;
  readonly risk?: string | undefined;
  readonly tags?: readonly string[] | undefined;
}

/** The guard's options for a framework tool: its schema (if a Standard Schema), description, risk and tags. */
export function hostToolOptions(facts: HostToolFacts): ToolOptions {
  const options: ToolOptions = { name: facts.name };
  const schema = facts.schema as Partial<StandardSchemaV1> | undefined;
  if (typeof schema?.['~standard']?.validate === 'function') options.input = schema as StandardSchemaV1;
  if (typeof facts.description === 'string') options.description = facts.description;
  if (facts.risk !== undefined) options.risk = facts.risk;
  if (facts.tags !== undefined) options.tags = facts.tags;
  return options;
}
