/**
 * `toolgate policy check | explain | test | coverage`: tooling for policy files (JSON or YAML).
 */
import { lint } from '../policy/lint.ts';
import type { Decision, JsonObject, ToolContext, ToolInfo } from '../types.ts';
import { CliError, EXIT, reportFailure, UsageError } from './failures.ts';
import { coverage } from './policy-coverage.ts';
import { EXPLAIN_STATUSES, explain } from './policy-explain.ts';
import { decide, InvalidPolicy, loadPolicyFile, makeRequest, readJsonFile } from './policy-input.ts';

const USAGE = `usage:
  toolgate policy check <file> [--strict] [--json]
  toolgate policy explain <file> --tool <name> [--risk <label>] [--tags <a,b>] [--args '{…}'] [--context '{…}']
                         [--now <ISO | epoch ms>] [--json]
  toolgate policy test <file> <cases.json> [--json]
  toolgate policy coverage <file> --tools <name,name,…|tools.json> [--server <name>] [--json]

check     validates the file and lints it (rules shadowed by an unconditional deny, expired rules);
          exits 1 when the file is invalid (or, with --strict, has warnings)
explain   shows the decision for one call as the guard decides it (--risk and --tags: the tool's, as
          registered, for rules on tool.risk and tool.tags), the deciding rules and, for each
          candidate rule, one of
          ${Object.keys(EXPLAIN_STATUSES).join(', ')}
test      runs a table of calls with expected decisions; exits 1 on any mismatch
coverage  lists tools no reachable allow or ask rule covers (the default-deny gap); exits 1 when
          there are any. --server <name>: the manifest names tools as an MCP server lists them,
          which policies see as <name>.<tool> (mcp-proxy --name, the adapters' server option)`;

/** Runs the `policy` sub-command; resolves with the exit code. */
export async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  let json = false;
  try {
    const { positional, flags } = parseArgs(rest);
    if (command === undefined || command === '--help' || command === '-h' || flags.help !== undefined) {
      console.log(USAGE);
      return command === undefined ? EXIT.usage : EXIT.ok;
    }
    json = flags.json !== undefined;
    const known = FLAGS[command];
    if (known === undefined) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    for (const name of Object.keys(flags))
      if (!known.has(name)) throw new UsageError(`${command} has no option --${name}`);
    switch (command) {
      case 'check':
        return await check(positional, flags, json);
      case 'explain':
        return await explain(positional, flags, json);
      case 'test':
        return await testCases(positional, json);
      default:
        return await coverage(positional, flags, json);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(
        `toolgate policy${command === undefined ? '' : ` ${command}`}: ${error.message}\n${USAGE}`,
      );
      return EXIT.usage;
    }
    if (json && error instanceof CliError) console.log(JSON.stringify({ ok: false, error: error.message }));
    return reportFailure(`toolgate policy ${command}`, error);
  }
}

const FLAGS: Readonly<Record<string, ReadonlySet<string>>> = {
  check: new Set(['strict', 'json', 'help']),
  explain: new Set(['tool', 'risk', 'tags', 'args', 'context', 'now', 'json', 'help']),
  test: new Set(['json', 'help']),
  coverage: new Set(['tools', 'server', 'json', 'help']),
};

const SWITCHES: ReadonlySet<string> = new Set(['json', 'strict', 'help']);

function parseArgs(argv: string[]): { positional: string[]; flags: Record<string, string> } {
  const positional: string[] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h') flags.help = 'true';
    else if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      // `--strict=false` must not turn the switch on: a switch takes no value.
      if (eq > 0 && SWITCHES.has(arg.slice(2, eq)))
        throw new UsageError(`${arg.slice(0, eq)} takes no value`);
      if (eq > 0) flags[arg.slice(2, eq)] = arg.slice(eq + 1);
      else if (SWITCHES.has(arg.slice(2))) flags[arg.slice(2)] = 'true';
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

async function check(positional: string[], flags: Record<string, string>, json: boolean): Promise<number> {
  let loaded: Awaited<ReturnType<typeof loadPolicyFile>>;
  try {
    loaded = await loadPolicyFile(positional[0]);
  } catch (error) {
    // An invalid policy is check's answer, not a failure to run.
    if (!(error instanceof InvalidPolicy)) throw error;
    if (json) console.log(JSON.stringify({ ok: false, error: error.message }));
    else console.error(`✗ ${error.message}`);
    return EXIT.failed;
  }
  const { engine, rules } = loaded;
  const warnings = lint(rules, Date.now());
  if (json) {
    console.log(JSON.stringify({ ok: true, version: engine.version, rules: rules.length, warnings }));
  } else {
    console.log(`✓ ${positional[0]}: ${rules.length} rules, version ${engine.version.slice(0, 16)}`);
    for (const warning of warnings) console.log(`⚠ rule ${warning.rule}: ${warning.message}`);
  }
  return flags.strict !== undefined && warnings.length > 0 ? EXIT.failed : EXIT.ok;
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
  const { engine } = await loadPolicyFile(positional[0]);
  const casesFile = positional[1];
  if (casesFile === undefined) throw new UsageError('a cases file is required');
  const data = await readJsonFile(casesFile);
  const cases = (Array.isArray(data) ? data : (data as { cases?: unknown }).cases) as TestCase[] | undefined;
  if (!Array.isArray(cases))
    throw new CliError(`${casesFile}: the cases file must be a list (or { cases: [...] })`, EXIT.input);
  const results = cases.map((entry, index) => {
    const name = (entry as TestCase | null)?.name ?? `case #${index}`;
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
