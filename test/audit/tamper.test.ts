import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildLine } from '../../src/audit/chain.ts';
import {
  AUDIT_VERIFY_CODES,
  type AuditCheckpoint,
  type AuditVerifyCode,
  jsonlAudit,
  verifyAuditLog,
} from '../../src/index.ts';
import { decisionEvent, keyPair, tempDir } from './helpers.ts';

const keys = keyPair();
const publicKeys = { k1: keys.publicPem };

/** A real signed log: header, 40 events, a checkpoint every 10 records. */
async function signedLog(): Promise<{ path: string; anchored: AuditCheckpoint[] }> {
  const path = join(tempDir(), 'audit.jsonl');
  const anchored: AuditCheckpoint[] = [];
  const sink = jsonlAudit({
    path,
    checkpoint: {
      privateKey: keys.privateKey,
      keyId: 'k1',
      every: 10,
      anchor: { write: (c: AuditCheckpoint) => void anchored.push(c) },
    },
  });
  for (let i = 1; i <= 40; i++) {
    sink.write(decisionEvent(i));
    if (i % 7 === 0) await sink.flush();
  }
  await sink.close();
  return { path, anchored };
}

function read(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').slice(0, -1);
}
function write(path: string, lines: string[]): void {
  writeFileSync(path, lines.map((line) => `${line}\n`).join(''));
}
/** Index of the line holding event `call-n`. */
function eventLine(lines: string[], n: number): number {
  return lines.findIndex((line) => line.includes(`"callId":"call-${n}"`));
}
/** Rebuilds a record with new content but a valid hash of its own (an attacker knows the format). */
function reforge(line: string, edit: (record: Record<string, unknown>) => void): string {
  const { hash: _hash, ...record } = JSON.parse(line) as Record<string, unknown>;
  edit(record);
  const kind = Object.keys(record).find((key) => !['prev', 'seq', 'v'].includes(key))! as 'event';
  return buildLine(kind, record[kind], record.seq as number, record.prev as string).line.slice(0, -1);
}

async function codeOf(path: string, options: Parameters<typeof verifyAuditLog>[1] = { publicKeys }) {
  const result = await verifyAuditLog(path, options);
  return result.ok ? 'ok' : result.code;
}

describe('tampering is detected with a stable code', () => {
  const seen = new Set<AuditVerifyCode>();
  const expectCode = async (
    path: string,
    code: AuditVerifyCode,
    options?: Parameters<typeof verifyAuditLog>[1],
  ) => {
    expect(await codeOf(path, options)).toBe(code);
    seen.add(code);
  };

  it('an untouched log verifies, with its checkpoints and the anchor', async () => {
    const { path, anchored } = await signedLog();
    const result = await verifyAuditLog(path, { publicKeys, anchor: anchored });
    expect(result).toMatchObject({ ok: true, events: 40 });
    if (result.ok) expect(result.checkpoints).toBeGreaterThanOrEqual(4);
  });

  it('a flipped byte: hash_mismatch', async () => {
    const { path } = await signedLog();
    const lines = read(path);
    const i = eventLine(lines, 12);
    lines[i] = lines[i]!.replace('"amount":12', '"amount":92');
    write(path, lines);
    await expectCode(path, 'hash_mismatch');
  });

  it('a flipped byte in the hash itself: hash_mismatch', async () => {
    const { path } = await signedLog();
    const bytes = readFileSync(path);
    const lines = read(path);
    const offset = lines.slice(0, 5).join('\n').length + 1 + lines[5]!.length - 5;
    bytes[offset] = bytes[offset] === 0x61 ? 0x62 : 0x61;
    writeFileSync(path, bytes);
    await expectCode(path, 'hash_mismatch');
  });

  it('a record rewritten with a fresh hash: prev_mismatch', async () => {
    const { path } = await signedLog();
    const lines = read(path);
    const i = eventLine(lines, 3);
    lines[i] = reforge(lines[i]!, (record) => {
      (record.event as Record<string, unknown>).decision = 'deny';
    });
    write(path, lines);
    await expectCode(path, 'prev_mismatch');
  });

  it('a deleted record: seq_gap', async () => {
    const { path } = await signedLog();
    const lines = read(path);
    lines.splice(eventLine(lines, 20), 1);
    write(path, lines);
    await expectCode(path, 'seq_gap');
  });

  it('two swapped records: seq_gap', async () => {
    const { path } = await signedLog();
    const lines = read(path);
    const i = eventLine(lines, 5);
    [lines[i], lines[i + 1]] = [lines[i + 1]!, lines[i]!];
    write(path, lines);
    await expectCode(path, 'seq_gap');
  });

  it('a duplicated record: seq_duplicate', async () => {
    const { path } = await signedLog();
    const lines = read(path);
    const i = eventLine(lines, 8);
    lines.splice(i + 1, 0, lines[i]!);
    write(path, lines);
    await expectCode(path, 'seq_duplicate');
  });

  it('an old record replayed further on: seq_duplicate', async () => {
    const { path } = await signedLog();
    const lines = read(path);
    lines.splice(eventLine(lines, 30), 0, lines[eventLine(lines, 2)]!);
    write(path, lines);
    await expectCode(path, 'seq_duplicate');
  });

  it('an inserted, correctly chained forgery: fork_detected', async () => {
    const { path } = await signedLog();
    const lines = read(path);
    const i = eventLine(lines, 15);
    const forged = reforge(lines[i]!, (record) => {
      (record.event as Record<string, unknown>).tool = 'payments.payout';
    });
    lines.splice(i, 0, forged);
    write(path, lines);
    await expectCode(path, 'fork_detected');
  });

  it('two writers on one chain: fork_detected', async () => {
    // A second writer of one file is refused (log-lock.ts); a copy of the log resumed elsewhere
    // and spliced back makes the same fork: two records after one head.
    const path = join(tempDir(), 'audit.jsonl');
    const copy = join(tempDir(), 'audit.jsonl');
    const a = jsonlAudit({ path, flushOnExit: false });
    a.write(decisionEvent(1));
    await a.close();
    writeFileSync(copy, readFileSync(path));
    const again = jsonlAudit({ path, flushOnExit: false });
    again.write(decisionEvent(2));
    await again.close();
    const b = jsonlAudit({ path: copy, flushOnExit: false }); // resumes from the same head
    b.write(decisionEvent(3));
    await b.close();
    write(path, [...read(path), read(copy).at(-1)!]);
    await expectCode(path, 'fork_detected');
  });

  it('a checkpoint with a forged signature: bad_signature', async () => {
    const { path } = await signedLog();
    const lines = read(path);
    const i = lines.findIndex((line) => line.startsWith('{"checkpoint"'));
    lines[i] = reforge(lines[i]!, (record) => {
      (record.checkpoint as Record<string, unknown>).ts = 0;
    });
    // Re-link the following record so only the signature is wrong.
    lines[i + 1] = reforge(lines[i + 1]!, (record) => {
      record.prev = JSON.parse(lines[i]!).hash;
    });
    write(path, lines.slice(0, i + 2));
    await expectCode(path, 'bad_signature');
  });

  it('a checkpoint signed with a key the verifier does not know: unknown_key', async () => {
    const { path } = await signedLog();
    await expectCode(path, 'unknown_key', { publicKeys: { other: keyPair().publicPem } });
    // The right key id with the wrong key is a bad signature.
    await expectCode(path, 'bad_signature', { publicKeys: { k1: keyPair().publicPem } });
  });

  it('truncation past the anchored checkpoint: truncated_after_anchor (undetectable without the anchor)', async () => {
    const { path, anchored } = await signedLog();
    const lines = read(path);
    const anchor = anchored[anchored.length - 1]!;
    const cut = lines.findIndex((line) => JSON.parse(line).seq === anchor.seq - 5);
    write(path, lines.slice(0, cut));
    expect(await codeOf(path)).toBe('ok');
    await expectCode(path, 'truncated_after_anchor', { publicKeys, anchor: anchored });
  });

  it('a log rewritten after the anchor was taken: fork_detected; a forged anchor: bad_signature', async () => {
    const { path, anchored } = await signedLog();
    const anchor = anchored[1]!;
    const lines = read(path);
    // Rewrite everything after the header with valid hashes, dropping the signed checkpoints (they
    // cannot be re-signed): the chain alone cannot tell, the anchor can.
    let prev = JSON.parse(lines[0]!).hash as string;
    let seq = 0;
    const rewritten = [lines[0]!];
    for (const line of lines.slice(1)) {
      if (line.startsWith('{"checkpoint"')) continue;
      const next = reforge(line, (record) => {
        record.prev = prev;
        seq += 1;
        record.seq = seq;
        if (record.event) (record.event as Record<string, unknown>).agent = 'someone-else';
      });
      prev = JSON.parse(next).hash;
      rewritten.push(next);
    }
    write(path, rewritten);
    expect(await codeOf(path)).toBe('ok');
    await expectCode(path, 'fork_detected', { publicKeys, anchor });
    await expectCode(path, 'bad_signature', { publicKeys, anchor: { ...anchor, seq: anchor.seq + 1 } });
  });

  it('with allowPartial, a log that starts after the anchored checkpoint: anchor_not_found', async () => {
    const { path, anchored } = await signedLog();
    const anchor = anchored[anchored.length - 1]!;
    const lines = read(path);
    // The older files deleted, the active one replaced: a header right after the anchored record,
    // then forged events, chained (the chain is not keyed).
    const header = JSON.parse(lines[0]!) as { file: Record<string, unknown> };
    const rest = [buildLine('file', header.file, anchor.seq + 1, 'f'.repeat(64)).line.slice(0, -1)];
    for (const n of [1, 2, 3]) {
      const prev = JSON.parse(rest[rest.length - 1]!).hash as string;
      rest.push(buildLine('event', decisionEvent(100 + n), anchor.seq + 1 + n, prev).line.slice(0, -1));
    }
    write(path, rest);
    expect(await codeOf(path, { publicKeys, allowPartial: true })).toBe('ok');
    await expectCode(path, 'anchor_not_found', { publicKeys, anchor: anchored, allowPartial: true });
  });

  it('a torn final line: torn_write', async () => {
    const { path } = await signedLog();
    const size = readFileSync(path).length;
    truncateSync(path, size - 40);
    await expectCode(path, 'torn_write');
  });

  it('a missing file: missing_file', async () => {
    await expectCode(join(tempDir(), 'gone.jsonl'), 'missing_file');
  });

  it('every code was produced by a real tampered file', () => {
    expect([...seen].sort()).toEqual([...AUDIT_VERIFY_CODES].sort());
  });
});
