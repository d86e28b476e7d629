import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { vi } from 'vitest';
import { recordHash } from '../../src/audit/chain.ts';
import { run } from '../../src/cli/audit.ts';
import { type AuditCheckpoint, jsonlAudit, verifyAuditLog } from '../../src/index.ts';
import { captureConsole, decisionEvent, keyPair, tempDir } from './helpers.ts';

// A real log to tamper with: signed checkpoints, each sent to an anchor, rotated into many files.

export const keys: ReturnType<typeof keyPair> = keyPair();
export const publicKeys: Readonly<Record<string, string>> = { k1: keys.publicPem };

/** A log on disk, its files in chain order, the checkpoints its anchor received, and where they are. */
export interface RotatedLog {
  readonly dir: string;
  /** The active file. */
  readonly path: string;
  /** Every file, rotated ones first (oldest first), the active file last. */
  readonly files: readonly string[];
  readonly anchored: readonly AuditCheckpoint[];
  /** The public key and anchor files, for the CLI. */
  readonly keyFile: string;
  readonly anchorFile: string;
}

/** `events` decision events, a checkpoint every 10 records, a new file past `maxBytes`. */
export async function rotatedLog(events = 60, maxBytes = 2000): Promise<RotatedLog> {
  const dir = tempDir();
  const path = join(dir, 'audit.jsonl');
  const anchored: AuditCheckpoint[] = [];
  const sink = jsonlAudit({
    path,
    flushOnExit: false,
    rotate: { maxBytes },
    checkpoint: {
      privateKey: keys.privateKey,
      keyId: 'k1',
      every: 10,
      anchor: { write: (checkpoint: AuditCheckpoint) => void anchored.push(checkpoint) },
    },
  });
  for (let i = 1; i <= events; i++) {
    sink.write(decisionEvent(i));
    if (i % 5 === 0) await sink.flush();
  }
  await sink.close();
  const keyFile = join(dir, 'k1.pem');
  writeFileSync(keyFile, keys.publicPem);
  const anchorFile = join(dir, 'anchor.jsonl');
  writeFileSync(anchorFile, anchored.map((checkpoint) => `${JSON.stringify(checkpoint)}\n`).join(''));
  return { dir, path, files: logFiles(dir), anchored, keyFile, anchorFile };
}

/** The files of the log `audit.jsonl` in `dir`, in chain order. */
export function logFiles(dir: string): string[] {
  const rotated = readdirSync(dir)
    .filter((name) => /^audit\.jsonl\.\d+$/.test(name))
    .sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()));
  return [...rotated, 'audit.jsonl'].map((name) => join(dir, name));
}

export function readLines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').slice(0, -1);
}

export function writeLines(path: string, lines: readonly string[]): void {
  writeFileSync(path, lines.map((line) => `${line}\n`).join(''));
}

/** Where the record with sequence number `seq` is. */
export function findSeq(files: readonly string[], seq: number): { file: string; index: number } {
  for (const file of files) {
    const index = readLines(file).findIndex((line) => (JSON.parse(line) as { seq: number }).seq === seq);
    if (index >= 0) return { file, index };
  }
  throw new Error(`no record ${seq}`);
}

/**
 * A record line with `body` (everything before its chain fields, e.g. `{"gap":null,`) at `prev`
 * and `seq`, its hash recomputed: what anyone who can write the file can produce.
 */
export function forgedLine(body: string, prev: string, seq: number): string {
  const text = `${body}"prev":"${prev}","seq":${seq},"v":1}`;
  return `${text.slice(0, -1)},"hash":"${recordHash(text)}"}`;
}

/** `line` with its body replaced by `body`, its `prev` and `seq` kept, its hash recomputed. */
export function rebodied(line: string, body: string): string {
  const { prev, seq } = JSON.parse(line) as { prev: string; seq: number };
  return forgedLine(body, prev, seq);
}

/** The code `verifyAuditLog` answers, `ok`, or `threw …` (which it must never do for a file). */
export async function verifyCode(
  source: string | readonly string[],
  options: Parameters<typeof verifyAuditLog>[1] = { publicKeys },
): Promise<string> {
  try {
    const result = await verifyAuditLog(source, options);
    return result.ok ? 'ok' : result.code;
  } catch (error) {
    return `threw ${String(error)}`;
  }
}

/** Runs `toolgate audit verify <args> --json` in process: its exit code and the JSON it printed. */
export async function cliVerify(
  args: readonly string[],
): Promise<{ exit: number; out: Record<string, unknown> }> {
  const io = captureConsole();
  try {
    const exit = await run(['verify', ...args, '--json']);
    const printed = io.out.join('\n');
    return { exit, out: printed === '' ? {} : (JSON.parse(printed) as Record<string, unknown>) };
  } finally {
    vi.restoreAllMocks();
  }
}

export { decisionEvent, tempDir };
