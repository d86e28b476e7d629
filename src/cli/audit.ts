/**
 * `toolgate audit verify | tail | query`: checks and reads hash-chained JSONL audit logs.
 */
import { existsSync } from 'node:fs';
import { parseDuration } from '../_internal/duration.ts';
import { failedLine } from '../_internal/failed-text.ts';
import { compileGlob } from '../_internal/glob.ts';
import { FileTooLarge } from '../_internal/read-text.ts';
import { readAnchorFile } from '../audit/anchor.ts';
import { auditLogFiles } from '../audit/files.ts';
import { verifyAuditLog } from '../audit/verify.ts';
import type { AuditVerifyResult } from '../audit/verify-types.ts';
import type { FailedCondition } from '../types.ts';
import { notAnAuditLog, scanLog } from './audit-log.ts';
import { CliError, EXIT, inputError, readInput, reportFailure, UsageError } from './failures.ts';

const USAGE = `usage:
  toolgate audit verify <file…> [--key <id>=<public.pem>]… [--anchor <anchor.jsonl>] [--partial] [--json]
  toolgate audit tail <file> [-n <count>] [--json]
  toolgate audit query <file> [--tool <glob>] [--agent <glob>] [--principal <glob>] [--decision allow|deny]
                              [--type <event type>] [--since <1h | ISO time>] [--limit <n>] [--json]

verify  checks the hash chain, signed checkpoints and the anchor; exits 0 when intact, 1 on the first
        problem (hash_mismatch, prev_mismatch, seq_gap, seq_duplicate, bad_signature, unknown_key,
        truncated_after_anchor, anchor_not_found, torn_write, fork_detected, missing_file), 3 when a
        file is not a toolgate audit log; with --partial and --anchor, the anchored checkpoint must
        still be in the files left
tail    prints the last events, one line each
query   prints the events that match every filter
tail and query exit 3 when the file is missing, is not a toolgate audit log, or has a damaged or
torn line (after printing the events they could read).

A single <file> includes its rotated files (<file>.0, <file>.1, …).`;

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
    const known = FLAGS[command];
    // A misspelt filter must not widen a query to every event.
    for (const name of flags.keys())
      if (known !== undefined && !known.has(name))
        throw new UsageError(`${command} has no option ${name === 'n' ? '-n' : `--${name}`}`);
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
      return EXIT.usage;
    }
    return reportFailure(`toolgate audit ${command}`, error);
  }
}

type Flags = Map<string, string[]>;

/** Largest public key file read (a PEM key is a few hundred bytes). */
const MAX_KEY_BYTES = 1024 * 1024;

const FLAGS: Readonly<Record<string, ReadonlySet<string>>> = {
  verify: new Set(['key', 'anchor', 'partial', 'json', 'help']),
  tail: new Set(['n', 'json', 'help']),
  query: new Set(['tool', 'agent', 'principal', 'decision', 'type', 'since', 'limit', 'json', 'help']),
};

function parseArgs(argv: string[]): { positional: string[]; flags: Flags } {
  const positional: string[] = [];
  const flags: Flags = new Map();
  const BOOLEAN = new Set(['json', 'partial', 'help']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h') flags.set('help', ['true']);
    else if (arg === '-n') {
      const value = argv[++i];
      if (value === undefined) throw new UsageError('-n needs a value');
      flags.set('n', [value]);
    } else if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      let value: string | undefined = eq < 0 ? undefined : arg.slice(eq + 1);
      // `--partial=false` must not turn the option on: a switch takes no value.
      if (value !== undefined && BOOLEAN.has(name)) throw new UsageError(`--${name} takes no value`);
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
    const keyFile = spec.slice(eq + 1);
    publicKeys[spec.slice(0, eq)] = await readInput(keyFile, MAX_KEY_BYTES);
  }
  const anchorFile = one(flags, 'anchor');
  const anchor =
    anchorFile === undefined
      ? undefined
      : await readAnchorFile(anchorFile).catch((error: unknown) => {
          if (error instanceof FileTooLarge)
            throw new CliError(`cannot read ${anchorFile}: it is larger than ${error.limit}`, EXIT.input);
          throw inputError(error, anchorFile);
        });
  // A file that is not a toolgate log at all is said so, not reported as tampering on line 1;
  // but when another file of the log holds records, the first one was replaced: that is tampering.
  const all = files.length === 1 ? auditLogFiles(files[0]!) : files;
  const first = all[0]!;
  const foreign = await notAnAuditLog(first);
  if (foreign !== undefined && !(await anyRecords(all.slice(1)))) {
    if (flags.has('json'))
      console.log(
        JSON.stringify({ ok: false, code: 'not_an_audit_log', message: foreign, file: first, line: 1 }),
      );
    else console.log(`✗ not_an_audit_log: ${foreign}`);
    return EXIT.input;
  }
  const result = await verifyAuditLog(files.length === 1 ? files[0]! : files, {
    publicKeys,
    ...(anchor === undefined ? {} : { anchor }),
    allowPartial: flags.has('partial'),
  });
  if (flags.has('json')) console.log(JSON.stringify(result));
  else console.log(describe(result));
  return result.ok ? 0 : 1;
}

/** Whether any of `files` that exists starts like a toolgate log. */
async function anyRecords(files: readonly string[]): Promise<boolean> {
  for (const file of files) {
    if (!existsSync(file)) continue;
    if ((await notAnAuditLog(file)) === undefined) return true;
  }
  return false;
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

async function tail(files: string[], flags: Flags): Promise<number> {
  if (files.length !== 1) throw new UsageError('tail takes one file');
  const count = Number(one(flags, 'n') ?? '20');
  if (!Number.isSafeInteger(count) || count <= 0) throw new UsageError('-n must be a positive integer');
  const ring: Record<string, unknown>[] = [];
  const print = () => {
    for (const event of ring) console.log(flags.has('json') ? JSON.stringify(event) : formatEvent(event));
  };
  try {
    await scanLog(files[0]!, (event) => {
      ring.push(event);
      if (ring.length > count) ring.shift();
      return undefined;
    });
  } catch (error) {
    // What could be read is shown before the line that says what could not.
    if (error instanceof CliError) print();
    throw error;
  }
  print();
  if (ring.length === 0) console.error(`toolgate audit tail: ${files[0]} holds no events yet`);
  return EXIT.ok;
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
  if (!(limit === Infinity || (Number.isSafeInteger(limit) && limit > 0)))
    throw new UsageError('--limit must be a positive integer');
  let shown = 0;
  const scan = await scanLog(files[0]!, (event) => {
    if (shown >= limit) return true;
    if (!matches(event)) return undefined;
    console.log(flags.has('json') ? JSON.stringify(event) : formatEvent(event));
    shown += 1;
    return undefined;
  });
  if (shown === 0)
    console.error(
      `toolgate audit query: no event matches (${scan.events} event${scan.events === 1 ? '' : 's'} read)`,
    );
  return EXIT.ok;

  function matches(event: Record<string, unknown>): boolean {
    if (tool !== undefined && !tool.test(String(event.tool ?? ''))) return false;
    if (agent !== undefined && !agent.test(String(event.agent ?? ''))) return false;
    if (principal !== undefined && !principal.test(String(event.principal ?? ''))) return false;
    if (decision !== undefined && !(event.type === 'decision' && event.decision === decision)) return false;
    if (type !== undefined && event.type !== type) return false;
    if (since !== undefined && !(typeof event.ts === 'number' && event.ts >= since)) return false;
    return true;
  }
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
    case 'access':
      parts.push(String(event.action).toUpperCase());
      if (event.status !== undefined || event.code !== undefined)
        parts.push([event.status, event.code].filter((part) => part !== undefined).join(' '));
      if (typeof event.suppressed === 'number') parts.push(`suppressed=${event.suppressed}`);
      break;
    default:
      parts.push(String(event.tool ?? event.policyVersion ?? ''));
  }
  for (const key of ['agent', 'principal', 'intent'] as const) {
    if (event[key] !== undefined) parts.push(`${key}=${String(event[key])}`);
  }
  if (Array.isArray(event.rules) && event.rules.length > 0) parts.push(`rules=${event.rules.join(',')}`);
  else if (typeof event.rule === 'string') parts.push(`rule=${event.rule}`);
  if (typeof event.reason === 'string') parts.push(`reason=${JSON.stringify(event.reason)}`);
  // A denial's failed conditions, as recorded (redacted when they were written).
  const failed = Array.isArray(event.failed)
    ? (event.failed as unknown[]).filter(
        (entry): entry is FailedCondition =>
          typeof entry === 'object' && entry !== null && typeof (entry as FailedCondition).path === 'string',
      )
    : [];
  if (failed.length > 0) parts.push(`failed=${JSON.stringify(failedLine(failed))}`);
  parts.push(`call=${String(event.callId ?? '-')}`);
  return parts.join('  ');
}
