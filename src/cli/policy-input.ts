import { resolve } from 'node:path';
import { snapshot } from '../_internal/snapshot.ts';
import { snapshotContext } from '../context.ts';
import { invalidContext, PLAIN_JSON, refusedArgs } from '../core/refusals.ts';
import type { CompiledRule } from '../policy/compile.ts';
import { MAX_DOCUMENT_FILE_BYTES, readPolicyFile } from '../policy/load.ts';
import { type RulesEngine, rulesOf } from '../policy/rules.ts';
import { parseInstant } from '../policy/schedule.ts';
import type { ScopeFactories } from '../policy/scopes/scope.ts';
import { sqlScope } from '../policy/scopes/sql.ts';
import type { Decision, JsonObject, ToolContext, ToolInfo, ToolRequest } from '../types.ts';
import { CliError, EXIT, importOptional, readInput, UsageError } from './failures.ts';

// What the `toolgate policy` commands read: the policy file, JSON flags, and calls to decide
// (src/cli/policy.ts, policy-explain.ts, policy-coverage.ts).

/** A policy file that could not be compiled (`policy check` reports it as its answer, exit 1). */
export class InvalidPolicy extends CliError {
  constructor(message: string, cause: unknown) {
    super(message, EXIT.input, { cause });
    this.name = 'InvalidPolicy';
  }
}

/** The factories of the scopes a policy file may use. */
const SCOPES: ScopeFactories = { sqlScope };

/**
 * Reads and compiles a policy file. A missing or unreadable file, or a YAML file without the `yaml`
 * package, is a CliError naming it; an invalid document is an InvalidPolicy.
 */
export async function loadPolicyFile(
  file: string | undefined,
): Promise<{ engine: RulesEngine; rules: readonly CompiledRule[] }> {
  if (file === undefined) throw new UsageError('a policy file is required');
  const path = resolve(file);
  // Read once here so a missing or unreadable file is reported as such, not as an invalid policy.
  await readInput(path, MAX_DOCUMENT_FILE_BYTES, file);
  if (/\.ya?ml$/i.test(path)) await importOptional('yaml');
  let engine: RulesEngine;
  try {
    engine = await readPolicyFile(path, undefined, { scopes: SCOPES });
  } catch (error) {
    throw new InvalidPolicy(String((error as Error)?.message ?? error).replace(/^toolgate: /, ''), error);
  }
  return { engine, rules: rulesOf(engine) ?? [] };
}

/** Reads and parses a JSON input file; a missing, unreadable or malformed file is a CliError (exit 3). */
export async function readJsonFile(path: string): Promise<unknown> {
  const text = await readInput(path, MAX_JSON_INPUT_BYTES);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(`${path} is not JSON: ${(error as Error).message}`, EXIT.input);
  }
}

/** Largest JSON input file (a cases table, a tools manifest). */
const MAX_JSON_INPUT_BYTES = 64 * 1024 * 1024;

/** Parses a JSON flag; bad JSON is a usage error naming the flag. */
export function parseJsonFlag(value: string | undefined, name: string): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new UsageError(`--${name} is not valid JSON: ${(error as Error).message}`);
  }
}

/** The frozen request the engine sees for one call. */
export function makeRequest(
  tool: unknown,
  args: unknown,
  context: unknown,
  now: unknown,
  info: Partial<ToolInfo> = {},
): ToolRequest {
  if (typeof tool !== 'string') throw new UsageError('a tool name is required');
  if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args)))
    throw new UsageError('args must be a JSON object');
  if (context !== undefined && (typeof context !== 'object' || context === null || Array.isArray(context)))
    throw new UsageError('context must be a JSON object');
  const instant = now === undefined ? Date.now() : instantOf(now);
  // The guard's frozen copies of what it accepts (identities in NFC); what it refuses stays as
  // given, for `decide` to deny as the guard does (never walked here: it may be nested too deeply).
  const accepted = snapshotContext(context);
  const copy = snapshot(args ?? {}, ARG_LIMITS);
  return Object.freeze({
    callId: 'cli',
    depth: 0,
    tool: deepFreeze({ ...info, name: tool }),
    args: (copy.ok ? copy.value : args) as JsonObject,
    argsHash: '',
    context: (typeof accepted === 'string' ? context : accepted) as ToolContext,
    now: instant,
  }) as ToolRequest;
}

/** `--now` (or a case's `now`): an ISO 8601 instant with an offset, or epoch ms (digits on the command line). */
function instantOf(now: unknown): number {
  try {
    return parseInstant(typeof now === 'string' && /^-?\d{1,16}$/.test(now) ? Number(now) : now, 'now');
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/^toolgate: /, ''));
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
}

/**
 * The guard's limits on arguments unless `createGuard({ defaults })` changes them (src/guard.ts):
 * the CLI cannot know a deployment's own.
 */
const ARG_LIMITS = { maxBytes: 1_048_576, maxDepth: 64 } as const;

/**
 * The decision a guard would give a request (the built-in engine decides synchronously). As in
 * the guard, a context or arguments it refuses are denied before the policy runs
 * (`INVALID_CONTEXT`, `INVALID_ARGS`), so no command explains such a call as an allow.
 */
export function decide(engine: RulesEngine, request: ToolRequest): Decision {
  const context = snapshotContext(request.context);
  if (typeof context === 'string') return invalidContext(context);
  const args = snapshot(request.args, ARG_LIMITS);
  if (!args.ok) return refusedArgs(args, PLAIN_JSON);
  return engine.evaluate(request, { signal: new AbortController().signal }) as Decision;
}
