import { appendFile, open, readFile } from 'node:fs/promises';
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

/**
 * Reads the checkpoints of an anchor file: JSON lines written by `fileAnchor`, one JSON object or
 * array, or another toolgate JSONL log used as the anchor (its `event` records are checkpoints).
 */
export async function readAnchorFile(path: string): Promise<AuditCheckpoint[]> {
  const text = (await readFile(path, 'utf8')).trim();
  if (text.startsWith('[')) return JSON.parse(text) as AuditCheckpoint[];
  const checkpoints: AuditCheckpoint[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const value = JSON.parse(line) as Record<string, unknown>;
    if (typeof value.sig === 'string') checkpoints.push(value as unknown as AuditCheckpoint);
    else if (
      typeof value.event === 'object' &&
      value.event !== null &&
      typeof (value.event as { sig?: unknown }).sig === 'string'
    )
      checkpoints.push(value.event as AuditCheckpoint);
  }
  return checkpoints;
}
