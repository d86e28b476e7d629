import { parseArgs } from 'node:util';
import { guardRecorder } from '../_internal/guard-records.ts';
import { elicitationApprover } from '../adapters/mcp/elicitation.ts';
import { checkServerName } from '../adapters/mcp/gate.ts';
import { serveMcpProxyHttp } from '../adapters/mcp/http-listener.ts';
import { filePins, memoryPins, type PinStore } from '../adapters/mcp/pins.ts';
import { type McpProxyHandle, runMcpProxy } from '../adapters/mcp/proxy.ts';
import { approvalDirectory } from '../approval/directory.ts';
import { type ApprovalStore, queueApprover } from '../approval/queue.ts';
import { approvalSecret } from '../approval/token.ts';
import type { ApprovalProvider, ApprovalRequest } from '../approval/types.ts';
import type { AuditOption } from '../audit/types.ts';
import { createGuard } from '../guard.ts';
import type { DenialDetail, Guard, OnDeny } from '../guard-types.ts';
import { loadPolicy } from '../policy/load.ts';
import type { PolicyEngine } from '../policy/types.ts';
import type { ToolContext } from '../types.ts';
import { closeAll, EXIT, importOptional, reportFailure, UsageError } from './failures.ts';
import { LISTEN_ONLY, LISTEN_USAGE, type ListenSetup, openListen } from './mcp-proxy-listen.ts';
import { PROXY_AUDIT_USAGE, proxyAudit } from './proxy-audit.ts';
import { openRedisStore, redactUrl } from './redis.ts';

const USAGE = `usage: toolgate mcp-proxy --policy <policy.json|yaml> [options] -- <server command> [args…]

Guards a stdio MCP server: every tools/call is decided by the policy before the server sees it.
Tools are named <server>.<tool> for policies (e.g. "files.delete_file").

options:
  --policy <file>        policy file: { "rules": [ … ] } (JSON, or YAML with the yaml package)
  --watch                reload the policy file when it changes (an invalid edit keeps the last valid one)
  --name <server>        server name used in tool names and pins (default: mcp)
  --pins <file>          pin file for tool definitions (default: pins kept in memory for this run)
  --strict-pins          hide and deny tools without an approved pin (default: pin on first use)
  --update-pins          re-approve: pin the definitions the server lists now (after you reviewed them)
  --agent <id>           context.agent of every call
  --principal <id>       context.principal of every call
  --intent <id>          context.intent of every call
  --approve <mode>       how 'ask' rules are answered: 'elicit' (the MCP client's elicitation form),
                         'queue' (a person answers with \`toolgate approvals\`) or 'deny' (default)
  --approvals-dir <dir>  with --approve queue: the approval directory on this machine
                         (default: $TOOLGATE_APPROVALS_DIR)
  --redis <url>          with --approve queue: the queue lives in Redis instead
  --secret-env <name>    with --approve queue: the variable holding the approval secret
                         (default: TOOLGATE_APPROVAL_SECRET)
  --denial-detail <d>    what the client's model reads of a denial: 'code', 'reason' (default)
                         or 'full' (also the rule and the failed conditions)
${PROXY_AUDIT_USAGE}
  -h, --help             this help

${LISTEN_USAGE}

exit codes: the server's own once it runs (128 + n when killed by signal n, 127 when it cannot be
started); before that 2 usage, 3 unreadable input, 4 Redis unreachable, 5 optional package missing.`;

type Values = ReturnType<typeof parse>['values'];

// The return type is inferred from the option table; spelling it out would only repeat it.
function parse(argv: string[]) {
  return parseArgs({
    args: argv,
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
      'approvals-dir': { type: 'string' },
      redis: { type: 'string' },
      'secret-env': { type: 'string' },
      'denial-detail': { type: 'string' },
      audit: { type: 'string' },
      'audit-key': { type: 'string' },
      'audit-anchor': { type: 'string' },
      'audit-rotate': { type: 'string' },
      'audit-mode': { type: 'string' },
      listen: { type: 'string' },
      keys: { type: 'string' },
      store: { type: 'string' },
      audience: { type: 'string' },
      'server-secret': { type: 'string', multiple: true },
      'secrets-dir': { type: 'string' },
      'secrets-env-prefix': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
}

/** `toolgate mcp-proxy`: runs the guarded proxy; resolves with the server's exit code. */
export async function run(argv: string[]): Promise<number> {
  const split = argv.indexOf('--');
  const own = split === -1 ? argv : argv.slice(0, split);
  const command = split === -1 ? [] : argv.slice(split + 1);
  const closers: (() => Promise<void>)[] = [];
  let values: Values;
  let policy: PolicyEngine;
  let pins: PinStore;
  let audit: AuditOption;
  let queue: OpenedQueue | undefined;
  let listen: ListenSetup | undefined;
  try {
    try {
      values = parse(own).values;
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    if (values.help === true) {
      console.error(USAGE);
      return EXIT.ok;
    }
    if (typeof values.policy !== 'string' || command[0] === undefined)
      throw new UsageError('--policy and a server command after -- are required');
    const approve = values.approve ?? 'deny';
    if (approve !== 'elicit' && approve !== 'deny' && approve !== 'queue')
      throw new UsageError(`--approve must be 'elicit', 'queue' or 'deny'`);
    if (approve !== 'queue' && (values['approvals-dir'] ?? values.redis) !== undefined)
      throw new UsageError('--approvals-dir and --redis need --approve queue');
    const detail = values['denial-detail'];
    if (detail !== undefined && detail !== 'code' && detail !== 'reason' && detail !== 'full')
      throw new UsageError(`--denial-detail must be 'code', 'reason' or 'full'`);
    try {
      checkServerName(values.name);
    } catch (error) {
      throw new UsageError(`--name: ${String((error as Error).message).replace(/^toolgate: /, '')}`);
    }
    if (values.listen === undefined) {
      const stray = LISTEN_ONLY.filter((flag) => values[flag] !== undefined);
      if (stray.length > 0) throw new UsageError(`--${stray.join(', --')} need --listen`);
    } else if (approve === 'elicit') {
      throw new UsageError('--approve elicit is for stdio; with --listen use --approve queue');
    } else if ((values.agent ?? values.principal ?? values.intent) !== undefined) {
      // Each caller's credential says who calls; a flag could only contradict it.
      throw new UsageError('--agent, --principal and --intent come from each credential with --listen');
    }
    if (/\.ya?ml$/i.test(values.policy)) await importOptional('yaml');
    policy = await loadPolicy(values.policy, { watch: values.watch === true });
    const loaded = policy;
    closers.push(async () => loaded.close?.());
    pins = typeof values.pins === 'string' ? filePins(values.pins) : memoryPins();
    if (approve === 'queue') {
      queue = await openQueue(values);
      closers.push(queue.close);
    }
    if (values.listen !== undefined) {
      listen = await openListen(values, values.name ?? 'mcp');
      const opened = listen;
      closers.push(() => opened.close());
    }
    // Last: it opens the log file, which nothing after it could leave open.
    audit = await proxyAudit(values);
  } catch (error) {
    for (const close of closers) await close().catch(() => undefined);
    if (error instanceof UsageError) {
      console.error(`toolgate mcp-proxy: ${error.message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    return reportFailure('toolgate mcp-proxy', error);
  }
  const [executable, ...args] = command as [string, ...string[]];
  const server = values.name ?? 'mcp';

  const context: ToolContext = {};
  if (typeof values.agent === 'string') context.agent = values.agent;
  if (typeof values.principal === 'string') context.principal = values.principal;
  if (typeof values.intent === 'string') context.intent = values.intent;

  let handle: McpProxyHandle | undefined;
  const approver: ApprovalProvider | undefined =
    queue !== undefined
      ? queueApprover({ store: queue.store, secret: queue.secret, onPending: announce(queue.answer) })
      : values.approve === 'elicit'
        ? elicitationApprover(() => handle)
        : undefined;
  const denialDetail = values['denial-detail'] as DenialDetail | undefined;
  const tg = createGuard({
    policy,
    audit,
    ...(approver === undefined ? {} : { approver }),
    ...(denialDetail === undefined ? {} : { denialDetail }),
    ...(listen === undefined ? {} : { identity: listen.identity }),
    // Secrets the server is given are the guard's to scrub from what reaches callers and the log.
    ...(listen?.secretProvider === undefined
      ? {}
      : { secrets: { provider: listen.secretProvider, bindings: {} } }),
  });
  if (listen !== undefined)
    return serve(tg, listen, { command: executable, args, server, pins, values, queue });

  const onSignal = (signal: NodeJS.Signals) => handle?.child.kill(signal);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let exit: number;
  let closed = false;
  try {
    exit = await runMcpProxy(tg, {
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
    // tg.close() closes the policy and the approver; the queue's store is the proxy's own.
    closed = await closeAll('toolgate mcp-proxy', [() => tg.close()]);
    await queue?.close().catch(() => undefined);
  }
  // Records the log could not take: the run did not end well, whatever the server did.
  return closed || exit !== EXIT.ok ? exit : EXIT.failed;
}

interface OpenedQueue {
  readonly store: ApprovalStore;
  readonly secret: string;
  /** How a person answers, with `<id>` for the request id. */
  readonly answer: string;
  close(): Promise<void>;
}

/** The approval queue the flags name: a directory on this machine, or Redis. */
async function openQueue(values: Values): Promise<OpenedQueue> {
  const secretEnv = values['secret-env'] ?? 'TOOLGATE_APPROVAL_SECRET';
  const secret = process.env[secretEnv];
  if (secret === undefined || secret === '')
    throw new UsageError(
      `--approve queue: set ${secretEnv} to the approval secret (the same for \`toolgate approvals\`)`,
    );
  try {
    approvalSecret(secret, secretEnv);
  } catch (error) {
    throw new UsageError(String((error as Error).message).replace(/^toolgate: /, ''));
  }
  const dirFromEnv = process.env.TOOLGATE_APPROVALS_DIR;
  const dir =
    values['approvals-dir'] ?? (values.redis === undefined && dirFromEnv !== '' ? dirFromEnv : undefined);
  if (dir !== undefined && values.redis !== undefined)
    throw new UsageError('give --approvals-dir or --redis, not both');
  if (dir !== undefined) {
    const store = approvalDirectory({ dir });
    return {
      store,
      secret,
      answer: `toolgate approvals approve <id> --dir ${store.dir}`,
      close: () => store.close(),
    };
  }
  if (values.redis === undefined)
    throw new UsageError(
      '--approve queue needs --approvals-dir <dir> (or TOOLGATE_APPROVALS_DIR) or --redis <url>',
    );
  const { store, close } = await openRedisStore(values.redis, { reconnect: true });
  return {
    store,
    close,
    secret,
    answer: `toolgate approvals approve <id> --redis ${redactUrl(values.redis)}`,
  };
}

/** Tells the person running the proxy (on stderr) that a call waits, and how to answer it. */
function announce(answer: string): (request: ApprovalRequest) => void {
  return (request) =>
    process.stderr.write(
      `toolgate mcp-proxy: ${request.tool} waits for approval ${request.id} (${request.reason}); answer with: ${answer.replace('<id>', request.id)} (or deny <id> --reason …)\n`,
    );
}

/** `--listen`: the Streamable HTTP endpoint, until SIGINT or SIGTERM. */
async function serve(
  tg: Guard<OnDeny>,
  listen: ListenSetup,
  setup: {
    command: string;
    args: string[];
    server: string;
    pins: PinStore;
    values: Values;
    queue: OpenedQueue | undefined;
  },
): Promise<number> {
  const { values } = setup;
  let exit: number;
  try {
    const proxy = await serveMcpProxyHttp(tg, {
      command: setup.command,
      args: setup.args,
      server: setup.server,
      pins: setup.pins,
      pinning: values['update-pins'] === true ? 'update' : values['strict-pins'] === true ? 'strict' : 'tofu',
      host: listen.host,
      port: listen.port,
      authenticate: listen.authenticate,
      serverEnv: (caller) =>
        listen.serverEnv(caller, (name, value) => {
          const recorder = guardRecorder(tg);
          if (recorder === undefined) throw new Error('the guard cannot scrub the server secrets');
          recorder.handedOut(name, value);
        }),
    });
    console.error(`toolgate mcp-proxy: listening on ${proxy.url} (Streamable HTTP, bearer credentials)`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await proxy.close();
    exit = EXIT.ok;
  } catch (error) {
    exit = reportFailure('toolgate mcp-proxy', error);
  }
  const closed = await closeAll('toolgate mcp-proxy', [() => tg.close()]);
  await setup.queue?.close().catch(() => undefined);
  await listen.close().catch(() => undefined);
  return closed || exit !== EXIT.ok ? exit : EXIT.failed;
}
