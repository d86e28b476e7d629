import type { KeyObject } from 'node:crypto';
import { parseDuration } from '../_internal/duration.ts';
import { ConfigurationError } from '../errors.ts';
import type { Awaitable, Duration } from '../types.ts';
import { type AuditCheckpoint, loadPrivateKey } from './chain.ts';
import type { AuditEvent, AuditSink } from './types.ts';

// The public shape of `jsonlAudit` (src/audit/jsonl.ts): its options and their checks (invalid
// options throw a ConfigurationError before any file is touched), its counters and the sink's
// interface.

/** Receives every signed checkpoint: store them where the log's writer cannot rewrite them. */
export interface CheckpointAnchor {
  readonly name?: string;
  write(checkpoint: AuditCheckpoint): Awaitable<void>;
}

/** Signed checkpoints of a JSONL audit log. */
export interface CheckpointOptions {
  /** Ed25519 private key (KeyObject or PEM). */
  readonly privateKey: KeyObject | string;
  /** Id of the key, recorded in every checkpoint so verifiers pick the right public key. */
  readonly keyId: string;
  /** Sign after this many records. @default 1000 */
  readonly every?: number;
  /** And at least this often while records arrive. @default '1m' */
  readonly interval?: Duration;
  /**
   * Also send each checkpoint here (an external anchor): a `CheckpointAnchor` such as
   * `fileAnchor()`, or any audit sink (another `jsonlAudit` on another disk records them as events).
   */
  readonly anchor?: CheckpointAnchor | AuditSink;
}

/** Options of `jsonlAudit`. */
export interface JsonlAuditOptions {
  /** The active log file; rotated files are `<path>.<index>`. */
  readonly path: string;
  /** Sink name in `error` events. @default 'jsonl' */
  readonly name?: string;
  /**
   * `'batch'`: every batch is `fdatasync`ed (one sync in flight, covering all records written
   * before it started: group commit). `'never'`: leave it to the OS; durable writes then resolve
   * once the OS has the bytes (safe against a process crash, not against power loss).
   * @default 'batch'
   */
  readonly fsync?: 'batch' | 'never';
  /** Write at once when this many bytes are buffered (otherwise at the end of the tick). @default 262_144 */
  readonly batchBytes?: number;
  /** Best-effort records are written at most this many milliseconds after they arrive. @default 10 */
  readonly flushInterval?: number;
  /** Records buffered at most; beyond it, best-effort writes are dropped and counted. @default 100_000 */
  readonly maxQueue?: number;
  /** Start a new file when the active one reaches this size. */
  readonly rotate?: { readonly maxBytes: number };
  /** Periodic Ed25519-signed checkpoints. */
  readonly checkpoint?: CheckpointOptions;
  /** Flush synchronously on exit and on SIGINT / SIGTERM / SIGHUP. @default true */
  readonly flushOnExit?: boolean;
}

/** The options of a JSONL sink, checked, with their defaults. */
export interface JsonlSettings {
  readonly path: string;
  readonly name: string;
  readonly fsyncMode: 'batch' | 'never';
  readonly batchBytes: number;
  readonly flushInterval: number;
  readonly maxQueue: number;
  readonly rotateBytes: number;
  readonly signing:
    | {
        readonly key: KeyObject;
        readonly keyId: string;
        readonly every: number;
        readonly intervalMs: number;
        readonly anchor: CheckpointAnchor | AuditSink | undefined;
      }
    | undefined;
  readonly flushOnExit: boolean;
}

/** Checks the options of `jsonlAudit` and fills in the defaults. */
export function jsonlSettings(options: JsonlAuditOptions): JsonlSettings {
  if (
    typeof options !== 'object' ||
    options === null ||
    typeof options.path !== 'string' ||
    options.path === ''
  )
    throw new ConfigurationError('jsonlAudit() needs a path');
  const path = options.path;
  const name = options.name ?? 'jsonl';
  const fsyncMode = options.fsync ?? 'batch';
  if (fsyncMode !== 'batch' && fsyncMode !== 'never')
    throw new ConfigurationError(`jsonlAudit fsync must be 'batch' or 'never'`);
  const batchBytes = positive(options.batchBytes ?? 262_144, 'batchBytes');
  const flushInterval = options.flushInterval ?? 10;
  if (typeof flushInterval !== 'number' || !Number.isFinite(flushInterval) || flushInterval < 0)
    throw new ConfigurationError('jsonlAudit flushInterval must be a number of milliseconds');
  const maxQueue = positive(options.maxQueue ?? 100_000, 'maxQueue');
  const rotateBytes =
    options.rotate === undefined ? Infinity : positive(options.rotate.maxBytes, 'rotate.maxBytes');
  const cp = options.checkpoint;
  const signing =
    cp === undefined
      ? undefined
      : {
          key: loadPrivateKey(cp.privateKey, 'checkpoint.privateKey'),
          keyId: nonEmpty(cp.keyId, 'checkpoint.keyId'),
          every: positive(cp.every ?? 1000, 'checkpoint.every'),
          intervalMs: parseDuration(cp.interval ?? '1m', 'checkpoint.interval'),
          anchor: cp.anchor,
        };
  if (signing?.anchor !== undefined && typeof signing.anchor.write !== 'function')
    throw new ConfigurationError('checkpoint.anchor must have a write() method');

  return {
    path,
    name,
    fsyncMode,
    batchBytes,
    flushInterval,
    maxQueue,
    rotateBytes,
    signing,
    flushOnExit: options.flushOnExit !== false,
  };
}

function positive(value: number, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0)
    throw new ConfigurationError(`jsonlAudit ${what} must be a positive integer`);
  return value;
}

function nonEmpty(value: string, what: string): string {
  if (typeof value !== 'string' || value.length === 0)
    throw new ConfigurationError(`jsonlAudit ${what} must be a non-empty string`);
  return value;
}

/** Counters of a JSONL sink. */
export interface JsonlAuditStats {
  /** Id of the chain. */
  readonly chain: string;
  /** Sequence number of the last record. */
  readonly seq: number;
  /** Hash of the last record. */
  readonly head: string;
  /** Records written to the OS. */
  readonly written: number;
  /**
   * Sequence number of the last record known to be on stable storage (an `fdatasync` that started
   * after it was written completed); with `fsync: 'never'`, of the last record written to the OS.
   */
  readonly synced: number;
  /** `fdatasync` calls completed (each one covers every record written before it started). */
  readonly syncs: number;
  /** Events dropped (queue full or unserializable); each streak leaves a `gap` record. */
  readonly dropped: number;
  /** Records waiting to be written. */
  readonly queued: number;
  /** The last checkpoint written, if any. */
  readonly lastCheckpoint?: AuditCheckpoint;
}

/** A hash-chained JSONL audit sink. */
export interface JsonlAuditSink extends AuditSink {
  readonly path: string;
  writeDurable(event: AuditEvent): Promise<void>;
  onError(handler: (error: unknown) => void): void;
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Writes a signed checkpoint now (needs `checkpoint` options). */
  checkpoint(): Promise<AuditCheckpoint | undefined>;
  stats(): JsonlAuditStats;
}
