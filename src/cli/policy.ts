/**
 * `toolgate policy check | explain | test | coverage`: tooling for policy files (JSON or YAML).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { toolNameProblem } from '../_internal/names.ts';
import { GuardError } from '../errors.ts';
import type { CompiledRule } from '../policy/compile.ts';
import { lint } from '../policy/lint.ts';
import { readPolicyFile } from '../policy/load.ts';
import { type RulesEngine, rulesOf, statusOf } from '../policy/rules.ts';
import { parseInstant } from '../policy/schedule.ts';
import type { ScopeFactories } from '../policy/scopes/scope.ts';
import type { Decision, JsonObject, ToolContext, ToolInfo, ToolRequest } from '../types.ts';

const USAGE = `usage:
  toolgate policy check <file> [--strict] [--json]
  toolgate policy explain <file> --tool <name> [--args '{…}'] [--context '{…}'] [--now <ISO>] [--json]
  toolgate policy test <file> <cases.json> [--json]
  toolgate policy coverage <file> --tools <name,name,…|tools.json> [--json]

check     validates the file and lints it (rules shadowed by an unconditional deny, expired rules)
explain   shows the decision for one call, the deciding rules and why each candidate rule did or did not apply
test      runs a table of calls with expected decisions; exits 1 on any mismatch
coverage  lists tools no allow or ask rule covers (the default-deny gap); exits 1 when there are any`;

/** Runs the `policy` sub-command; resolves with the exit code. */
export async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { positional, flags } = parseArgs(rest);
  if (command === undefined || command === '--help' || command === '-h' || flags.help !== undefined) {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  const json = flags.json !== undefined;
  try {
    switch (command) {
      case 'check':
        return await check(positional, flags, json);
      case 'explain':
        return await explain(positional, flags, json);
      case 'test':
        return await testCases(positional, json);
      case 'coverage':
        return await coverage(positional, flags, json);
      default:
        console.error(`toolgate policy: unknown command ${JSON.stringify(command)}\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`toolgate policy ${command}: ${error.message}\n${USAGE}`);
      return 2;
    }
    const message = GuardError.isInstance(error) ? error.message : String((error as Error)?.message ?? error);
    if (json) console.log(JSON.stringify({ ok: false, error: message }));
    else console.error(`✗ ${message}`);
    return 1;
  }
}

class UsageError extends Error {}

function parseArgs(argv: string[]): { positional: string[]; flags: Record<string, string> } {
  const positional: string[] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      if (eq > 0) flags[arg.slice(2, eq)] = arg.slice(eq + 1);
      else if (['json', 'strict', 'help'].includes(arg.slice(2))) flags[arg.slice(2)] = 'true';
      else {
        const value = argv[i + 1];
        if (value === undefined) throw new UsageError(`${arg} needs a value`);
        flags[arg.slice(2)] = value;
        i += 1;
      }
    } else positional.push(arg);
  }
  return { positional, flags };
}

async function scopes(): Promise<ScopeFactories> {
  try {
    const sql = (await import('../policy/scopes/sql.ts')) as { sqlScope: ScopeFactories[string] };
    return { sqlScope: sql.sqlScope };
  } catch {
    // node-sql-parser is an optional peer: without it, documents using sqlScope fail to load with a clear message.
    return {};
  }
}

async function load(
  file: string | undefined,
): Promise<{ engine: RulesEngine; rules: readonly CompiledRule[] }> {
  if (file === undefined) throw new UsageError('a policy file is required');
  const engine = await readPolicyFile(resolve(file), undefined, { scopes: await scopes() });
  return { engine, rules: rulesOf(engine) ?? [] };
}

async function check(positional: string[], flags: Record<string, string>, json: boolean): Promise<number> {
  const { engine, rules } = await load(positional[0]);
  const warnings = lint(rules, Date.now());
  if (json) {
    console.log(JSON.stringify({ ok: true, version: engine.version, rules: rules.length, warnings }));
  } else {
    console.log(`✓ ${positional[0]}: ${rules.length} rules, version ${engine.version.slice(0, 16)}`);
    for (const warning of warnings) console.log(`⚠ rule ${warning.rule}: ${warning.message}`);
  }
  return flags.strict !== undefined && warnings.length > 0 ? 1 : 0;
}

function parseJsonFlag(value: string | undefined, name: string): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new UsageError(`--${name} is not valid JSON: ${(error as Error).message}`);
  }
}

function makeRequest(
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
  const instant = now === undefined ? Date.now() : parseInstant(now, 'now');
  return deepFreeze({
    callId: 'cli',
    depth: 0,
    tool: { ...info, name: tool },
    args: (args ?? {}) as JsonObject,
    argsHash: '',
    context: (context ?? {}) as ToolContext,
    now: instant,
  }) as ToolRequest;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
}

function decide(engine: RulesEngine, request: ToolRequest): Decision {
  return engine.evaluate(request, { signal: new AbortController().signal }) as Decision;
}

async function explain(positional: string[], flags: Record<string, string>, json: boolean): Promise<number> {
  const { engine, rules } = await load(positional[0]);
  const request = makeRequest(
    flags.tool,
    parseJsonFlag(flags.args, 'args'),
    parseJsonFlag(flags.context, 'context'),
    flags.now,
  );
  const decision = decide(engine, request);
  const nameProblem = toolNameProblem(request.tool.name);
  const trace = rules.map((rule) => {
    if (nameProblem !== undefined || !rule.tools.some((glob) => glob.test(request.tool.name)))
      return { rule: rule.id, effect: rule.effect, status: 'tool-mismatch' as const };
    try {
      return { rule: rule.id, effect: rule.effect, status: statusOf(rule, request) };
    } catch (error) {
      return {
        rule: rule.id,
        effect: rule.effect,
        status: 'error' as const,
        error: (error as Error).message,
      };
    }
  });
  if (json) {
    console.log(JSON.stringify({ decision, trace }));
    return 0;
  }
  const code = decision.type === 'deny' ? ` (${decision.code})` : '';
  console.log(`decision: ${decision.type}${code}`);
  console.log(`rules:    ${decision.rules.length === 0 ? '(none)' : decision.rules.join(', ')}`);
  if (decision.reason !== undefined) console.log(`reason:   ${decision.reason}`);
  if (decision.type !== 'deny' && decision.obligations !== undefined)
    console.log(`obligations: ${JSON.stringify(decision.obligations)}`);
  if (decision.type === 'ask' && decision.approval !== undefined)
    console.log(`approval: ${JSON.stringify(decision.approval)}`);
  if (decision.type !== 'deny' && decision.limits !== undefined)
    console.log(`limits:   ${JSON.stringify(decision.limits)}`);
  console.log('candidate rules:');
  for (const entry of trace) {
    if (entry.status === 'tool-mismatch') continue;
    console.log(
      `  ${entry.rule} (${entry.effect}): ${entry.status}${'error' in entry ? `: ${entry.error}` : ''}`,
    );
  }
  return 0;
}

interface TestCase {
  name?: string;
  tool: string;
  args?: JsonObject;
  context?: ToolContext;
  now?: string | number;
  toolInfo?: Partial<ToolInfo>;
  expect: Decision['type'] | { type: Decision['type']; code?: string; rules?: string[] };
}

async function testCases(positional: string[], json: boolean): Promise<number> {
  const { engine } = await load(positional[0]);
  const casesFile = positional[1];
  if (casesFile === undefined) throw new UsageError('a cases file is required');
  const data = JSON.parse(await readFile(resolve(casesFile), 'utf8')) as unknown;
  const cases = (Array.isArray(data) ? data : (data as { cases?: unknown }).cases) as TestCase[] | undefined;
  if (!Array.isArray(cases)) throw new UsageError('the cases file must be a list (or { cases: [...] })');
  const results = cases.map((entry, index) => {
    const name = entry.name ?? `case #${index}`;
    try {
      const decision = decide(
        engine,
        makeRequest(entry.tool, entry.args, entry.context, entry.now, entry.toolInfo),
      );
      const expected = typeof entry.expect === 'string' ? { type: entry.expect } : entry.expect;
      const problems: string[] = [];
      if (decision.type !== expected.type) problems.push(`expected ${expected.type}, got ${decision.type}`);
      if (expected.code !== undefined && (decision.type !== 'deny' || decision.code !== expected.code))
        problems.push(
          `expected code ${expected.code}, got ${decision.type === 'deny' ? decision.code : 'none'}`,
        );
      if (
        expected.rules !== undefined &&
        JSON.stringify([...expected.rules].sort()) !== JSON.stringify(decision.rules)
      )
        problems.push(
          `expected rules ${expected.rules.join(', ')}, got ${decision.rules.join(', ') || '(none)'}`,
        );
      return { name, ok: problems.length === 0, problems, decision: decision.type };
    } catch (error) {
      return { name, ok: false, problems: [(error as Error).message], decision: undefined };
    }
  });
  const failed = results.filter((result) => !result.ok);
  if (json)
    console.log(JSON.stringify({ passed: results.length - failed.length, failed: failed.length, results }));
  else {
    for (const result of results)
      console.log(
        `${result.ok ? '✓' : '✗'} ${result.name}${result.ok ? '' : `: ${result.problems.join('; ')}`}`,
      );
    console.log(`${results.length - failed.length} passed, ${failed.length} failed`);
  }
  return failed.length === 0 ? 0 : 1;
}

async function coverage(positional: string[], flags: Record<string, string>, json: boolean): Promise<number> {
  const { rules } = await load(positional[0]);
  const tools = await toolNames(flags.tools);
  const report = tools.map((tool) => {
    const allowing = rules.filter(
      (rule) => rule.effect !== 'deny' && rule.tools.some((glob) => glob.test(tool)),
    );
    return { tool, covered: allowing.length > 0, rules: allowing.map((rule) => rule.id) };
  });
  const gaps = report.filter((entry) => !entry.covered).map((entry) => entry.tool);
  if (json) console.log(JSON.stringify({ tools: report, uncovered: gaps }));
  else {
    for (const entry of report)
      console.log(
        `${entry.covered ? '✓' : '✗'} ${entry.tool}${entry.covered ? ` (${entry.rules.join(', ')})` : ': no allow or ask rule (always denied)'}`,
      );
    console.log(`${report.length - gaps.length} of ${report.length} tools covered`);
  }
  return gaps.length === 0 ? 0 : 1;
}

async function toolNames(value: string | undefined): Promise<string[]> {
  if (value === undefined)
    throw new UsageError('--tools is required (names separated by commas, or a JSON manifest)');
  if (!value.endsWith('.json'))
    return value
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== '');
  const data = JSON.parse(await readFile(resolve(value), 'utf8')) as unknown;
  const list = Array.isArray(data) ? data : (data as { tools?: unknown }).tools;
  if (!Array.isArray(list)) throw new UsageError('the tools manifest must be a list, or { tools: [...] }');
  return list.map((entry) =>
    typeof entry === 'string' ? entry : String((entry as { name?: unknown }).name),
  );
}
