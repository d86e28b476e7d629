import { parseArgs } from 'node:util';
import { parseDuration } from '../_internal/duration.ts';
import { approvalDirectory } from '../approval/directory.ts';
import {
  type ApprovalAnswer,
  type ApprovalQueue,
  type ApprovalStore,
  approvalQueue,
} from '../approval/queue.ts';
import { approvalSecret } from '../approval/token.ts';
import type { RememberOptions } from '../approval/types.ts';
import type { JsonObject } from '../types.ts';
import { CliError, EXIT, reportFailure, UsageError } from './failures.ts';
import { openRedisStore, redactUrl } from './redis.ts';

/** Where the command reads its store and secret from, and writes to (injectable for tests and embedding). */
export interface ApprovalsCommandIo {
  /**
   * The store to use; without it, `--dir <dir>` (or `TOOLGATE_APPROVALS_DIR`) opens an approval
   * directory and `--redis <url>` (or `TOOLGATE_REDIS_URL`) a Redis store.
   */
  store?: ApprovalStore;
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

where the queue lives (one of):
  --dir <dir>          an approval directory on this machine (default: $TOOLGATE_APPROVALS_DIR)
  --redis <url>        Redis holding the queue (default: $TOOLGATE_REDIS_URL)
  --prefix <prefix>    key prefix of the Redis store (default: toolgate:)

options:
  --secret-env <name>  environment variable holding the approval secret (default: TOOLGATE_APPROVAL_SECRET)
  --as <approver>      who answers (default: cli:$USER)

exit codes: 0 done, 1 refused (unknown, already answered, not allowed), 2 usage,
3 unreadable directory, 4 Redis unreachable, 5 ioredis not installed`;

/**
 * `toolgate approvals list | approve <id> | deny <id> --reason`: the CLI over `queueApprover`.
 * Returns the exit code: 0 done, 1 refused (unknown, already answered, not allowed), 2 usage,
 * 3 an unreadable directory, 4 Redis unreachable, 5 ioredis missing (docs/cli.md).
 */
export async function run(argv: string[], io: ApprovalsCommandIo = {}): Promise<number> {
  const out = io.stdout ?? ((line: string) => console.log(line));
  const err = io.stderr ?? ((line: string) => console.error(line));
  const env = io.env ?? process.env;
  let close: (() => Promise<void>) | undefined;
  try {
    const command = parseCommand(argv, env);
    if (command === 'help') {
      out(USAGE);
      return EXIT.ok;
    }
    const secret = io.secret ?? env[command.secretEnv];
    if (secret === undefined || secret.length === 0)
      throw new UsageError(`set ${command.secretEnv} to the approval secret`);
    try {
      approvalSecret(secret, command.secretEnv);
    } catch (error) {
      throw new UsageError(String((error as Error).message).replace(/^toolgate: /, ''));
    }
    let store = io.store;
    let where = 'the store';
    if (store === undefined) {
      const opened = await openStore(command.values, env);
      store = opened.store;
      close = opened.close;
      where = opened.where;
    }
    const queue = approvalQueue({ store, secret, ...(io.now === undefined ? {} : { now: io.now }) });
    if (command.action === 'list')
      return await storeCall(where, () => list(queue, command.values.json === true, out, io.now ?? Date.now));
    await storeCall(where, () => queue.resolve(command.id, command.answer));
    out(`${command.answer.approved ? 'approved' : 'denied'} ${command.id} as ${command.answer.approver}`);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof UsageError) {
      err(`toolgate approvals: ${error.message}\n${USAGE}`);
      return EXIT.usage;
    }
    return reportFailure('toolgate approvals', error, err, env);
  } finally {
    await close?.().catch(() => undefined);
  }
}

type Parsed = ReturnType<typeof parse>;

type Command =
  | 'help'
  | { action: 'list'; values: Parsed['values']; secretEnv: string }
  | {
      action: 'approve' | 'deny';
      id: string;
      answer: ApprovalAnswer;
      values: Parsed['values'];
      secretEnv: string;
    };

/** Reads the arguments; every mistake is a UsageError. */
function parseCommand(argv: string[], env: Record<string, string | undefined>): Command {
  // The id is taken by position, before option parsing: request ids may start with '-'.
  const action = argv[0];
  if (action === '--help' || action === '-h' || action === 'help') return 'help';
  const takesId = action === 'approve' || action === 'deny';
  const id = takesId ? argv[1] : undefined;
  let parsed: Parsed;
  try {
    parsed = parse(argv.slice(takesId ? 2 : 1));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help === true) return 'help';
  if (positionals.length > 0) throw new UsageError(`unexpected ${positionals.join(' ')}`);
  if (action === undefined) throw new UsageError('which action: list, approve or deny?');
  if (action !== 'list' && !takesId) throw new UsageError(`unknown action ${JSON.stringify(action)}`);
  if (takesId && (id === undefined || id === '')) throw new UsageError(`${action} needs a request id`);
  const secretEnv = values['secret-env'] ?? 'TOOLGATE_APPROVAL_SECRET';
  if (action === 'list') return { action, values, secretEnv };
  const approver = values.as ?? `cli:${env.USER ?? env.USERNAME ?? 'unknown'}`;
  let answer: ApprovalAnswer;
  if (action === 'approve') {
    const approved: Extract<ApprovalAnswer, { approved: true }> = { approved: true, approver };
    if (values.args !== undefined) approved.args = jsonObject(values.args);
    if (values.remember !== undefined) {
      try {
        parseDuration(values.remember, '--remember');
      } catch {
        throw new UsageError(
          `--remember takes a duration such as 1h or 30m, not ${JSON.stringify(values.remember)}`,
        );
      }
      approved.remember = { for: values.remember } as RememberOptions;
    }
    answer = approved;
  } else {
    if (values.reason === undefined) throw new UsageError('deny needs --reason');
    answer = { approved: false, approver, reason: values.reason };
  }
  return { action, id: id!, answer, values, secretEnv };
}

function jsonObject(text: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--args is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new UsageError('--args must be a JSON object');
  return value as JsonObject;
}

/** Opens the store the flags (or the environment) name. */
async function openStore(
  values: Parsed['values'],
  env: Record<string, string | undefined>,
): Promise<{ store: ApprovalStore; close: () => Promise<void>; where: string }> {
  // An empty variable counts as unset.
  const fromEnv = (name: string) => (env[name] === '' ? undefined : env[name]);
  const dir = values.dir ?? (values.redis === undefined ? fromEnv('TOOLGATE_APPROVALS_DIR') : undefined);
  const url = values.redis ?? (dir === undefined ? fromEnv('TOOLGATE_REDIS_URL') : undefined);
  if (dir !== undefined && values.redis !== undefined)
    throw new UsageError('give --dir or --redis, not both');
  if (dir !== undefined) {
    const store = approvalDirectory({ dir, create: false });
    return { store, close: () => store.close(), where: `the approval directory ${store.dir}` };
  }
  if (url === undefined)
    throw new UsageError(
      'where is the queue? give --dir <dir> (on this machine) or --redis <url> (or set TOOLGATE_APPROVALS_DIR / TOOLGATE_REDIS_URL)',
    );
  const opened = await openRedisStore(url, { prefix: values.prefix });
  return { ...opened, where: `Redis at ${redactUrl(url)}` };
}

/**
 * Runs one queue operation. The queue's own refusals (unknown request, already answered, an
 * approver not allowed) exit 1; a store that fails underneath is named (exit 4).
 */
async function storeCall<T>(where: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    const message = String((error as Error)?.message ?? error);
    if (message.startsWith('toolgate: ')) throw new CliError(message.slice('toolgate: '.length), EXIT.failed);
    if (typeof (error as { path?: unknown })?.path === 'string') throw error;
    throw new CliError(`${where} failed: ${message}`, EXIT.unavailable, { cause: error });
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
      dir: { type: 'string' },
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
