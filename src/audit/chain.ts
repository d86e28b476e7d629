import { createPrivateKey, createPublicKey, hash, type KeyObject, sign, verify } from 'node:crypto';
import { canonicalJson } from '../_internal/canonical.ts';
import { ConfigurationError } from '../errors.ts';

/**
 * The JSONL audit chain, format v1. Each line is the canonical JSON (RFC 8785) of a record
 * `{ <kind>: {...}, prev, seq, v: 1 }` with `,"hash":"<hex>"` appended before the closing brace.
 * `hash` = SHA-256 of `RECORD_DOMAIN` followed by the canonical JSON of the record without `hash`.
 * Kinds (all sort before `prev`, so the chain fields are always at the end of a line):
 * `file` (first record of every file), `event`, `checkpoint` (Ed25519-signed), `gap` (a torn
 * write repaired on restart, or events dropped in best-effort mode).
 */
export const CHAIN_FORMAT_VERSION = 1;
/** `prev` of the very first record of a chain. */
export const GENESIS_PREV: string = '0'.repeat(64);
const RECORD_DOMAIN = 'toolgate.audit.record.v1\n';
const CHECKPOINT_DOMAIN = 'toolgate.audit.checkpoint.v1\n';
const TAIL_BYTES = 75; // ,"hash":"<64 hex>"}
const CHAIN_TAIL = /,"prev":"([0-9a-f]{64})","seq":(0|[1-9][0-9]{0,15}),"v":1\}$/;
const HASH_TAIL = /,"hash":"([0-9a-f]{64})"\}$/;

/** Kinds of chain records. */
export type ChainRecordKind = 'file' | 'event' | 'checkpoint' | 'gap' | 'other';

/**
 * A signed checkpoint: the chain's head at `seq`, signed with Ed25519. Store the latest one
 * somewhere the log's writer cannot rewrite (the external anchor) and pass it to `verifyAuditLog`.
 */
export interface AuditCheckpoint {
  /** Id of the chain (from its first record). */
  readonly chain: string;
  /** Sequence number of the checkpoint record itself. */
  readonly seq: number;
  /** Hash of the record before it: the head the signature covers. */
  readonly prev: string;
  /** Hash of the checkpoint record. */
  readonly hash: string;
  /** Id of the signing key. */
  readonly keyId: string;
  /** Epoch ms when it was signed. */
  readonly ts: number;
  /** Base64 Ed25519 signature. */
  readonly sig: string;
}

/** A parsed line: only the chain fields, extracted without parsing the body. */
export interface ParsedLine {
  readonly seq: number;
  readonly prev: string;
  readonly hash: string;
  readonly kind: ChainRecordKind;
  /** Whether the recomputed hash matches `hash`. */
  readonly hashOk: boolean;
}

/** The domain that prefixes every record's hash input (see `recordHash`). */
export const RECORD_DOMAIN_BYTES: Buffer = Buffer.from(RECORD_DOMAIN, 'utf8');
const CLOSING_BRACE = Buffer.from('}', 'utf8');

/**
 * Lowercase hex record hash of a record body (canonical JSON without `hash`); `closing` is appended
 * (the verifier passes the body without its final brace, straight from the line's bytes).
 */
export function recordHash(body: string | Uint8Array, closing = ''): string {
  // One-shot `crypto.hash` is several times cheaper than a createHash object per record.
  if (typeof body === 'string') return hash('sha256', RECORD_DOMAIN + body + closing);
  const parts: Uint8Array[] = [RECORD_DOMAIN_BYTES, body];
  if (closing === '}') parts.push(CLOSING_BRACE);
  else if (closing !== '') parts.push(Buffer.from(closing, 'utf8'));
  return hash('sha256', Buffer.concat(parts));
}

/** Builds one line (with its newline) and its hash. Throws when the payload is not JSON data. */
export function buildLine(
  kind: 'file' | 'event' | 'checkpoint' | 'gap',
  payload: unknown,
  seq: number,
  prev: string,
): { line: string; hash: string } {
  const body = canonicalJson({ [kind]: payload, prev, seq, v: CHAIN_FORMAT_VERSION });
  const hash = recordHash(body);
  return { line: `${body.slice(0, -1)},"hash":"${hash}"}\n`, hash };
}

/**
 * Parses and checks one line (without its newline). `undefined`: not shaped like a record.
 * Reads the fixed-format tail (`,"prev":"<hex>","seq":<n>,"v":1,"hash":"<hex>"}`) byte by byte
 * and hashes the body in a reused buffer. `expectedPrev` (the hash of the record before, when
 * the caller knows it) only saves re-checking that an equal `prev` is hex. `parseLineReference` is the same check written with regular expressions; a
 * differential test holds the two together.
 */
export function parseLine(line: Uint8Array, expectedPrev?: string): ParsedLine | undefined {
  const length = line.length;
  if (length < 150 || line[0] !== 0x7b || line[length - 1] !== 0x7d) return undefined;
  // ,"hash":"<64 hex>"}
  const hashStart = length - TAIL_BYTES;
  if (!bytesAt(line, hashStart, HASH_OPEN) || line[length - 2] !== 0x22) return undefined;
  // ...,"v":1 right before it (the body's closing brace is where the hash tail begins).
  const vStart = hashStart - V_TAIL.length;
  if (!bytesAt(line, vStart, V_TAIL)) return undefined;
  // ,"seq":<0 or 1-16 digits without a leading zero>
  let digitsStart = vStart;
  while (digitsStart > 0 && isDigit(line[digitsStart - 1]!)) digitsStart -= 1;
  const digits = vStart - digitsStart;
  if (digits === 0 || digits > 16 || (digits > 1 && line[digitsStart] === 0x30)) return undefined;
  const seqStart = digitsStart - SEQ_OPEN.length;
  if (seqStart < 0 || !bytesAt(line, seqStart, SEQ_OPEN)) return undefined;
  // ,"prev":"<64 hex>"
  const prevStart = seqStart - PREV_OPEN.length - 65;
  if (prevStart < 0 || !bytesAt(line, prevStart, PREV_OPEN) || line[seqStart - 1] !== 0x22) return undefined;
  const buffer = Buffer.isBuffer(line) ? line : Buffer.from(line.buffer, line.byteOffset, length);
  const prev = buffer.toString('latin1', prevStart + PREV_OPEN.length, seqStart - 1);
  // The previous record's hash (a verifier's hint) is known to be hex; anything else is checked.
  if (prev !== expectedPrev && !HEX64.test(prev)) return undefined;
  const hash = buffer.toString('latin1', hashStart + HASH_OPEN.length, length - 2);
  const hashOk = bodyHash(buffer, hashStart) === hash;
  // A match proves `hash` is lowercase hex; only a mismatch needs the check.
  if (!hashOk && !HEX64.test(hash)) return undefined;
  let seq = 0;
  for (let i = digitsStart; i < vStart; i++) seq = seq * 10 + (line[i]! - 0x30);
  return { seq, prev, hash, kind: kindOf(buffer), hashOk };
}

const HEX64 = /^[0-9a-f]{64}$/;

const HASH_OPEN = Buffer.from(',"hash":"', 'latin1');
const V_TAIL = Buffer.from(',"v":1', 'latin1');
const SEQ_OPEN = Buffer.from(',"seq":', 'latin1');
const PREV_OPEN = Buffer.from(',"prev":"', 'latin1');

function bytesAt(line: Uint8Array, at: number, expected: Buffer): boolean {
  if (at < 0 || at + expected.length > line.length) return false;
  for (let i = 0; i < expected.length; i++) if (line[at + i] !== expected[i]) return false;
  return true;
}

function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}

/** Reused for hashing: the domain, then the body (the line up to its hash tail), then `}`. */
let scratch = Buffer.alloc(64 * 1024);
RECORD_DOMAIN_BYTES.copy(scratch, 0);

/** The record hash of a line whose body (without its closing brace) ends at `bodyEnd`. */
function bodyHash(line: Buffer, bodyEnd: number): string {
  const size = RECORD_DOMAIN_BYTES.length + bodyEnd + 1;
  if (size > scratch.length) {
    scratch = Buffer.alloc(Math.max(size, scratch.length * 2));
    RECORD_DOMAIN_BYTES.copy(scratch, 0);
  }
  scratch.set(new Uint8Array(line.buffer, line.byteOffset, bodyEnd), RECORD_DOMAIN_BYTES.length);
  scratch[size - 1] = 0x7d;
  return hash('sha256', scratch.subarray(0, size));
}

/** `parseLine` with regular expressions over the tail: the reference the fast parser is tested against. */
export function parseLineReference(line: Uint8Array): ParsedLine | undefined {
  const length = line.length;
  if (length < 150 || line[0] !== 0x7b || line[length - 1] !== 0x7d) return undefined;
  const buffer = Buffer.isBuffer(line) ? line : Buffer.from(line.buffer, line.byteOffset, length);
  const tail = buffer.toString('latin1', Math.max(0, length - 220), length);
  const hashMatch = HASH_TAIL.exec(tail);
  if (hashMatch === null) return undefined;
  const bodyTail = tail.slice(0, -TAIL_BYTES);
  const chainMatch = CHAIN_TAIL.exec(`${bodyTail}}`);
  if (chainMatch === null) return undefined;
  const hash = hashMatch[1]!;
  const computed = recordHash(buffer.subarray(0, length - TAIL_BYTES), '}');
  return {
    seq: Number(chainMatch[2]),
    prev: chainMatch[1]!,
    hash,
    kind: kindOf(buffer),
    hashOk: computed === hash,
  };
}

const KINDS: readonly [Buffer, ChainRecordKind][] = [
  [Buffer.from('{"event":', 'latin1'), 'event'],
  [Buffer.from('{"checkpoint":', 'latin1'), 'checkpoint'],
  [Buffer.from('{"file":', 'latin1'), 'file'],
  [Buffer.from('{"gap":', 'latin1'), 'gap'],
];

function kindOf(line: Buffer): ChainRecordKind {
  // The first key of the canonical record names its kind.
  for (const [prefix, kind] of KINDS) if (bytesAt(line, 0, prefix)) return kind;
  return 'other';
}

/** Parses the body of a record line (JSON); throws a SyntaxError when it is not JSON. */
export function recordBody(line: Uint8Array): Record<string, unknown> {
  return JSON.parse(Buffer.from(line.buffer, line.byteOffset, line.length).toString('utf8')) as Record<
    string,
    unknown
  >;
}

/** The payload of a `file` record (the first record of every file). */
export interface FileHeader {
  readonly chain: string;
  readonly index: number;
  /** The piece of a first write a crash cut short, which the file replaced (src/audit/resume.ts). */
  readonly torn?: { readonly bytes: number; readonly sha256: string };
}

/** The payload of a `checkpoint` record; its `seq`, `prev` and `hash` are the record's own. */
export interface CheckpointPayload {
  readonly chain: string;
  readonly keyId: string;
  readonly sig: string;
  readonly ts: number;
}

/** The payload of a `gap` record: a repaired torn write, or events dropped. */
export type GapPayload =
  | { readonly reason: 'torn'; readonly bytes: number; readonly sha256: string }
  | { readonly reason: 'dropped'; readonly count: number };

/**
 * The payload of a `file` record line, or `undefined` when its body is not JSON or not the shape
 * a file header needs (`chain`, a string; `index`, a whole number). Never throws, like the two
 * below: a line's hash can be recomputed by anyone, so its body proves nothing about its shape.
 */
export function fileHeaderOf(line: Uint8Array): FileHeader | undefined {
  const file = payloadOf(line, 'file');
  if (!isObject(file) || typeof file.chain !== 'string' || !isCount(file.index)) return undefined;
  if (file.torn === undefined) return { chain: file.chain, index: file.index };
  const torn = file.torn;
  if (!isObject(torn) || !isCount(torn.bytes) || typeof torn.sha256 !== 'string' || !HEX64.test(torn.sha256))
    return undefined;
  return { chain: file.chain, index: file.index, torn: { bytes: torn.bytes, sha256: torn.sha256 } };
}

/** The payload of a `checkpoint` record line, or `undefined` when it is not JSON or not that shape. */
export function checkpointPayloadOf(line: Uint8Array): CheckpointPayload | undefined {
  const body = payloadOf(line, 'checkpoint');
  if (
    !isObject(body) ||
    typeof body.chain !== 'string' ||
    typeof body.keyId !== 'string' ||
    typeof body.sig !== 'string' ||
    typeof body.ts !== 'number' ||
    !Number.isFinite(body.ts)
  )
    return undefined;
  return { chain: body.chain, keyId: body.keyId, sig: body.sig, ts: body.ts };
}

/** The payload of a `gap` record line, or `undefined` when it is not JSON or not one of its shapes. */
export function gapPayloadOf(line: Uint8Array): GapPayload | undefined {
  const gap = payloadOf(line, 'gap');
  if (!isObject(gap)) return undefined;
  if (gap.reason === 'torn' && isCount(gap.bytes) && typeof gap.sha256 === 'string' && HEX64.test(gap.sha256))
    return { reason: 'torn', bytes: gap.bytes, sha256: gap.sha256 };
  if (gap.reason === 'dropped' && isCount(gap.count) && gap.count > 0)
    return { reason: 'dropped', count: gap.count };
  return undefined;
}

function payloadOf(line: Uint8Array, kind: 'file' | 'checkpoint' | 'gap'): unknown {
  try {
    return recordBody(line)[kind];
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function checkpointMessage(fields: {
  chain: string;
  keyId: string;
  prev: string;
  seq: number;
  ts: number;
}): Buffer {
  return Buffer.from(
    CHECKPOINT_DOMAIN +
      canonicalJson({
        chain: fields.chain,
        keyId: fields.keyId,
        prev: fields.prev,
        seq: fields.seq,
        ts: fields.ts,
      }),
    'utf8',
  );
}

/** Loads an Ed25519 private key (KeyObject or PEM); throws a ConfigurationError otherwise. */
export function loadPrivateKey(key: KeyObject | string, what: string): KeyObject {
  let object: KeyObject;
  try {
    object = typeof key === 'string' ? createPrivateKey(key) : key;
  } catch (error) {
    throw new ConfigurationError(`${what} is not a private key`, { cause: error });
  }
  if (object.type !== 'private' || object.asymmetricKeyType !== 'ed25519')
    throw new ConfigurationError(`${what} must be an Ed25519 private key`);
  return object;
}

/** Loads an Ed25519 public key (KeyObject or PEM), or `undefined` when it is not one. */
export function loadPublicKey(key: KeyObject | string): KeyObject | undefined {
  try {
    const object = typeof key === 'string' ? createPublicKey(key) : key;
    if (object.asymmetricKeyType !== 'ed25519') return undefined;
    return object.type === 'private' ? createPublicKey(object) : object;
  } catch {
    return undefined;
  }
}

/** Signs a checkpoint's fields. */
export function signCheckpoint(
  fields: { chain: string; keyId: string; prev: string; seq: number; ts: number },
  key: KeyObject,
): string {
  return sign(null, checkpointMessage(fields), key).toString('base64');
}

/** Checks a checkpoint signature. Never throws. */
export function checkCheckpointSignature(
  fields: { chain: string; keyId: string; prev: string; seq: number; ts: number; sig: string },
  key: KeyObject,
): boolean {
  try {
    return verify(null, checkpointMessage(fields), key, Buffer.from(fields.sig, 'base64'));
  } catch {
    return false;
  }
}
