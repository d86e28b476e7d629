import { appendFile, open } from 'node:fs/promises';
import { readTextFile } from '../_internal/read-text.ts';
import { ConfigurationError } from '../errors.ts';
import type { AuditCheckpoint } from './chain.ts';
import type { CheckpointAnchor } from './jsonl.ts';

/**
 * An external anchor that appends each signed checkpoint as a JSON line to a file (synced), meant
 * for another disk, host or write-once store than the log itself.
 *
 * @example
 * jsonlAudit({ path, checkpoint: { privateKey, keyId: 'k1', anchor: fileAnchor({ path: '/mnt/worm/anchor.jsonl' }) } });
 */
export function fileAnchor(options: { path: string }): CheckpointAnchor {
  if (typeof options?.path !== 'string' || options.path === '')
    throw new ConfigurationError('fileAnchor() needs a path');
  const path = options.path;
  let chain: Promise<void> = Promise.resolve();
  return {
    name: 'file-anchor',
    write(checkpoint) {
      // Serialized, so lines never interleave.
      chain = chain.then(async () => {
        await appendFile(path, `${JSON.stringify(checkpoint)}\n`);
        const handle = await open(path, 'r');
        try {
          await handle.datasync();
        } finally {
          await handle.close();
        }
      });
      return chain;
    },
  };
}

/** Largest anchor file read (about 800,000 checkpoints; a device that never ends is refused). */
export const MAX_ANCHOR_BYTES: number = 256 * 1024 * 1024;

/**
 * Reads the checkpoints of an anchor file: JSON lines written by `fileAnchor`, one JSON object or
 * array, or another toolgate JSONL log used as the anchor (its `event` records are checkpoints).
 * Throws a ConfigurationError naming the file when it holds no checkpoint or a line that is none
 * (and a FileTooLarge past `MAX_ANCHOR_BYTES`):
 * an anchor that cannot be read must never be taken as no anchor at all. Signatures are the
 * verifier's to check.
 */
export async function readAnchorFile(path: string): Promise<AuditCheckpoint[]> {
  const text = (await readTextFile(path, MAX_ANCHOR_BYTES)).trim();
  const refuse = (why: string): never => {
    throw new ConfigurationError(`${path} is not an anchor file: ${why}`);
  };
  let checkpoints: AuditCheckpoint[] = [];
  const whole = parseJson(text);
  if (Array.isArray(whole)) {
    whole.forEach((entry, index) => {
      if (!isCheckpointLike(entry)) refuse(`entry ${index} is not a checkpoint`);
    });
    checkpoints = whole as AuditCheckpoint[];
  } else if (whole !== undefined) {
    // One object, pretty-printed or not (a file of one JSONL line reads the same way).
    checkpoints = [checkpointOf(whole) ?? refuse('it is not a checkpoint')];
  } else {
    const lines = text.split('\n');
    for (let index = 0; index < lines.length; index++) {
      const line = lines[index]!;
      if (line.trim() === '') continue;
      const value = parseJson(line);
      if (value === undefined) refuse(`line ${index + 1} is not JSON`);
      const checkpoint = checkpointOf(value);
      if (checkpoint !== undefined) checkpoints.push(checkpoint);
      else if (!isChainRecord(value)) refuse(`line ${index + 1} is not a checkpoint`);
    }
  }
  if (checkpoints.length === 0) refuse('it holds no checkpoint');
  return checkpoints;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A checkpoint as `fileAnchor` writes it (whether its fields hold up is the verifier's to say). */
function isCheckpointLike(value: unknown): value is AuditCheckpoint {
  return isObject(value) && Object.hasOwn(value, 'sig');
}

/** The checkpoint of an anchor line: one written by `fileAnchor`, or the event of a JSONL log's record. */
function checkpointOf(value: unknown): AuditCheckpoint | undefined {
  if (isCheckpointLike(value)) return value;
  if (isObject(value) && isCheckpointLike(value.event)) return value.event;
  return undefined;
}

/** The other records of a toolgate JSONL log used as the anchor: its file headers, checkpoints, gaps. */
function isChainRecord(value: unknown): boolean {
  return (
    isObject(value) &&
    typeof value.hash === 'string' &&
    (isObject(value.file) || isObject(value.checkpoint) || isObject(value.gap))
  );
}
