/**
 * `toolgate agents register | list | suspend | resume | revoke | revoke-credential`: the agent
 * registry in a shared store (Redis), with every change on the audit trail when `--audit` is given.
 */
import { parseArgs } from 'node:util';
import { jsonlAudit } from '../audit/jsonl.ts';
import type { AuditSink } from '../audit/types.ts';
import { CredentialError, GuardError } from '../errors.ts';
import { type AgentRecord, agentRegistry } from '../identity/registry.ts';
import type { StateStore } from '../store/types.ts';
import { openStore, type RedisLoader, StoreOpenError } from './open-store.ts';

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
                     running guard writes to must have no second writer)`;

class UsageError extends Error {}

/** Where the command reads and writes (injectable for tests and embedding). */
export interface AgentsCommandIo {
  /** Use this store instead of opening `--store`. */
  store?: StateStore;
  /** Loads ioredis (for tests of the "not installed" answer). */
  loadRedis?: RedisLoader;
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

const ACTIONS = new Set(['register', 'list', 'suspend', 'resume', 'revoke', 'revoke-credential']);

/** Runs the `agents` sub-command; resolves with the exit code (0 done, 1 refused or failed, 2 usage). */
export async function run(argv: string[], io: AgentsCommandIo = {}): Promise<number> {
  const out = io.stdout ?? ((line: string) => console.log(line));
  const err = io.stderr ?? ((line: string) => console.error(line));
  const env = io.env ?? process.env;
  const [action, ...rest] = argv;
  if (action === undefined || action === '--help' || action === '-h' || action === 'help') {
    out(USAGE);
    return action === undefined ? 2 : 0;
  }
  let values: ReturnType<
    typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>
  >['values'];
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
    return 2;
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
        return 2;
      }
      const opened = await openStore(url, values.prefix, io.loadRedis);
      store = opened.store;
      close = () => opened.close();
    }
    if (values.audit !== undefined) audit = jsonlAudit({ path: values.audit });
    const registry = agentRegistry({
      store,
      ...(audit === undefined ? {} : { audit }),
      ...(io.now === undefined ? {} : { now: io.now }),
    });
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
        return 0;
      }
      case 'list': {
        const agents = await registry.list();
        if (values.json === true) out(JSON.stringify(agents, null, 2));
        else if (agents.length === 0) out('no agents registered');
        else for (const record of agents) out(describe(record));
        return 0;
      }
      case 'suspend': {
        const record = await registry.suspend(target!, {
          ...(values.reason === undefined ? {} : { reason: values.reason }),
          ...(values.for === undefined ? {} : { for: values.for }),
        });
        out(`suspended ${describe(record)}`);
        return 0;
      }
      case 'resume':
        out(`resumed ${describe(await registry.resume(target!))}`);
        return 0;
      case 'revoke':
        out(
          `revoked ${describe(await registry.revoke(target!, values.reason === undefined ? {} : { reason: values.reason }))}`,
        );
        return 0;
      default: {
        const known = await registry.revokeCredential(
          target!,
          values.reason === undefined ? {} : { reason: values.reason },
        );
        out(
          `revoked credential ${target}${known ? '' : ' (not issued through this registry: revoked for the longest credential life)'}`,
        );
        return 0;
      }
    }
  } catch (error) {
    if (error instanceof UsageError) {
      err(`toolgate agents: ${error.message}\n${USAGE}`);
      return 2;
    }
    err(`toolgate agents${error instanceof StoreOpenError ? '' : ` ${action}`}: ${message(error)}`);
    return 1;
  } finally {
    await audit?.close?.();
    await close?.();
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

function message(error: unknown): string {
  const text = CredentialError.isInstance(error)
    ? `${error.code}: ${error.reason}`
    : GuardError.isInstance(error)
      ? error.message
      : String((error as Error)?.message ?? error);
  return text.replace(/^toolgate: /, '');
}
