/**
 * `toolgate console`: serves the web console (approvals inbox, audit explorer, control).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { compileGlob } from '../_internal/glob.ts';
import type { AuditSink } from '../audit/types.ts';
import type { StateStore } from '../store/types.ts';
import { closeAll } from './failures.ts';

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
  --session-ttl <dur>   how long a sign-in lasts (default: 8h)`;

/** Runs `toolgate console`; resolves with the exit code once the server stops (SIGINT / SIGTERM). */
export async function run(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    console.error(`toolgate console: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    console.log(USAGE);
    return 0;
  }
  if (values.store === undefined || values.accounts === undefined) {
    console.error(`toolgate console: --store and --accounts are required\n${USAGE}`);
    return 2;
  }
  const closers: (() => Promise<void>)[] = [];
  let exit: number;
  try {
    const store = await openStore(values.store, values.prefix, closers);
    const audit = expand([...(values.audit ?? []), ...positionals]);
    const auditKeys: Record<string, string> = {};
    for (const spec of values['audit-key'] ?? []) {
      const eq = spec.indexOf('=');
      if (eq <= 0) throw new Error(`--audit-key takes <id>=<public key file>, got ${JSON.stringify(spec)}`);
      auditKeys[spec.slice(0, eq)] = readFileSync(spec.slice(eq + 1), 'utf8');
    }
    let actionAudit: AuditSink | undefined;
    if (values.actions !== undefined) {
      const { jsonlAudit } = await import('../audit/jsonl.ts');
      actionAudit = jsonlAudit({ path: values.actions });
      closers.push(async () => actionAudit?.close?.());
    }
    const secretName = values['secret-env'];
    const secret = secretName === undefined ? undefined : process.env[secretName];
    if (secretName !== undefined && (secret === undefined || secret === ''))
      throw new Error(`${secretName} is not set`);
    const port = values.port === undefined ? 0 : Number(values.port);
    const { serveConsole } = await import('../console/serve.ts');
    const server = await serveConsole({
      store,
      accounts: values.accounts,
      port,
      host: values.host ?? '127.0.0.1',
      ...(audit.length > 0 ? { audit } : {}),
      ...(Object.keys(auditKeys).length > 0 ? { auditKeys } : {}),
      ...(actionAudit === undefined ? {} : { actionAudit }),
      ...(secret === undefined ? {} : { secret }),
      ...(values.origin === undefined ? {} : { origin: values.origin }),
      ...(values['trust-proxy'] === true ? { trustProxy: true } : {}),
      ...(values['session-ttl'] === undefined ? {} : { sessionTtl: values['session-ttl'] }),
    });
    closers.unshift(() => server.close());
    console.log(`toolgate console listening on ${server.url}`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    exit = 0;
  } catch (error) {
    console.error(`toolgate console: ${(error as Error)?.message ?? String(error)}`);
    exit = 1;
  }
  // An action log that could not be completed fails the run.
  return (await closeAll('toolgate console', closers)) ? exit : 1;
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
    const matches = readdirSync(dir)
      .filter((entry) => glob.test(entry))
      .sort();
    if (matches.length === 0) throw new Error(`no audit file matches ${pattern}`);
    files.push(...matches.map((entry) => join(dir, entry)));
  }
  return files;
}

async function openStore(
  url: string,
  prefix: string | undefined,
  closers: (() => Promise<void>)[],
): Promise<StateStore> {
  if (url === 'memory') {
    const { memoryStore } = await import('../store/memory.ts');
    return memoryStore();
  }
  if (!/^rediss?:\/\//.test(url)) throw new Error('--store takes redis://host:port (or memory)');
  const { Redis } = await import('ioredis');
  const { redisStore } = await import('../backends/redis/index.ts');
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  const store = redisStore(prefix === undefined ? { client } : { client, prefix });
  closers.push(async () => {
    await store.close?.();
    client.disconnect();
  });
  return store;
}
