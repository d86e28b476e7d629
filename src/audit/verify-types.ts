import type { KeyObject } from 'node:crypto';
import type { AuditCheckpoint } from './chain.ts';

// What `verifyAuditLog` (src/audit/verify.ts) is given and reports: options, the stable problem
// codes, notices and the result.

/** Stable codes of `verifyAuditLog` problems. */
export type AuditVerifyCode =
  /**
   * A record's content does not match its hash (edited, or a flipped byte), or a line is not a
   * record: not one at all, or a file header, checkpoint or gap whose body is not what it needs.
   */
  | 'hash_mismatch'
  /** A record does not point at the hash of the record before it (a record was rewritten). */
  | 'prev_mismatch'
  /** Sequence numbers skip (a record was deleted, or records were reordered). */
  | 'seq_gap'
  /** A sequence number repeats (a record was duplicated or replayed). */
  | 'seq_duplicate'
  /** A checkpoint's (or the anchor's) signature is not valid. */
  | 'bad_signature'
  /** A checkpoint was signed with a key id that is not among `publicKeys`. */
  | 'unknown_key'
  /** The log ends before the externally anchored checkpoint. */
  | 'truncated_after_anchor'
  /**
   * The anchored checkpoint is not a record of the log: it starts after it (`allowPartial`, the
   * files that held it deleted), so nothing shows that the log extends the anchored history.
   */
  | 'anchor_not_found'
  /** The last line is incomplete (a write was cut off and never repaired). */
  | 'torn_write'
  /** Two records continue the same record (two writers on one chain), or the log diverges from the anchor. */
  | 'fork_detected'
  /**
   * A file of the log is missing or cannot be read (a path that does not exist, a directory, an I/O
   * error, a gap in file indexes, no genesis).
   */
  | 'missing_file';

/** Every verification code. */
export const AUDIT_VERIFY_CODES: readonly AuditVerifyCode[] = Object.freeze([
  'hash_mismatch',
  'prev_mismatch',
  'seq_gap',
  'seq_duplicate',
  'bad_signature',
  'unknown_key',
  'truncated_after_anchor',
  'anchor_not_found',
  'torn_write',
  'fork_detected',
  'missing_file',
] as const);

/** Something verification noticed that is not a problem (a repaired torn write, dropped events). */
export interface AuditVerifyNotice {
  readonly kind: 'torn_repaired' | 'events_dropped';
  readonly file: string;
  readonly line: number;
  readonly seq: number;
  /** Events dropped, for `events_dropped`. */
  readonly count?: number;
}

/** Options of `verifyAuditLog`. */
export interface VerifyAuditLogOptions {
  /** Public keys by key id (KeyObject or PEM). A checkpoint with another key id fails (`unknown_key`). */
  readonly publicKeys?: Readonly<Record<string, KeyObject | string>>;
  /** The latest checkpoint kept outside the log (or several; the highest `seq` is used). */
  readonly anchor?: AuditCheckpoint | readonly AuditCheckpoint[];
  /**
   * Accept a log that does not start at its genesis (older files deleted by retention). With an
   * `anchor`, the anchored checkpoint must still be among the files left: a log that starts after
   * it fails (`anchor_not_found`). @default false
   */
  readonly allowPartial?: boolean;
}

/** The outcome of `verifyAuditLog`. */
export type AuditVerifyResult =
  | {
      readonly ok: true;
      readonly files: number;
      readonly records: number;
      readonly events: number;
      readonly checkpoints: number;
      readonly lastSeq: number;
      readonly lastHash: string;
      readonly chain?: string;
      /** The last signed checkpoint in the log. */
      readonly lastCheckpoint?: AuditCheckpoint;
      /** The first 100 notices. */
      readonly notices: readonly AuditVerifyNotice[];
    }
  | {
      readonly ok: false;
      readonly code: AuditVerifyCode;
      readonly message: string;
      readonly file: string;
      /** 1-based line number in `file` (0 for problems with the file itself or the anchor). */
      readonly line: number;
      readonly seq?: number;
      readonly records: number;
      readonly notices: readonly AuditVerifyNotice[];
    };
