/**
 * `toolgate audit verify | tail | query`: checks and reads hash-chained JSONL audit logs.
 */
import { open, readFile } from 'node:fs/promises';
import { parseDuration } from '../_internal/duration.ts';
import { compileGlob } from '../_internal/glob.ts';
import { readAnchorFile } from '../audit/anchor.ts';
import { auditLogFiles } from '../audit/files.ts';
import { verifyAuditLog } from '../audit/verify.ts';
import type { AuditVerifyResult } from '../audit/verify-types.ts';

const USAGE = `usage:
  toolgate audit verify <file…> [--key <id>=<public.pem>]… [--anchor <anchor.jsonl>] [--partial] [--json]
  toolgate audit tail <file> [-n <count>] [--json]
  toolgate audit query <file> [--tool <glob>] [--agent <glob>] [--principal <glob>] [--decision allow|deny]
                              [--type <event type>] [--since <1h | ISO time>] [--limit <n>] [--json]

verify  checks the hash chain, signed checkpoints and the anchor; exits 0 when intact, 1 on the first
        problem (hash_mismatch, prev_mismatch, seq_gap, seq_duplicate, bad_signature, unknown_key,
        truncated_after_anchor, torn_write, fork_detected, missing_file)
tail    prints the last events, one line each
query   prints the events that match every filter

A single <file> includes its rotated files (<file>.0, <file>.1, …).`;

class UsageError extends Error {}

/** Runs the `audit` sub-command; resolves with the exit code. */
export async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  try {
    const { positional, flags } = parseArgs(rest);
    if (flags.has('help')) {
      console.log(USAGE);
      return 0;
    }
    switch (command) {
      case 'verify':
        return await verify(positional, flags);
      case 'tail':
        return await tail(positional, flags);
      case 'query':
        return await query(positional, flags);
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`toolgate audit: ${error.message}\n${USAGE}`);
      return 2;
    }
    console.error(`toolgate audit ${command}: ${(error as Error)?.message ?? String(error)}`);
    return 1;
  }
}

type Flags = Map<string, string[]>;

function parseArgs(argv: string[]): { positional: string[]; flags: Flags } {
  const positional: string[] = [];
  const flags: Flags = new Map();
  const BOOLEAN = new Set(['json', 'partial', 'help']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-n') {
      const value = argv[++i];
      if (value === undefined) throw new UsageError('-n needs a value');
      flags.set('n', [value]);
    } else if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      let value: string | undefined = eq < 0 ? undefined : arg.slice(eq + 1);
      if (value === undefined && !BOOLEAN.has(name)) {
        value = argv[++i];
        if (value === undefined) throw new UsageError(`--${name} needs a value`);
      }
      flags.set(name, [...(flags.get(name) ?? []), value ?? 'true']);
    } else positional.push(arg);
  }
  return { positional, flags };
}

function one(flags: Flags, name: string): string | undefined {
  const values = flags.get(name);
  return values === undefined ? undefined : values[values.length - 1];
}

async function verify(files: string[], flags: Flags): Promise<number> {
  if (files.length === 0) throw new UsageError('verify needs at least one file');
  const publicKeys: Record<string, string> = {};
  for (const spec of flags.get('key') ?? []) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new UsageError(`--key takes <id>=<public key file>, got ${JSON.stringify(spec)}`);
    publicKeys[spec.slice(0, eq)] = await readFile(spec.slice(eq + 1), 'utf8');
  }
  const anchorFile = one(flags, 'anchor');
  const anchor = anchorFile === undefined ? undefined : await readAnchorFile(anchorFile);
  const result = await verifyAuditLog(files.length === 1 ? files[0]! : files, {
    publicKeys,
    ...(anchor === undefined ? {} : { anchor }),
    allowPartial: flags.has('partial'),
  });
  if (flags.has('json')) console.log(JSON.stringify(result));
  else console.log(describe(result));
  return result.ok ? 0 : 1;
}

function describe(result: AuditVerifyResult): string {
  const notices = result.notices.map(
    (notice) =>
      `  note: ${notice.kind === 'torn_repaired' ? 'a torn write was repaired' : `${notice.count} event(s) were dropped`} (${notice.file}:${notice.line}, seq ${notice.seq})`,
  );
  if (result.ok) {
    return [
      `✓ ok: ${result.records} records (${result.events} events, ${result.checkpoints} signed checkpoints) in ${result.files} file(s); last seq ${result.lastSeq}`,
      ...notices,
    ].join('\n');
  }
  const where = result.line > 0 ? `${result.file}:${result.line}` : result.file;
  return [
    `✗ ${result.code}: ${result.message} (${where}${result.seq === undefined ? '' : `, seq ${result.seq}`})`,
    ...notices,
  ].join('\n');
}

/** Event records of a log, in order, streamed. */
async function* events(path: string): AsyncGenerator<Record<string, unknown>> {
  for (const file of auditLogFiles(path)) {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(file, 'r');
    } catch {
      continue;
    }
    try {
      for await (const line of handle.readLines()) {
        if (!line.startsWith('{"event":')) continue;
        try {
          yield (JSON.parse(line) as { event: Record<string, unknown> }).event;
        } catch {
          // A torn or damaged line: `verify` reports it.
        }
      }
    } finally {
      await handle.close();
    }
  }
}

async function tail(files: string[], flags: Flags): Promise<number> {
  if (files.length !== 1) throw new UsageError('tail takes one file');
  const count = Number(one(flags, 'n') ?? '20');
  if (!Number.isSafeInteger(count) || count <= 0) throw new UsageError('-n must be a positive integer');
  const ring: Record<string, unknown>[] = [];
  for await (const event of events(files[0]!)) {
    ring.push(event);
    if (ring.length > count) ring.shift();
  }
  for (const event of ring) console.log(flags.has('json') ? JSON.stringify(event) : formatEvent(event));
  return 0;
}

async function query(files: string[], flags: Flags): Promise<number> {
  if (files.length !== 1) throw new UsageError('query takes one file');
  const glob = (name: string) => {
    const pattern = one(flags, name);
    return pattern === undefined ? undefined : compileGlob(pattern);
  };
  const tool = glob('tool');
  const agent = glob('agent');
  const principal = glob('principal');
  const decision = one(flags, 'decision');
  if (decision !== undefined && decision !== 'allow' && decision !== 'deny')
    throw new UsageError('--decision must be allow or deny');
  const type = one(flags, 'type');
  const sinceText = one(flags, 'since');
  let since: number | undefined;
  if (sinceText !== undefined) {
    const instant = Date.parse(sinceText);
    if (Number.isFinite(instant) && /\d{4}-\d{2}-\d{2}/.test(sinceText)) since = instant;
    else {
      try {
        since = Date.now() - parseDuration(sinceText, '--since');
      } catch {
        throw new UsageError('--since takes a duration (30m, 2h, 7d) or an ISO time');
      }
    }
  }
  const limitText = one(flags, 'limit');
  const limit = limitText === undefined ? Infinity : Number(limitText);
  let shown = 0;
  for await (const event of events(files[0]!)) {
    if (shown >= limit) break;
    if (tool !== undefined && !tool.test(String(event.tool ?? ''))) continue;
    if (agent !== undefined && !agent.test(String(event.agent ?? ''))) continue;
    if (principal !== undefined && !principal.test(String(event.principal ?? ''))) continue;
    if (decision !== undefined && !(event.type === 'decision' && event.decision === decision)) continue;
    if (type !== undefined && event.type !== type) continue;
    if (since !== undefined && !(typeof event.ts === 'number' && event.ts >= since)) continue;
    console.log(flags.has('json') ? JSON.stringify(event) : formatEvent(event));
    shown += 1;
  }
  return 0;
}

/** One human-readable line per event. */
export function formatEvent(event: Record<string, unknown>): string {
  const ts = typeof event.ts === 'number' ? new Date(event.ts).toISOString() : '?';
  const parts = [ts, String(event.type ?? '?').padEnd(17)];
  switch (event.type) {
    case 'decision':
      parts.push(String(event.decision).toUpperCase().padEnd(5), String(event.tool));
      if (event.code !== undefined) parts.push(String(event.code));
      break;
    case 'result':
      parts.push(String(event.outcome).padEnd(5), String(event.tool));
      if (typeof event.durationMs === 'number') parts.push(`${event.durationMs.toFixed(1)}ms`);
      if (typeof event.outputBytes === 'number') parts.push(`${event.outputBytes}B`);
      break;
    case 'approval-response':
      parts.push(
        event.approved === true ? 'APPROVED' : event.approved === false ? 'DENIED' : String(event.code),
        String(event.tool),
      );
      if (event.approver !== undefined) parts.push(`by ${String(event.approver)}`);
      break;
    default:
      parts.push(String(event.tool ?? event.policyVersion ?? ''));
  }
  for (const key of ['agent', 'principal', 'intent'] as const) {
    if (event[key] !== undefined) parts.push(`${key}=${String(event[key])}`);
  }
  if (Array.isArray(event.rules) && event.rules.length > 0) parts.push(`rules=${event.rules.join(',')}`);
  if (typeof event.reason === 'string') parts.push(`reason=${JSON.stringify(event.reason)}`);
  parts.push(`call=${String(event.callId ?? '-')}`);
  return parts.join('  ');
}
