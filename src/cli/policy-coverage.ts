import { toolNameProblem } from '../_internal/names.ts';
import { reachability } from '../policy/lint.ts';
import { CliError, EXIT, UsageError } from './failures.ts';
import { loadPolicyFile, readJsonFile } from './policy-input.ts';

/** How one tool is covered. */
interface ToolCoverage {
  readonly tool: string;
  readonly covered: boolean;
  /** The reachable allow and ask rules for the tool. */
  readonly rules: readonly string[];
  /** The unconditional deny rule that denies every call of the tool, if any. */
  readonly deniedBy?: string;
  /** Allow and ask rules for the tool that `policy check` reports unreachable. */
  readonly unreachable?: readonly string[];
}

/**
 * `toolgate policy coverage`: the tools no reachable allow or ask rule covers (the default-deny
 * gap). A rule counts only where `policy check` does not report it unreachable (the same analysis,
 * src/policy/lint.ts), and never for a tool an unconditional deny rule denies.
 */
export async function coverage(
  positional: string[],
  flags: Record<string, string>,
  json: boolean,
): Promise<number> {
  const { rules } = await loadPolicyFile(positional[0]);
  const server = flags.server;
  if (server !== undefined && toolNameProblem(`${server}.x`) !== undefined)
    throw new UsageError(`--server ${JSON.stringify(server)} cannot be the first part of a tool name`);
  const tools = (await toolNames(flags.tools)).map((name) =>
    server === undefined ? name : `${server}.${name}`,
  );
  const { unreachable, deniedBy } = reachability(rules, Date.now());
  const report = tools.map((tool): ToolCoverage => {
    const candidates = rules.filter(
      (rule) => rule.effect !== 'deny' && rule.tools.some((glob) => glob.test(tool)),
    );
    const live = candidates.filter((rule) => !unreachable.has(rule.id));
    const dead = candidates.filter((rule) => unreachable.has(rule.id)).map((rule) => rule.id);
    const denier = deniedBy(tool);
    const entry: {
      -readonly [K in keyof ToolCoverage]: ToolCoverage[K];
    } = {
      tool,
      covered: denier === undefined && live.length > 0,
      rules: denier === undefined ? live.map((rule) => rule.id) : [],
    };
    if (denier !== undefined) entry.deniedBy = denier.id;
    if (dead.length > 0) entry.unreachable = dead;
    return entry;
  });
  const gaps = report.filter((entry) => !entry.covered).map((entry) => entry.tool);
  if (json) console.log(JSON.stringify({ tools: report, uncovered: gaps }));
  else {
    for (const entry of report) console.log(describe(entry));
    console.log(`${report.length - gaps.length} of ${report.length} tools covered`);
  }
  return gaps.length === 0 ? EXIT.ok : EXIT.failed;
}

function describe(entry: ToolCoverage): string {
  if (entry.covered) return `✓ ${entry.tool} (${entry.rules.join(', ')})`;
  const dead =
    entry.unreachable === undefined
      ? ''
      : `; unreachable: ${entry.unreachable.join(', ')} (see policy check)`;
  if (entry.deniedBy !== undefined)
    return `✗ ${entry.tool}: always denied by the unconditional deny rule ${entry.deniedBy}${dead}`;
  return `✗ ${entry.tool}: no reachable allow or ask rule (always denied)${dead}`;
}

/**
 * The tool names `--tools` gives: names separated by commas, or a JSON file holding a list of
 * names or tool objects, `{ tools: [...] }` (a `tools/list` result), or a whole JSON-RPC response.
 */
async function toolNames(value: string | undefined): Promise<string[]> {
  if (value === undefined)
    throw new UsageError('--tools is required (names separated by commas, or a JSON manifest)');
  if (!value.endsWith('.json'))
    return value
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== '');
  const data = await readJsonFile(value);
  const list = listOf(data);
  if (list === undefined)
    throw new CliError(
      `${value}: expected a list of tools, { "tools": [...] } (a tools/list result) or a JSON-RPC response holding one`,
      EXIT.input,
    );
  return list.map((entry, index) => {
    const name = typeof entry === 'string' ? entry : (entry as { name?: unknown } | null)?.name;
    if (typeof name !== 'string' || name === '')
      throw new CliError(`${value}: tool ${index} has no name`, EXIT.input);
    return name;
  });
}

function listOf(data: unknown): unknown[] | undefined {
  if (Array.isArray(data)) return data;
  const record = data as { tools?: unknown; result?: { tools?: unknown } } | null;
  const tools = record?.tools ?? record?.result?.tools;
  return Array.isArray(tools) ? tools : undefined;
}
