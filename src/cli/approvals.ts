import { parseArgs } from 'node:util';
import { type ApprovalAnswer, type ApprovalQueue, approvalQueue } from '../approval/queue.ts';
import type { RememberOptions } from '../approval/types.ts';
import type { StateStore } from '../store/types.ts';
import type { JsonObject } from '../types.ts';

/** Where the command reads its store and secret from, and writes to (injectable for tests and embedding). */
export interface ApprovalsCommandIo {
  /** The store to use; without it, `--redis <url>` (or `TOOLGATE_REDIS_URL`) opens a Redis store. */
  store?: StateStore;
  /** The HMAC key; default: the environment variable named by `--secret-env` (`TOOLGATE_APPROVAL_SECRET`). */
  secret?: string;
  stdout?: (line: string) => void;
  stderr?: (line: string) => void;
  env?: Record<string, string | undefined>;
  now?: () => number;
}

const USAGE = `usage:
  toolgate approvals list [--json]
  toolgate approvals approve <id> [--as <approver>] [--remember <duration>] [--args <json>]
  toolgate approvals deny <id> --reason <text> [--as <approver>]

options:
  --redis <url>        Redis holding the queue (default: $TOOLGATE_REDIS_URL)
  --prefix <prefix>    key prefix of the Redis store (default: toolgate:)
  --secret-env <name>  environment variable holding the approval secret (default: TOOLGATE_APPROVAL_SECRET)
  --as <approver>      who answers (default: cli:$USER)`;

/**
 * `toolgate approvals list | approve <id> | deny <id> --reason`: the CLI over `queueApprover`.
 * Returns the exit code: 0 done, 1 refused (unknown, already answered, not allowed), 2 usage.
 */
export async function run(argv: string[], io: ApprovalsCommandIo = {}): Promise<number> {
  const out = io.stdout ?? ((line: string) => console.log(line));
  const err = io.stderr ?? ((line: string) => console.error(line));
  const env = io.env ?? process.env;
  // The id is taken by position, before option parsing: request ids may start with '-'.
  const action = argv[0];
  const takesId = action === 'approve' || action === 'deny';
  const id = takesId ? argv[1] : undefined;
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv.slice(takesId ? 2 : 1));
  } catch (error) {
    err(`toolgate approvals: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help === true || action === '--help' || action === '-h') {
    out(USAGE);
    return 0;
  }
  if (positionals.length > 0) {
    err(`toolgate approvals: unexpected ${positionals.join(' ')}\n${USAGE}`);
    return 2;
  }
  if (
    action === undefined ||
    !['list', 'approve', 'deny'].includes(action) ||
    (action !== 'list' && id === undefined)
  ) {
    err(USAGE);
    return 2;
  }
  if (action === 'deny' && values.reason === undefined) {
    err('toolgate approvals: deny needs --reason');
    return 2;
  }
  const secret = io.secret ?? env[values['secret-env'] ?? 'TOOLGATE_APPROVAL_SECRET'];
  if (secret === undefined || secret.length === 0) {
    err(
      `toolgate approvals: set ${values['secret-env'] ?? 'TOOLGATE_APPROVAL_SECRET'} to the approval secret`,
    );
    return 2;
  }
  let store = io.store;
  let close: (() => Promise<void>) | undefined;
  if (store === undefined) {
    const url = values.redis ?? env.TOOLGATE_REDIS_URL;
    if (url === undefined) {
      err(
        'toolgate approvals: give --redis <url> (or TOOLGATE_REDIS_URL): the queue lives in a shared store',
      );
      return 2;
    }
    const opened = await openRedis(url, values.prefix);
    store = opened.store;
    close = opened.close;
  }
  try {
    const queue = approvalQueue({ store, secret, ...(io.now === undefined ? {} : { now: io.now }) });
    if (action === 'list') return await list(queue, values.json === true, out, io.now ?? Date.now);
    const approver = values.as ?? `cli:${env.USER ?? env.USERNAME ?? 'unknown'}`;
    let answer: ApprovalAnswer;
    if (action === 'approve') {
      const approved: Extract<ApprovalAnswer, { approved: true }> = { approved: true, approver };
      if (values.args !== undefined) approved.args = JSON.parse(values.args) as JsonObject;
      if (values.remember !== undefined) approved.remember = { for: values.remember } as RememberOptions;
      answer = approved;
    } else {
      answer = { approved: false, approver, reason: values.reason! };
    }
    await queue.resolve(id!, answer);
    out(`${action === 'approve' ? 'approved' : 'denied'} ${id} as ${approver}`);
    return 0;
  } catch (error) {
    err(`toolgate approvals: ${(error as Error).message.replace(/^toolgate: /, '')}`);
    return 1;
  } finally {
    await close?.();
  }
}

// The return type is inferred from the option table; spelling it out would only repeat it.
function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      as: { type: 'string' },
      reason: { type: 'string' },
      remember: { type: 'string' },
      args: { type: 'string' },
      redis: { type: 'string' },
      prefix: { type: 'string' },
      'secret-env': { type: 'string' },
    },
  });
}

async function list(
  queue: ApprovalQueue,
  json: boolean,
  out: (line: string) => void,
  now: () => number,
): Promise<number> {
  const pending = await queue.list();
  if (json) {
    out(
      JSON.stringify(
        pending.map(({ request }) => request),
        null,
        2,
      ),
    );
    return 0;
  }
  if (pending.length === 0) {
    out('no pending approvals');
    return 0;
  }
  for (const { id, request } of pending) {
    const who = [request.context.agent, request.context.principal]
      .filter((x) => x !== undefined)
      .join(' for ');
    const seconds = Math.max(0, Math.round((request.expiresAt - now()) / 1000));
    out(`${id}  ${request.tool}${who ? `  (${who})` : ''}  expires in ${seconds}s`);
    out(`  reason: ${request.reason}`);
    out(`  args:   ${truncate(JSON.stringify(request.args), 300)}`);
    if (request.requirements?.quorum !== undefined && request.requirements.quorum > 1)
      out(`  quorum: ${request.approvedBy?.length ?? 0}/${request.requirements.quorum}`);
  }
  return 0;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

async function openRedis(
  url: string,
  prefix: string | undefined,
): Promise<{ store: StateStore; close: () => Promise<void> }> {
  const { Redis } = await import('ioredis');
  const { redisStore } = await import('../backends/redis/index.ts');
  const client = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 });
  const store = redisStore(prefix === undefined ? { client } : { client, prefix });
  return {
    store,
    close: async () => {
      await store.close?.();
      client.disconnect();
    },
  };
}
