import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { elicitationApprover } from '../adapters/mcp/elicitation.ts';
import { checkServerName } from '../adapters/mcp/gate.ts';
import { filePins, memoryPins, type PinStore } from '../adapters/mcp/pins.ts';
import { type McpProxyHandle, runMcpProxy } from '../adapters/mcp/proxy.ts';
import type { ApprovalProvider } from '../approval/types.ts';
import { consoleAudit } from '../audit/console.ts';
import type { AuditSink } from '../audit/types.ts';
import { createGuard } from '../guard.ts';
import { loadPolicy } from '../policy/load.ts';
import type { PolicyEngine } from '../policy/types.ts';
import type { ToolContext } from '../types.ts';

const USAGE = `usage: toolgate mcp-proxy --policy <policy.json|yaml> [options] -- <server command> [args…]

Guards a stdio MCP server: every tools/call is decided by the policy before the server sees it.
Tools are named <server>.<tool> for policies (e.g. "files.delete_file").

options:
  --policy <file>       policy file: { "rules": [ … ] } (JSON, or YAML with the yaml package)
  --watch               reload the policy file when it changes (an invalid edit keeps the last valid one)
  --name <server>       server name used in tool names and pins (default: mcp)
  --pins <file>         pin file for tool definitions (default: pins kept in memory for this run)
  --strict-pins         hide and deny tools without an approved pin (default: pin on first use)
  --update-pins         re-approve: pin the definitions the server lists now (after you reviewed them)
  --agent <id>          context.agent of every call
  --principal <id>      context.principal of every call
  --intent <id>         context.intent of every call
  --approve <mode>      how 'ask' rules are answered: 'elicit' (ask the user through the MCP
                        client's elicitation) or 'deny' (default)
  --audit <file|->      append audit events as JSON lines to a file, or to stderr with '-'
  -h, --help            this help`;

/** `toolgate mcp-proxy`: runs the guarded proxy; resolves with the server's exit code. */
export async function run(argv: string[]): Promise<number> {
  const split = argv.indexOf('--');
  const own = split === -1 ? argv : argv.slice(0, split);
  const command = split === -1 ? [] : argv.slice(split + 1);
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: own,
      options: {
        policy: { type: 'string' },
        watch: { type: 'boolean' },
        name: { type: 'string' },
        pins: { type: 'string' },
        'strict-pins': { type: 'boolean' },
        'update-pins': { type: 'boolean' },
        agent: { type: 'string' },
        principal: { type: 'string' },
        intent: { type: 'string' },
        approve: { type: 'string' },
        audit: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    console.error(`toolgate mcp-proxy: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help === true) {
    console.error(USAGE);
    return 0;
  }
  const [executable, ...args] = command;
  if (typeof values.policy !== 'string' || executable === undefined) {
    console.error(`toolgate mcp-proxy: --policy and a server command after -- are required\n\n${USAGE}`);
    return 2;
  }
  const approve = values.approve ?? 'deny';
  if (approve !== 'elicit' && approve !== 'deny') {
    console.error(`toolgate mcp-proxy: --approve must be 'elicit' or 'deny'`);
    return 2;
  }
  const server = typeof values.name === 'string' ? values.name : 'mcp';

  let policy: PolicyEngine;
  let pins: PinStore;
  try {
    checkServerName(server);
    policy = await loadPolicy(values.policy, { watch: values.watch === true });
    pins = typeof values.pins === 'string' ? filePins(values.pins) : memoryPins();
  } catch (error) {
    console.error(`toolgate mcp-proxy: ${(error as Error).message}`);
    return 2;
  }

  const context: ToolContext = {};
  if (typeof values.agent === 'string') context.agent = values.agent;
  if (typeof values.principal === 'string') context.principal = values.principal;
  if (typeof values.intent === 'string') context.intent = values.intent;

  let handle: McpProxyHandle | undefined;
  const approver: ApprovalProvider | undefined =
    approve === 'elicit' ? elicitationApprover(() => handle) : undefined;
  const audit: AuditSink[] = [];
  if (values.audit === '-') audit.push(consoleAudit({ log: (line) => process.stderr.write(`${line}\n`) }));
  else if (typeof values.audit === 'string') {
    const file = values.audit;
    audit.push({
      ...consoleAudit({ log: (line) => appendFileSync(file, `${line}\n`) }),
      name: 'jsonl-append',
    });
  }
  const tg = createGuard({ policy, audit, ...(approver === undefined ? {} : { approver }) });

  const onSignal = (signal: NodeJS.Signals) => handle?.child.kill(signal);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await runMcpProxy(tg, {
      command: executable,
      args,
      server,
      pins,
      pinning: values['update-pins'] === true ? 'update' : values['strict-pins'] === true ? 'strict' : 'tofu',
      context,
      onPinMismatch: (event) =>
        console.error(
          `toolgate mcp-proxy: the definition of ${server}.${event.tool} ${
            event.pinned === undefined ? 'is not pinned' : 'changed since it was pinned'
          }; it is hidden and its calls are denied until it is re-approved (--update-pins)`,
        ),
      onStart: (proxy) => {
        handle = proxy;
      },
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await tg.close();
  }
}
