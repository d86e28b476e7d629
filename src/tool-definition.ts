import { rejectUnknownKeys } from './_internal/keys.ts';
import { toolNameProblem } from './_internal/names.ts';
import { registerInputSchema } from './approval/input-schema.ts';
import type { ToolDefinition } from './core/call.ts';
import { ConfigurationError } from './errors.ts';
import type { ToolOptions } from './guard-types.ts';
import type { SecretBroker } from './secrets/broker.ts';
import { checkSecretName } from './secrets/types.ts';
import type { ToolInfo } from './types.ts';

// A tool as `tg.guard()` registers it: its options checked, its info frozen, its input schema kept
// for approvers, and the secrets it declares checked against the guard's bindings.

const TOOL_OPTION_KEYS: ReadonlySet<string> = new Set([
  'name',
  'input',
  'description',
  'risk',
  'tags',
  'secrets',
]);

/** Checks `tg.guard()`'s options and builds the tool's definition; invalid options throw here. */
export function defineTool(
  fn: ToolDefinition['fn'],
  options: ToolOptions,
  broker: SecretBroker | undefined,
): ToolDefinition {
  if (typeof options !== 'object' || options === null)
    throw new ConfigurationError('guard() needs options with a name');
  rejectUnknownKeys(options, TOOL_OPTION_KEYS, `tool ${JSON.stringify(options.name)}`);
  const problem = toolNameProblem(options.name);
  if (problem !== undefined) throw new ConfigurationError(`${problem}: ${JSON.stringify(options.name)}`);
  const { input } = options;
  if (input !== undefined && typeof input?.['~standard']?.validate !== 'function') {
    throw new ConfigurationError(
      `tool ${options.name}: input must be a Standard Schema (zod, valibot, arktype, …)`,
    );
  }
  const info: { -readonly [K in keyof ToolInfo]: ToolInfo[K] } = { name: options.name };
  if (options.description !== undefined) info.description = String(options.description);
  if (options.risk !== undefined) info.risk = String(options.risk);
  if (options.tags !== undefined) info.tags = Object.freeze(options.tags.map(String));
  const frozen = Object.freeze(info);
  const secrets = declaredSecrets(options.name, options.secrets, broker);
  registerInputSchema(frozen, input);
  return { fn, info: frozen, input, secrets };
}

const NO_SECRETS: readonly string[] = Object.freeze([]);

/** The secrets a tool declares: names, each given to the tool by a binding of the guard's `secrets`. */
function declaredSecrets(tool: string, names: unknown, broker: SecretBroker | undefined): readonly string[] {
  if (names === undefined) return NO_SECRETS;
  if (!Array.isArray(names)) throw new ConfigurationError(`tool ${tool}: secrets must be an array of names`);
  if (names.length === 0) return NO_SECRETS;
  for (const name of names) {
    try {
      checkSecretName(name);
    } catch (error) {
      throw new ConfigurationError(`tool ${tool}: ${(error as Error).message.replace(/^toolgate: /, '')}`);
    }
  }
  if (broker === undefined)
    throw new ConfigurationError(`tool ${tool} declares secrets, but the guard has no secrets option`);
  broker.checkTool(tool, names as string[]);
  return Object.freeze([...new Set(names as string[])]);
}

/**
 * One name, one tool as the policy sees it. A name guarded again (an adapter guarding its tools
 * per request, the MCP gate per call) must keep the risk, the tags and the secrets the policy and
 * `check()` read: otherwise `check()` (and the console) would decide on the last registration
 * while each wrapper runs with its own, and the two would disagree (G13). Throws a
 * ConfigurationError naming what differs.
 */
export function checkSameTool(previous: ToolDefinition | undefined, next: ToolDefinition): void {
  if (previous === undefined) return;
  const differs: string[] = [];
  if (previous.info.risk !== next.info.risk) differs.push('risk');
  if (!sameSet(previous.info.tags, next.info.tags)) differs.push('tags');
  if (!sameSet(previous.secrets, next.secrets)) differs.push('secrets');
  if (differs.length === 0) return;
  throw new ConfigurationError(
    `a tool named ${JSON.stringify(next.info.name)} is already guarded with other ${differs.join(', ')}: each tool needs its own name (check() and the policy would otherwise see one and run the other)`,
  );
}

function sameSet(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const left = [...new Set(a ?? [])].sort();
  const right = [...new Set(b ?? [])].sort();
  return left.length === right.length && left.every((value, i) => value === right[i]);
}
