/**
 * `toolgate console`: serves the web console (approvals inbox, audit explorer, control).
 */
import { createPublicKey } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration } from '../_internal/duration.ts';
import { compileGlob } from '../_internal/glob.ts';
import type { AuditSink } from '../audit/types.ts';
import { ConfigurationError } from '../errors.ts';
import type { StateStore } from '../store/types.ts';
import {
  CliError,
  closeAll,
  EXIT,
  inputError,
  outputError,
  readInput,
  reportFailure,
  UsageError,
} from './failures.ts';
import { openRedisStore } from './redis.ts';

const USAGE = `usage:
  toolgate console --store <redis://host:port | memory> --accounts <accounts.json> [--audit <file…>]

options:
  --store <url>         the StateStore the guards share: redis://… (or memory, for a demo)
  --prefix <prefix>     key prefix of the Redis store (default: toolgate:)
  --accounts <file>     JSON list of { name, role, passwordHash } or { name, role, token }
  --audit <file…>       jsonlAudit files to read and verify (globs in the file name; rotated files included)
  --audit-key <id>=<public.pem>   a public key that signs checkpoints (repeatable)
  --actions <file>      record console actions to this JSONL audit file (default: stdout)
  --port <n>            port (default: 0, a free one)
  --host <address>      interface (default: 127.0.0.1; use a TLS reverse proxy to reach it from elsewhere)
  --origin <url>        the public origin behind a reverse proxy (https://… turns on Secure cookies)
  --trust-proxy         read the client address from X-Forwarded-For (only behind your own proxy)
  --secret-env <name>   environment variable holding the approval queue secret (default: a key kept in the store)
  --session-ttl <dur>   how long a sign-in lasts (default: 8h)

exit codes: 0 stopped (SIGINT / SIGTERM), 1 the action log could not be completed, 2 usage (or an
address it cannot listen on), 3 an accounts, key or audit file that cannot be used, 4 Redis
unreachable, 5 ioredis not installed (docs/cli.md)`;

/** Largest --audit-key file read (a PEM public key is a few hundred bytes). */
const MAX_KEY_BYTES = 1024 * 1024;

/**
 * Runs `toolgate console`; resolves with the exit code once the server stops (SIGINT / SIGTERM),
 * or at once when it cannot start (the codes of docs/cli.md).
 */
export async function run(argv: string[]): Promise<number> {
  const closers: (() => Promise<void>)[] = [];
  let exit: number;
  try {
    const args = checkArgs(argv);
    if (args === 'help') {
      console.log(USAGE);
      return EXIT.ok;
    }
    const { values, positionals } = args;
    const store = await openStore(values.store, values.prefix, closers);
    const auditKeys: Record<string, string> = {};
    for (const spec of values['audit-key'] ?? []) {
      const eq = spec.indexOf('=');
      auditKeys[spec.slice(0, eq)] = await readPublicKey(spec.slice(eq + 1));
    }
    const audit = expand([...(values.audit ?? []), ...positionals]);
    let actionAudit: AuditSink | undefined;
    if (values.actions !== undefined) {
      const { jsonlAudit } = await import('../audit/jsonl.ts');
      try {
        actionAudit = jsonlAudit({ path: values.actions });
      } catch (error) {
        throw outputError(error, values.actions);
      }
      closers.push(async () => actionAudit?.close?.());
    }
    const secretName = values['secret-env'];
    const secret = secretName === undefined ? undefined : process.env[secretName];
    const port = values.port === undefined ? 0 : Number(values.port);
    const host = values.host ?? '127.0.0.1';
    const { serveConsole } = await import('../console/serve.ts');
    const server = await serveConsole({
      store,
      accounts: values.accounts,
      port,
      host,
      ...(audit.length > 0 ? { audit } : {}),
      ...(Object.keys(auditKeys).length > 0 ? { auditKeys } : {}),
      ...(actionAudit === undefined ? {} : { actionAudit }),
      ...(secret === undefined ? {} : { secret }),
      ...(values.origin === undefined ? {} : { origin: values.origin }),
      ...(values['trust-proxy'] === true ? { trustProxy: true } : {}),
      ...(values['session-ttl'] === undefined ? {} : { sessionTtl: values['session-ttl'] }),
    }).catch((error: unknown) => {
      throw serveError(error, host, port);
    });
    closers.unshift(() => server.close());
    console.log(`toolgate console listening on ${server.url}`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    exit = EXIT.ok;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`toolgate console: ${error.message}\n${USAGE}`);
      exit = EXIT.usage;
    } else exit = reportFailure('toolgate console', error);
  }
  // An action log that could not be completed fails the run (a run that failed keeps its code).
  const closed = await closeAll('toolgate console', closers);
  return closed || exit !== EXIT.ok ? exit : EXIT.failed;
}

/** The arguments, each checked before anything is opened: every mistake is a UsageError. */
function checkArgs(argv: string[]) {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help === true) return 'help';
  const { store, accounts, port, origin } = values;
  if (store === undefined || accounts === undefined)
    throw new UsageError('--store and --accounts are required');
  if (store !== 'memory' && !/^rediss?:\/\//.test(store))
    throw new UsageError('--store takes redis://host:port (or memory)');
  if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) <= 65_535))
    throw new UsageError(`--port takes a port number 0..65535, got ${JSON.stringify(port)}`);
  const ttl = values['session-ttl'];
  if (ttl !== undefined && !(durationMs(ttl) >= 60_000))
    throw new UsageError(
      `--session-ttl takes a duration of a minute or more (8h, 30m), got ${JSON.stringify(ttl)}`,
    );
  if (origin !== undefined && !URL.canParse(origin))
    throw new UsageError(
      `--origin takes a URL such as https://console.example.com, got ${JSON.stringify(origin)}`,
    );
  const secretName = values['secret-env'];
  if (secretName !== undefined && (process.env[secretName] ?? '') === '')
    throw new UsageError(`${secretName} is not set`);
  for (const spec of values['audit-key'] ?? [])
    if (spec.indexOf('=') <= 0)
      throw new UsageError(`--audit-key takes <id>=<public key file>, got ${JSON.stringify(spec)}`);
  return { values: { ...values, store, accounts }, positionals };
}

/** Milliseconds, or NaN for what is not a duration. */
function durationMs(text: string): number {
  try {
    return parseDuration(text, '--session-ttl');
  } catch {
    return Number.NaN;
  }
}

/** A checkpoint key file, up to its bound, that must hold a public key (exit 3 otherwise). */
async function readPublicKey(file: string): Promise<string> {
  const pem = await readInput(file, MAX_KEY_BYTES);
  try {
    createPublicKey(pem);
  } catch (error) {
    throw new CliError(`--audit-key: ${file} is not a public key (PEM)`, EXIT.input, { cause: error });
  }
  return pem;
}

/**
 * Why the console could not start: an address it cannot listen on (in use, not this machine's) is
 * a wrong argument; a configuration it refuses (the accounts file) is an input that cannot be used.
 */
function serveError(error: unknown, host: string, port: number): unknown {
  const { syscall, code } = (error ?? {}) as { syscall?: unknown; code?: unknown };
  if (syscall === 'listen' || syscall === 'getaddrinfo')
    return new CliError(`cannot listen on ${host} port ${port}: ${String(code)}`, EXIT.usage, {
      cause: error,
    });
  if (ConfigurationError.isInstance(error))
    // Said once: `toolgate console: …`, not `toolgate console: console: …`.
    return new CliError(error.message.replace(/^toolgate: (console: )?/, ''), EXIT.input, { cause: error });
  return error;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      store: { type: 'string' },
      prefix: { type: 'string' },
      accounts: { type: 'string' },
      audit: { type: 'string', multiple: true },
      'audit-key': { type: 'string', multiple: true },
      actions: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      origin: { type: 'string' },
      'trust-proxy': { type: 'boolean' },
      'secret-env': { type: 'string' },
      'session-ttl': { type: 'string' },
    },
  });
}

/** Expands `*` in file names (not in directories); other paths pass through. */
function expand(patterns: string[]): string[] {
  const files: string[] = [];
  for (const pattern of patterns) {
    const name = basename(pattern);
    if (!name.includes('*')) {
      files.push(pattern);
      continue;
    }
    const dir = dirname(pattern);
    const glob = compileGlob(name);
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch (error) {
      throw inputError(error, dir);
    }
    const matches = entries.filter((entry) => glob.test(entry)).sort();
    if (matches.length === 0) throw new CliError(`no audit file matches ${pattern}`, EXIT.input);
    files.push(...matches.map((entry) => join(dir, entry)));
  }
  return files;
}

/** The store `--store` names: memory (a demo) or Redis, connected before the console starts. */
async function openStore(
  url: string,
  prefix: string | undefined,
  closers: (() => Promise<void>)[],
): Promise<StateStore> {
  if (url === 'memory') {
    const { memoryStore } = await import('../store/memory.ts');
    return memoryStore();
  }
  // Long-running, like the proxy: after start-up a lost connection is retried, not fatal.
  const opened = await openRedisStore(url, { prefix, reconnect: true });
  closers.push(() => opened.close());
  return opened.store;
}
