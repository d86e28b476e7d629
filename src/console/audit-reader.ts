import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { parseLine, recordBody } from '../audit/chain.ts';
import { auditLogFiles } from '../audit/files.ts';
import { forEachLine } from '../audit/lines.ts';
import { verifyAuditLog } from '../audit/verify.ts';
import type { AuditVerifyResult } from '../audit/verify-types.ts';
import { ConfigurationError } from '../errors.ts';

/** Public keys that signed audit checkpoints: by key id (KeyObject or PEM), or a JWK Set. */
export type AuditKeys =
  | Readonly<Record<string, KeyObject | string>>
  | { readonly keys: readonly (JsonWebKey & { kid?: string })[] };

/** One audit event as the console holds it. */
export interface ReadEvent {
  /** The event itself (`type`, `ts`, `callId`, …). */
  readonly event: Record<string, unknown>;
  /** Which configured log it came from (index into the paths). */
  readonly log: number;
  readonly seq: number;
  /** Whether the record's content matches its hash. */
  readonly hashOk: boolean;
}

/** The verification badge of one log. */
export interface LogStatus {
  readonly path: string;
  readonly files: number;
  /** `ok`: chain intact and every checkpoint signed by a known key; `unchecked`: no keys to check signatures; `failed`: tampered or broken. */
  readonly state: 'ok' | 'unchecked' | 'failed';
  readonly records: number;
  readonly checkpoints: number;
  /** Key ids that signed the checkpoints seen. */
  readonly keys: readonly string[];
  readonly code?: string;
  readonly message?: string;
  readonly file?: string;
  readonly line?: number;
  /** Where the chain breaks: records at or after it are not proven. */
  readonly seq?: number;
}

/** Converts the `auditKeys` option to the verifier's key map (ConfigurationError on a bad key). */
export function publicKeysOf(keys: AuditKeys | undefined): Record<string, KeyObject | string> {
  if (keys === undefined) return {};
  if (Array.isArray((keys as { keys?: unknown }).keys)) {
    const result: Record<string, KeyObject> = {};
    for (const [index, jwk] of (keys as { keys: (JsonWebKey & { kid?: string })[] }).keys.entries()) {
      if (typeof jwk.kid !== 'string' || jwk.kid === '')
        throw new ConfigurationError(`console: auditKeys.keys[${index}] has no kid`);
      try {
        result[jwk.kid] = createPublicKey({ key: jwk, format: 'jwk' });
      } catch (error) {
        throw new ConfigurationError(`console: auditKeys key ${jwk.kid} is not a public key`, {
          cause: error,
        });
      }
    }
    return result;
  }
  return { ...(keys as Record<string, KeyObject | string>) };
}

interface FileCache {
  size: number;
  mtimeMs: number;
  ino: number;
  /** Bytes consumed up to the last complete line. */
  offset: number;
  events: ReadEvent[];
  keyIds: Set<string>;
  /** The bytes just before `offset`: if they changed, the file was rewritten, not appended to. */
  probe: Buffer;
}

/**
 * Reads the configured `jsonlAudit` logs (each with its rotated files) into memory, re-reading only
 * what was appended since the last look, and verifies each log with `verifyAuditLog` when its
 * files changed. Files that cannot be read count as empty here; verification reports them.
 */
export class AuditReader {
  private readonly files = new Map<string, FileCache>();
  private readonly verified = new Map<string, { signature: string; status: LogStatus }>();

  constructor(
    readonly paths: readonly string[],
    private readonly publicKeys: Record<string, KeyObject | string>,
  ) {}

  /** Every event of every log, oldest first (by time, then log order). */
  async events(): Promise<ReadEvent[]> {
    const all: ReadEvent[] = [];
    for (const [log, path] of this.paths.entries()) {
      for (const file of auditLogFiles(path)) {
        const cache = await this.refresh(file, log);
        if (cache !== undefined) for (const event of cache.events) all.push(event);
      }
    }
    return all.sort((a, b) => Number(a.event.ts) - Number(b.event.ts) || a.log - b.log || a.seq - b.seq);
  }

  /** The badge of every log. */
  async status(): Promise<LogStatus[]> {
    const result: LogStatus[] = [];
    for (const path of this.paths) result.push(await this.verify(path));
    return result;
  }

  private async verify(path: string): Promise<LogStatus> {
    const files = auditLogFiles(path);
    const parts: string[] = [];
    const keyIds = new Set<string>();
    for (const file of files) {
      const cache = await this.refresh(file, this.paths.indexOf(path));
      parts.push(cache === undefined ? `${file}:-` : `${file}:${cache.size}:${cache.mtimeMs}:${cache.ino}`);
      for (const id of cache?.keyIds ?? []) keyIds.add(id);
    }
    const signature = parts.join('|');
    const cached = this.verified.get(path);
    if (cached?.signature === signature) return cached.status;
    const result = await verifyAuditLog(files, { publicKeys: this.publicKeys });
    const status = statusOf(
      path,
      files.length,
      result,
      [...keyIds].sort(),
      Object.keys(this.publicKeys).length,
    );
    this.verified.set(path, { signature, status });
    return status;
  }

  private async refresh(file: string, log: number): Promise<FileCache | undefined> {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(file);
    } catch {
      this.files.delete(file);
      return undefined;
    }
    let cache = this.files.get(file);
    if (
      cache !== undefined &&
      cache.ino === info.ino &&
      cache.size === info.size &&
      cache.mtimeMs === info.mtimeMs
    )
      return cache;
    const handle = await open(file, 'r');
    try {
      if (
        cache === undefined ||
        cache.ino !== info.ino ||
        info.size <= cache.size ||
        !(await sameBytes(handle, cache.offset - cache.probe.length, cache.probe))
      ) {
        cache = {
          size: 0,
          mtimeMs: 0,
          ino: info.ino,
          offset: 0,
          events: [],
          keyIds: new Set(),
          probe: Buffer.alloc(0),
        };
      }
      const tail = await handle.stat();
      const start = cache.offset;
      let consumed = start;
      const target = cache;
      await forEachLineFrom(handle, start, (line, terminated) => {
        if (!terminated) return;
        consumed += line.length + 1;
        readLine(line, log, target);
      });
      cache.offset = consumed;
      const probeLength = Math.min(64, consumed);
      cache.probe = Buffer.alloc(probeLength);
      await handle.read(cache.probe, 0, probeLength, consumed - probeLength);
      cache.size = tail.size;
      cache.mtimeMs = tail.mtimeMs;
      cache.ino = tail.ino;
    } finally {
      await handle.close();
    }
    this.files.set(file, cache);
    return cache;
  }
}

async function sameBytes(
  handle: Awaited<ReturnType<typeof open>>,
  at: number,
  expected: Buffer,
): Promise<boolean> {
  if (expected.length === 0) return true;
  const buffer = Buffer.alloc(expected.length);
  const { bytesRead } = await handle.read(buffer, 0, expected.length, at);
  return bytesRead === expected.length && buffer.equals(expected);
}

function readLine(line: Buffer, log: number, cache: FileCache): void {
  const parsed = parseLine(line);
  if (line.subarray(0, 9).toString('latin1') === '{"event":') {
    let body: Record<string, unknown>;
    try {
      body = recordBody(line);
    } catch {
      return;
    }
    const event = body.event as Record<string, unknown> | undefined;
    if (typeof event !== 'object' || event === null) return;
    cache.events.push({ event, log, seq: Number(body.seq), hashOk: parsed?.hashOk === true });
  } else if (parsed?.kind === 'checkpoint') {
    try {
      const keyId = (recordBody(line).checkpoint as { keyId?: unknown }).keyId;
      if (typeof keyId === 'string') cache.keyIds.add(keyId);
    } catch {
      // Verification reports a damaged checkpoint.
    }
  }
}

/** `forEachLine`, starting `start` bytes into the file. */
async function forEachLineFrom(
  handle: Awaited<ReturnType<typeof open>>,
  start: number,
  onLine: (line: Buffer, terminated: boolean) => void,
): Promise<void> {
  const positioned = {
    read: (buffer: Buffer, offset: number, length: number) => {
      const at = start;
      return handle.read(buffer, offset, length, at).then((result) => {
        start += result.bytesRead;
        return result;
      });
    },
  } as unknown as Awaited<ReturnType<typeof open>>;
  await forEachLine(positioned, (line, terminated) => {
    onLine(line, terminated);
    return undefined;
  });
}

function statusOf(
  path: string,
  files: number,
  result: AuditVerifyResult,
  keys: readonly string[],
  knownKeys: number,
): LogStatus {
  if (result.ok) {
    return { path, files, state: 'ok', records: result.records, checkpoints: result.checkpoints, keys };
  }
  // A checkpoint nobody gave us a key for is not a tampered log, only an unchecked one.
  const unchecked = result.code === 'unknown_key' && knownKeys === 0;
  const status: { -readonly [K in keyof LogStatus]: LogStatus[K] } = {
    path,
    files,
    state: unchecked ? 'unchecked' : 'failed',
    records: result.records,
    checkpoints: 0,
    keys,
    code: result.code,
    message: unchecked
      ? 'signed checkpoints found, but no public keys were given to check them (auditKeys / --audit-key)'
      : result.message,
    file: result.file,
    line: result.line,
  };
  if (result.seq !== undefined) status.seq = result.seq;
  return status;
}
