import { unlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildLine } from '../../src/audit/chain.ts';
import { type AuditCheckpoint, jsonlAudit, verifyAuditLog } from '../../src/index.ts';
import {
  cliVerify,
  decisionEvent,
  findSeq,
  keys,
  publicKeys,
  readLines,
  rotatedLog,
  verifyCode,
  writeLines,
} from './helpers-rotated.ts';

// `allowPartial` accepts a log whose oldest files are gone; it must not let the anchor go unchecked.
// The anchored checkpoint has to be a record of the files left: a log that starts after it cannot
// show that it extends the anchored history, and fails with `anchor_not_found`.

/** Records starting at `seq` after `prev`, chained, with events of the attacker's choosing. */
function fabricated(chain: string, fileIndex: number, seq: number, prev: string, events: number): string[] {
  const lines: string[] = [];
  const push = (kind: 'file' | 'event', payload: unknown) => {
    const { line, hash } = buildLine(kind, payload, seq, prev);
    lines.push(line.slice(0, -1));
    prev = hash;
    seq += 1;
  };
  push('file', { chain, index: fileIndex, ts: 1 });
  for (let i = 1; i <= events; i++)
    push('event', decisionEvent(1000 + i, { tool: 'payments.payout', decision: 'allow' }));
  return lines;
}

function removeAllBut(files: readonly string[], keep: readonly string[]): void {
  for (const file of files) if (!keep.includes(file)) unlinkSync(file);
}

describe('allowPartial with an anchor', () => {
  it('every rotated file deleted and the active file replaced by records after the anchor: anchor_not_found', async () => {
    const log = await rotatedLog();
    const anchor = log.anchored[log.anchored.length - 1]!;
    const header = JSON.parse(readLines(log.path)[0]!) as { file: { chain: string; index: number } };
    removeAllBut(log.files, [log.path]);
    for (const prev of [anchor.hash, 'f'.repeat(64)]) {
      writeLines(log.path, fabricated(header.file.chain, header.file.index, anchor.seq + 1, prev, 3));
      // The chain alone is fine: without the anchor this is what a retained log looks like.
      expect(await verifyCode(log.path, { publicKeys, allowPartial: true })).toBe('ok');
      for (const anchors of [anchor, log.anchored]) {
        const result = await verifyAuditLog(log.path, { publicKeys, anchor: anchors, allowPartial: true });
        expect(result).toMatchObject({ ok: false, code: 'anchor_not_found', file: log.path, line: 1 });
      }
      // Without allowPartial, the log does not start at its first file.
      expect(await verifyCode(log.path, { publicKeys, anchor })).toBe('missing_file');
    }
  });

  it('the CLI: --partial --anchor exits 1 with anchor_not_found', async () => {
    const log = await rotatedLog();
    const anchor = log.anchored[log.anchored.length - 1]!;
    const header = JSON.parse(readLines(log.path)[0]!) as { file: { chain: string; index: number } };
    removeAllBut(log.files, [log.path]);
    writeLines(log.path, fabricated(header.file.chain, header.file.index, anchor.seq + 1, 'f'.repeat(64), 3));
    const args = [log.path, '--key', `k1=${log.keyFile}`, '--anchor', log.anchorFile, '--partial'];
    expect(await cliVerify(args)).toMatchObject({ exit: 1, out: { ok: false, code: 'anchor_not_found' } });
    expect(await cliVerify(args.slice(0, 3).concat('--partial'))).toMatchObject({
      exit: 0,
      out: { ok: true },
    });
  });

  it('a signed checkpoint after the anchor does not link to it: the writer signs what it resumes', async () => {
    // Someone who can write the files (not the key) puts a forged chain in place of the log; the
    // writer, restarted, continues it and signs checkpoints over it.
    const log = await rotatedLog();
    const anchor = log.anchored[log.anchored.length - 1]!;
    const header = JSON.parse(readLines(log.path)[0]!) as { file: { chain: string; index: number } };
    removeAllBut(log.files, [log.path]);
    writeLines(log.path, fabricated(header.file.chain, header.file.index, anchor.seq + 1, 'f'.repeat(64), 3));
    const signed: AuditCheckpoint[] = [];
    const sink = jsonlAudit({
      path: log.path,
      flushOnExit: false,
      checkpoint: {
        privateKey: keys.privateKey,
        keyId: 'k1',
        every: 5,
        anchor: { write: (checkpoint: AuditCheckpoint) => void signed.push(checkpoint) },
      },
    });
    for (let i = 1; i <= 12; i++) sink.write(decisionEvent(2000 + i));
    await sink.close();
    const result = await verifyAuditLog(log.path, { publicKeys, allowPartial: true });
    expect(result).toMatchObject({ ok: true });
    if (result.ok) expect(result.checkpoints).toBeGreaterThanOrEqual(2);
    expect(signed[0]!.chain).toBe(anchor.chain);
    expect(await verifyCode(log.path, { publicKeys, anchor, allowPartial: true })).toBe('anchor_not_found');
  });

  it('a genuine retained log that starts after an older anchor: anchor_not_found too (nothing left proves the link)', async () => {
    const log = await rotatedLog();
    const anchor = log.anchored[1]!;
    const holder = findSeq(log.files, anchor.seq).file;
    const kept = log.files.slice(log.files.indexOf(holder) + 1);
    removeAllBut(log.files, kept);
    expect(await verifyCode(kept, { publicKeys, allowPartial: true })).toBe('ok');
    expect(await verifyCode(kept, { publicKeys, anchor, allowPartial: true })).toBe('anchor_not_found');
  });

  it('retention that keeps the anchored checkpoint: ok; the anchored record is checked as in a whole log', async () => {
    const log = await rotatedLog();
    const anchor = log.anchored[log.anchored.length - 1]!;
    const holder = findSeq(log.files, anchor.seq).file;
    // Keep the file holding the anchor and the one before it.
    const kept = log.files.slice(Math.max(1, log.files.indexOf(holder) - 1));
    removeAllBut(log.files, kept);
    const options = { publicKeys, anchor: log.anchored, allowPartial: true };
    expect(await verifyCode(log.path, options)).toBe('ok');
    const args = [log.path, '--key', `k1=${log.keyFile}`, '--anchor', log.anchorFile, '--partial'];
    expect(await cliVerify(args)).toMatchObject({ exit: 0, out: { ok: true } });

    // Every record from the first one left up to the anchored one is pinned by the anchored hash.
    const first = kept[0]!;
    const lines = readLines(first);
    const record = JSON.parse(lines[1]!) as { event?: Record<string, unknown>; prev: string; seq: number };
    lines[1] = buildLine(
      'event',
      { ...record.event, tool: 'payments.payout' },
      record.seq,
      record.prev,
    ).line.slice(0, -1);
    writeLines(first, lines);
    expect(await verifyCode(log.path, options)).toBe('prev_mismatch');
  });

  it('a retained log cut before the anchored record: truncated_after_anchor', async () => {
    const log = await rotatedLog();
    const anchor = log.anchored[log.anchored.length - 1]!;
    const at = findSeq(log.files, anchor.seq);
    const kept = log.files.slice(log.files.indexOf(at.file) - 1, log.files.indexOf(at.file) + 1);
    removeAllBut(log.files, kept);
    writeLines(at.file, readLines(at.file).slice(0, at.index));
    expect(await verifyCode(kept, { publicKeys, anchor, allowPartial: true })).toBe('truncated_after_anchor');
  });

  it('a retained log rewritten from its start through the anchored record: fork_detected', async () => {
    const log = await rotatedLog();
    const anchor = log.anchored[log.anchored.length - 1]!;
    const holder = findSeq(log.files, anchor.seq);
    const kept = log.files.slice(log.files.indexOf(holder.file));
    removeAllBut(log.files, kept);
    const lines = readLines(holder.file);
    const header = JSON.parse(lines[0]!) as { file: { chain: string; index: number }; seq: number };
    // A chain of the right length with forged events, ending in anything but the anchored record.
    const forged = fabricated(
      header.file.chain,
      header.file.index,
      header.seq,
      'e'.repeat(64),
      anchor.seq - header.seq + 2,
    );
    writeLines(holder.file, forged);
    expect(await verifyCode(holder.file, { publicKeys, anchor, allowPartial: true })).toBe('fork_detected');
  });
});
