import { createHash, type KeyObject } from 'node:crypto';
import { open } from 'node:fs/promises';
import {
  type AuditCheckpoint,
  checkpointPayloadOf,
  fileHeaderOf,
  GENESIS_PREV,
  gapPayloadOf,
  loadPublicKey,
  type ParsedLine,
  parseLine,
} from './chain.ts';
import { auditLogFiles } from './files.ts';
import { forEachLine, MAX_LINE_BYTES } from './lines.ts';
import { anchorNotFound, checkAnchorHash, checkSignature, Problem } from './verify-checks.ts';
import type { AuditVerifyNotice, AuditVerifyResult, VerifyAuditLogOptions } from './verify-types.ts';

const MAX_NOTICES = 100;

/**
 * Verifies a hash-chained JSONL audit log, streaming (memory stays flat whatever its size).
 * `source` is the active file (its rotated files `<path>.N` are found and checked first) or an
 * explicit list of files in chain order. Reports `ok` or the first problem with a stable code:
 * nothing in the files makes it throw (only options that are not what they should be). With an
 * anchor, the anchored checkpoint must be a record of the log (`allowPartial` included).
 *
 * @example
 * const result = await verifyAuditLog('/var/log/toolgate/audit.jsonl', { publicKeys: { k1: pem } });
 * if (!result.ok) console.error(result.code, result.file, result.line);
 */
export async function verifyAuditLog(
  source: string | readonly string[],
  options: VerifyAuditLogOptions = {},
): Promise<AuditVerifyResult> {
  const files = typeof source === 'string' ? auditLogFiles(source) : [...source];
  const keys = new Map<string, KeyObject | undefined>();
  for (const [id, key] of Object.entries(options.publicKeys ?? {})) keys.set(id, loadPublicKey(key));
  const notices: AuditVerifyNotice[] = [];
  const fail = (problem: Problem, file: string, records: number): AuditVerifyResult => {
    const result: AuditVerifyResult = {
      ok: false,
      code: problem.code,
      message: problem.message,
      file,
      line: problem.line,
      records,
      notices,
    };
    return problem.seq === undefined ? result : { ...result, seq: problem.seq };
  };

  // The anchor is checked first: a forged anchor proves nothing.
  let anchor: AuditCheckpoint | undefined;
  const anchors =
    options.anchor === undefined ? [] : Array.isArray(options.anchor) ? options.anchor : [options.anchor];
  // An anchor given but holding no checkpoint is not "no anchor": it would let any truncation pass.
  if (options.anchor !== undefined && anchors.length === 0)
    return fail(new Problem('bad_signature', 'the anchor holds no checkpoint', 0), '(anchor)', 0);
  for (const candidate of anchors as unknown[]) {
    // An anchor file is input too: an entry that is no checkpoint at all proves nothing, and one
    // whose seq is no whole number could never be the highest (it would be skipped in silence).
    if (
      typeof candidate !== 'object' ||
      candidate === null ||
      !Number.isSafeInteger((candidate as { seq?: unknown }).seq)
    )
      return fail(new Problem('bad_signature', 'the anchor is not a signed checkpoint', 0), '(anchor)', 0);
    const checkpoint = candidate as AuditCheckpoint;
    if (anchor === undefined || checkpoint.seq > anchor.seq) anchor = checkpoint;
  }
  if (anchor !== undefined) {
    const problem = checkSignature(anchor, keys, 0) ?? checkAnchorHash(anchor);
    if (problem !== undefined) return fail(problem, '(anchor)', 0);
  }

  const state: ChainState = {
    records: 0,
    events: 0,
    checkpoints: 0,
    lastSeq: -1,
    lastHash: '',
    lastPrev: '',
    fileIndex: -1,
    chain: undefined,
    lastCheckpoint: undefined,
    anchorSeen: false,
  };
  for (let f = 0; f < files.length; f++) {
    const file = files[f]!;
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(file, 'r');
    } catch {
      return fail(
        new Problem('missing_file', `${file} does not exist or cannot be read`, 0),
        file,
        state.records,
      );
    }
    try {
      const problem = await verifyFile(
        handle,
        file,
        f === files.length - 1,
        state,
        keys,
        anchor,
        options,
        notices,
      );
      if (problem !== undefined) return fail(problem, file, state.records);
    } finally {
      await handle.close().catch(() => undefined);
    }
  }
  if (anchor !== undefined && !state.anchorSeen) {
    // A log that starts after the anchor is refused at its first record; this is the other way
    // to miss it, and the last line of defence should an anchor slip past both.
    const problem =
      state.lastSeq < anchor.seq
        ? new Problem(
            'truncated_after_anchor',
            `the log ends at seq ${state.lastSeq}, before the anchored checkpoint at seq ${anchor.seq}`,
            0,
            anchor.seq,
          )
        : new Problem(
            'anchor_not_found',
            `the anchored checkpoint at seq ${anchor.seq} is not a record of the log`,
            0,
            anchor.seq,
          );
    return fail(problem, files[files.length - 1] ?? '', state.records);
  }
  const ok: AuditVerifyResult = {
    ok: true,
    files: files.length,
    records: state.records,
    events: state.events,
    checkpoints: state.checkpoints,
    lastSeq: state.lastSeq,
    lastHash: state.lastHash,
    notices,
    ...(state.chain === undefined ? {} : { chain: state.chain }),
    ...(state.lastCheckpoint === undefined ? {} : { lastCheckpoint: state.lastCheckpoint }),
  };
  return ok;
}

interface ChainState {
  records: number;
  events: number;
  checkpoints: number;
  lastSeq: number;
  lastHash: string;
  lastPrev: string;
  fileIndex: number;
  chain: string | undefined;
  lastCheckpoint: AuditCheckpoint | undefined;
  anchorSeen: boolean;
}

async function verifyFile(
  handle: Awaited<ReturnType<typeof open>>,
  file: string,
  lastFile: boolean,
  state: ChainState,
  keys: Map<string, KeyObject | undefined>,
  anchor: AuditCheckpoint | undefined,
  options: VerifyAuditLogOptions,
  notices: AuditVerifyNotice[],
): Promise<Problem | undefined> {
  let lineNo = 0;
  let firstInFile = true;
  let torn: { line: number; bytes: number; sha256: string } | undefined;
  // The verifier reads the body of every record but an event (see docs/audit.md): one that is not
  // what its kind needs is refused like any line that is not a record, never read as one.
  const malformed = (what: string, seq: number): Problem =>
    new Problem('hash_mismatch', `malformed ${what}: its body is not what the record needs`, lineNo, seq);

  const check = (line: Buffer, terminated: boolean): Problem | undefined => {
    lineNo += 1;
    if (line.length === 0 && terminated) return new Problem('hash_mismatch', 'empty line', lineNo);
    const parsed = parseLine(line, state.lastHash);
    if (parsed === undefined) {
      if (torn !== undefined)
        return new Problem('hash_mismatch', 'a line is not a complete record', torn.line);
      torn = { line: lineNo, bytes: line.length, sha256: createHash('sha256').update(line).digest('hex') };
      return undefined;
    }
    if (!parsed.hashOk)
      return new Problem('hash_mismatch', 'the record does not match its hash', lineNo, parsed.seq);
    if (torn !== undefined) {
      // Only a repair record may follow an incomplete line.
      const problem = acceptTorn(parsed, line);
      if (problem !== undefined) return problem;
    }
    const problem = link(parsed, line);
    if (problem !== undefined) return problem;
    return kind(parsed, line);
  };

  const acceptTorn = (parsed: ParsedLine, line: Buffer): Problem | undefined => {
    const gap = parsed.kind === 'gap' ? gapPayloadOf(line) : undefined;
    if (gap?.reason === 'torn' && gap.bytes === torn!.bytes && gap.sha256 === torn!.sha256) {
      if (notices.length < MAX_NOTICES)
        notices.push({ kind: 'torn_repaired', file, line: torn!.line, seq: parsed.seq });
      torn = undefined;
      return undefined;
    }
    return new Problem('hash_mismatch', 'a line is not a complete record', torn!.line);
  };

  const link = (parsed: ParsedLine, line: Buffer): Problem | undefined => {
    const { seq, prev, hash } = parsed;
    if (state.records === 0) {
      if (seq === 0) {
        if (prev !== GENESIS_PREV)
          return new Problem('prev_mismatch', 'the genesis record has a non-zero prev', lineNo, seq);
      } else if (options.allowPartial !== true) {
        if (parsed.kind === 'file' && fileIndexOf(line) > 0)
          return new Problem(
            'missing_file',
            'the log does not start at its first file (pass the earlier files)',
            lineNo,
            seq,
          );
        return new Problem('seq_gap', `the log starts at seq ${seq}, not at its genesis`, lineNo, seq);
      } else if (anchor !== undefined && seq > anchor.seq) {
        // With retention, a log that starts past the anchored checkpoint cannot show that it
        // extends it: the records linking the two are gone, and a signed checkpoint after them
        // proves no link (the writer signs whatever chain it resumes, and anyone who can write the
        // files can forge that). So the anchored checkpoint must be a record of the log.
        return anchorNotFound(anchor, seq, lineNo);
      }
    } else {
      if (hash === state.lastHash)
        return new Problem('seq_duplicate', `record ${seq} appears twice`, lineNo, seq);
      if (seq === state.lastSeq && prev === state.lastPrev)
        return new Problem(
          'fork_detected',
          `two records continue record ${seq - 1} (two writers on one chain?)`,
          lineNo,
          seq,
        );
      if (seq <= state.lastSeq)
        return new Problem('seq_duplicate', `seq ${seq} repeats after ${state.lastSeq}`, lineNo, seq);
      if (seq > state.lastSeq + 1) {
        if (firstInFile && parsed.kind === 'file' && fileIndexOf(line) > state.fileIndex + 1)
          return new Problem(
            'missing_file',
            `file ${state.fileIndex + 1} of the log is missing`,
            lineNo,
            seq,
          );
        return new Problem('seq_gap', `seq jumps from ${state.lastSeq} to ${seq}`, lineNo, seq);
      }
      if (prev !== state.lastHash)
        return new Problem(
          'prev_mismatch',
          `record ${seq} does not continue record ${state.lastSeq}`,
          lineNo,
          seq,
        );
    }
    if (anchor !== undefined && seq === anchor.seq) {
      if (hash !== anchor.hash)
        return new Problem(
          'fork_detected',
          `record ${seq} differs from the anchored checkpoint`,
          lineNo,
          seq,
        );
      state.anchorSeen = true;
    }
    state.records += 1;
    state.lastPrev = prev;
    state.lastSeq = seq;
    state.lastHash = hash;
    return undefined;
  };

  const kind = (parsed: ParsedLine, line: Buffer): Problem | undefined => {
    const wasFirst = firstInFile;
    firstInFile = false;
    switch (parsed.kind) {
      case 'event':
        state.events += 1;
        return undefined;
      case 'file': {
        const header = fileHeaderOf(line);
        if (header === undefined) return malformed('file header', parsed.seq);
        if (state.chain !== undefined && header.chain !== state.chain)
          return new Problem('fork_detected', 'the file belongs to another chain', lineNo, parsed.seq);
        if (state.fileIndex >= 0 && header.index !== state.fileIndex + 1)
          return new Problem(
            'missing_file',
            `expected file ${state.fileIndex + 1}, found file ${header.index}`,
            lineNo,
            parsed.seq,
          );
        if (!wasFirst)
          return new Problem('hash_mismatch', 'a file header in the middle of a file', lineNo, parsed.seq);
        state.chain = header.chain;
        state.fileIndex = header.index;
        if (header.torn !== undefined && notices.length < MAX_NOTICES)
          notices.push({ kind: 'torn_repaired', file, line: lineNo, seq: parsed.seq });
        return undefined;
      }
      case 'checkpoint': {
        const body = checkpointPayloadOf(line);
        if (body === undefined) return malformed('checkpoint', parsed.seq);
        const checkpoint = {
          chain: body.chain,
          keyId: body.keyId,
          sig: body.sig,
          ts: body.ts,
          seq: parsed.seq,
          prev: parsed.prev,
          hash: parsed.hash,
        };
        if (state.chain !== undefined && checkpoint.chain !== state.chain)
          return new Problem('fork_detected', 'a checkpoint of another chain', lineNo, parsed.seq);
        const problem = checkSignature(checkpoint, keys, lineNo);
        if (problem !== undefined) return problem;
        state.checkpoints += 1;
        state.lastCheckpoint = Object.freeze(checkpoint);
        return undefined;
      }
      case 'gap': {
        const gap = gapPayloadOf(line);
        if (gap === undefined) return malformed('gap record', parsed.seq);
        if (gap.reason === 'dropped' && notices.length < MAX_NOTICES)
          notices.push({ kind: 'events_dropped', file, line: lineNo, seq: parsed.seq, count: gap.count });
        return undefined;
      }
      default:
        return undefined;
    }
  };

  let problem: Problem | undefined;
  try {
    problem = await forEachLine(handle, check);
  } catch (error) {
    // The file could not be read to its end (a directory, an I/O error) or holds a line no
    // record is as long as: answers, never exceptions.
    return error instanceof RangeError
      ? new Problem(
          'hash_mismatch',
          `a line longer than ${MAX_LINE_BYTES / 1024 / 1024} MiB: no record is, this is not a toolgate audit log`,
          lineNo + 1,
        )
      : new Problem(
          'missing_file',
          `${file} cannot be read (${readError(error)})`,
          lineNo === 0 ? 0 : lineNo + 1,
        );
  }
  if (problem !== undefined) return problem;
  if (torn !== undefined) {
    return lastFile
      ? new Problem('torn_write', 'the last line is incomplete (a write was cut off)', torn.line)
      : new Problem('hash_mismatch', 'a line is not a complete record', torn.line);
  }
  return undefined;
}

function fileIndexOf(line: Buffer): number {
  return fileHeaderOf(line)?.index ?? -1;
}

function readError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : String(error);
}
