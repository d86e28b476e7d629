import type { KeyObject } from 'node:crypto';
import { type AuditCheckpoint, buildLine, checkCheckpointSignature } from './chain.ts';
import type { AuditVerifyCode } from './verify-types.ts';

// The checks of `verifyAuditLog` (verify.ts) that stand on their own: a checkpoint's signature, an
// anchor's hash, and the problem each reports (the first problem found is the verdict).

/** A problem found in a log: its stable code, what it says, and where. */
export class Problem {
  constructor(
    readonly code: AuditVerifyCode,
    readonly message: string,
    readonly line: number,
    readonly seq?: number,
  ) {}
}

/** The log begins after the anchored checkpoint: nothing links it to the anchor. */
export function anchorNotFound(anchor: AuditCheckpoint, seq: number, line: number): Problem {
  return new Problem(
    'anchor_not_found',
    `the log starts at seq ${seq}, after the anchored checkpoint at seq ${anchor.seq}: nothing links it to the anchor (pass the files that hold seq ${anchor.seq}, or a later anchor)`,
    line,
    seq,
  );
}

/** A checkpoint's key must be known and its signature valid. */
export function checkSignature(
  checkpoint: { chain: string; keyId: string; prev: string; seq: number; ts: number; sig: string },
  keys: Map<string, KeyObject | undefined>,
  line: number,
): Problem | undefined {
  if (!keys.has(checkpoint.keyId))
    return new Problem(
      'unknown_key',
      `checkpoint signed with unknown key ${JSON.stringify(checkpoint.keyId)}`,
      line,
      checkpoint.seq,
    );
  const key = keys.get(checkpoint.keyId);
  if (key === undefined || !checkCheckpointSignature(checkpoint, key))
    return new Problem(
      'bad_signature',
      `the checkpoint at seq ${checkpoint.seq} has an invalid signature`,
      line,
      checkpoint.seq,
    );
  return undefined;
}

/** The anchor's `hash` must be the hash of the checkpoint record its signed fields describe. */
export function checkAnchorHash(anchor: AuditCheckpoint): Problem | undefined {
  try {
    const { hash } = buildLine(
      'checkpoint',
      { chain: anchor.chain, keyId: anchor.keyId, sig: anchor.sig, ts: anchor.ts },
      anchor.seq,
      anchor.prev,
    );
    if (hash === anchor.hash) return undefined;
  } catch {
    // Malformed anchor fields: fall through.
  }
  return new Problem(
    'bad_signature',
    'the anchor does not describe a signed checkpoint record',
    0,
    anchor.seq,
  );
}
