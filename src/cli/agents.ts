/**
 * `toolgate agents register | list | suspend | resume | revoke | revoke-credential`: the agent
 * registry in a shared store (Redis), with every change on the audit trail when `--audit` is given.
 */
import { parseArgs } from 'node:util';
import { jsonlAudit } from '../audit/jsonl.ts';
import type { AuditSink } from '../audit/types.ts';
import { ConfigurationError, CredentialError, GuardError } from '../errors.ts';
import { type AgentRecord, type AgentRegistry, agentRegistry } from '../identity/registry.ts';
import type { StateStore } from '../store/types.ts';
import { CliError, EXIT, outputError, reportFailure, UsageError } from './failures.ts';
import { openStore } from './open-store.ts';

const USAGE = `usage:
  toolgate agents register <agent> --owner <who> --tools <glob,…> --principals <glob,…> --max-ttl <1h>
                           [--description <text>]
  toolgate agents list [--json]
  toolgate agents suspend <agent> [--reason <text>] [--for <duration>]
  toolgate agents resume <agent>
  toolgate agents revoke <agent> [--reason <text>]          permanent
  toolgate agents revoke-credential <jti> [--reason <text>]  and every credential delegated from it

options:
  --store <url>      the shared store: redis://host:6379 (default: $TOOLGATE_STORE)
  --prefix <prefix>  key prefix in Redis (default: toolgate:)
  --audit <file>     also record the change in this JSONL audit log (its own file: a log that a
                     running guard writes to must have no second writer)

exit codes: 0 done, 1 refused (an unknown, suspended or revoked agent), 2 usage, 3 an --audit file
that cannot be used, 4 Redis unreachable, 5 ioredis not installed (docs/cli.md)`;

/** Where the command reads and writes (injectable for tests and embedding). */
export interface AgentsCommandIo {
  /** Use this store instead of opening `--store`. */
  store?: StateStore;
  stdout?: (line: string) => void;
  stderr?: (line: string) => void;
  env?: Record<string, string | undefined>;
  now?: () => number;
}

const OPTIONS = {
  store: { type: 'string' },
  prefix: { type: 'string' },
  audit: { type: 'string' },
  owner: { type: 'string' },
  description: { type: 'string' },
  tools: { type: 'string', multiple: true },
  principals: { type: 'string', multiple: true },
  'max-ttl': { type: 'string' },
  reason: { type: 'string' },
  for: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** The options as parsed. */
type Values = ReturnType<
  typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>
>['values'];

const ACTIONS = new Set(['register', 'list', 'suspend', 'resume', 'revoke', 'revoke-credential']);

/**
 * Runs the `agents` sub-command; resolves with the exit code: 0 done, 1 refused (an unknown,
 * suspended or revoked agent), 2 usage, 3 an unusable --audit file, 4 Redis unreachable or failing,
 * 5 ioredis not installed (docs/cli.md).
 */
export async function run(argv: string[], io: AgentsCommandIo = {}): Promise<number> {
  const out = io.stdout ?? ((line: string) => console.log(line));
  const err = io.stderr ?? ((line: string) => console.error(line));
  const env = io.env ?? process.env;
  const [action, ...rest] = argv;
  if (action === undefined || action === '--help' || action === '-h' || action === 'help') {
    out(USAGE);
    return action === undefined ? EXIT.usage : EXIT.ok;
  }
  let values: Values;
  let target: string | undefined;
  try {
    if (!ACTIONS.has(action)) throw new UsageError(`unknown command ${JSON.stringify(action)}`);
    // The name is taken by position, before option parsing: names may start with '-'.
    const named = action !== 'list';
    target = named ? rest[0] : undefined;
    if (named && target === undefined) throw new UsageError(`${action} needs a name`);
    const parsed = parseArgs({
      args: rest.slice(named ? 1 : 0),
      allowPositionals: true,
      strict: true,
      options: OPTIONS,
    });
    if (parsed.positionals.length > 0) throw new UsageError(`unexpected ${parsed.positionals.join(' ')}`);
    values = parsed.values;
  } catch (error) {
    err(`toolgate agents: ${(error as Error).message}\n${USAGE}`);
    return EXIT.usage;
  }
  let store = io.store;
  let close: (() => Promise<void>) | undefined;
  let audit: (AuditSink & { close?(): Promise<void> }) | undefined;
  try {
    if (store === undefined) {
      const url = values.store ?? env.TOOLGATE_STORE;
      if (url === undefined) {
        err(
          'toolgate agents: give --store redis://host:6379 (or TOOLGATE_STORE): the registry lives in a shared store',
        );
        return EXIT.usage;
      }
      const opened = await openStore(url, values.prefix);
      store = opened.store;
      close = () => opened.close();
    }
    if (values.audit !== undefined) audit = openAudit(values.audit);
    const registry = agentRegistry({
      store,
      ...(audit === undefined ? {} : { audit }),
      ...(io.now === undefined ? {} : { now: io.now }),
    });
    return await answer(() => perform(action, target, values, registry, out));
  } catch (error) {
    if (error instanceof UsageError) {
      err(`toolgate agents: ${error.message}\n${USAGE}`);
      return EXIT.usage;
    }
    return reportFailure(`toolgate agents ${action}`, error, err, env);
  } finally {
    await audit?.close?.();
    await close?.();
  }
}

/** Does what the command asks of the registry; resolves with the exit code. */
async function perform(
  action: string,
  target: string | undefined,
  values: Values,
  registry: AgentRegistry,
  out: (line: string) => void,
): Promise<number> {
  switch (action) {
    case 'register': {
      const owner = values.owner;
      if (
        owner === undefined ||
        values.tools === undefined ||
        values.principals === undefined ||
        values['max-ttl'] === undefined
      )
        throw new UsageError('register needs --owner, --tools, --principals and --max-ttl');
      const record = await registry.register(target!, {
        owner,
        tools: list(values.tools),
        principals: list(values.principals),
        maxTtl: values['max-ttl'],
        ...(values.description === undefined ? {} : { description: values.description }),
      });
      out(`registered ${describe(record)}`);
      return EXIT.ok;
    }
    case 'list': {
      const agents = await registry.list();
      if (values.json === true) out(JSON.stringify(agents, null, 2));
      else if (agents.length === 0) out('no agents registered');
      else for (const record of agents) out(describe(record));
      return EXIT.ok;
    }
    case 'suspend': {
      const record = await registry.suspend(target!, {
        ...(values.reason === undefined ? {} : { reason: values.reason }),
        ...(values.for === undefined ? {} : { for: values.for }),
      });
      out(`suspended ${describe(record)}`);
      return EXIT.ok;
    }
    case 'resume':
      out(`resumed ${describe(await registry.resume(target!))}`);
      return EXIT.ok;
    case 'revoke':
      out(
        `revoked ${describe(await registry.revoke(target!, values.reason === undefined ? {} : { reason: values.reason }))}`,
      );
      return EXIT.ok;
    default: {
      const known = await registry.revokeCredential(
        target!,
        values.reason === undefined ? {} : { reason: values.reason },
      );
      out(
        `revoked credential ${target}${known ? '' : ' (not issued through this registry: revoked for the longest credential life)'}`,
      );
      return EXIT.ok;
    }
  }
}

/** `--tools a,b --tools c` → ['a', 'b', 'c']. */
function list(values: string[]): string[] {
  return values
    .flatMap((value) => value.split(','))
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function describe(record: AgentRecord): string {
  const status =
    record.status === 'suspended' && record.suspendedUntil !== undefined
      ? `suspended until ${new Date(record.suspendedUntil).toISOString()}`
      : record.status;
  const parts = [
    record.agent,
    `[${status}]`,
    `owner=${record.owner}`,
    `tools=${record.tools.join(',')}`,
    `principals=${record.principals.join(',')}`,
    `maxTtl=${Math.round(record.maxTtl / 1000)}s`,
    `revision=${record.revision}`,
  ];
  if (record.reason !== undefined) parts.push(`reason=${JSON.stringify(record.reason)}`);
  return parts.join('  ');
}

/** Opens the `--audit` log; a path that cannot be one is named (exit 3). */
function openAudit(path: string): AuditSink & { close?(): Promise<void> } {
  try {
    return jsonlAudit({ path });
  } catch (error) {
    // The lock file beside the log is what fails to open in a missing directory: name the log.
    throw outputError(error, path);
  }
}

/**
 * Runs the registry's part of the command, giving its errors their exit codes: the registry's
 * refusals (an unknown, suspended or revoked agent) are the answer no; an argument it refuses (a
 * name, a glob, a duration) is a usage error; a store that fails is unreachable (exit 4). A
 * failed audit record falls through to a GuardError: the --audit file could not be used (exit 3).
 */
async function answer(operation: () => Promise<number>): Promise<number> {
  try {
    return await operation();
  } catch (error) {
    if (CredentialError.isInstance(error))
      throw new CliError(`${error.code}: ${error.reason}`, EXIT.failed, { cause: error });
    if (ConfigurationError.isInstance(error)) throw new UsageError(error.message.replace(/^toolgate: /, ''));
    if (GuardError.isInstance(error) && error.code === 'STORE_UNAVAILABLE') {
      const cause = (error.cause as Error | undefined)?.message;
      const text = error.message.replace(/^toolgate: /, '');
      throw new CliError(cause === undefined ? text : `${text}: ${cause}`, EXIT.unavailable, {
        cause: error,
      });
    }
    throw error;
  }
}
