import { appendFileSync, existsSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildLine, parseLine, parseLineReference } from '../../src/audit/chain.ts';
import { LineBatch } from '../../src/audit/line-batch.ts';
import {
  type AuditCheckpoint,
  auditLogFiles,
  ConfigurationError,
  canonicalJson,
  createGuard,
  jsonlAudit,
  rules,
  ToolInterruptedError,
  verifyAuditLog,
} from '../../src/index.ts';
import { decisionEvent, keyPair, tempDir } from './helpers.ts';
import { SECRET_VALUES, SECRETS } from './secrets.ts';

const ALLOW_ALL = rules([{ id: 'all', effect: 'allow', tool: '*' }]);

async function writeLog(path: string, count: number, options: Record<string, unknown> = {}) {
  const sink = jsonlAudit({ path, ...options });
  for (let i = 1; i <= count; i++) sink.write(decisionEvent(i));
  await sink.close();
  return sink;
}

function lines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').slice(0, -1);
}
function _writeLines(path: string, list: string[]): void {
  writeFileSync(path, list.map((line) => `${line}\n`).join(''));
}

describe('jsonlAudit', () => {
  it('writes one canonical, hash-chained line per event and verifies', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    await writeLog(path, 50);
    const all = lines(path);
    expect(all).toHaveLength(51); // file header + 50 events
    const first = JSON.parse(all[1]!);
    expect(first.seq).toBe(1);
    expect(first.event.callId).toBe('call-1');
    const { hash, ...rest } = first;
    expect(all[1]).toBe(`${canonicalJson(rest).slice(0, -1)},"hash":"${hash}"}`);
    const result = await verifyAuditLog(path);
    expect(result).toMatchObject({ ok: true, records: 51, events: 50, lastSeq: 50 });
  });

  it('resumes the chain across restarts', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    await writeLog(path, 10);
    await writeLog(path, 10);
    const result = await verifyAuditLog(path);
    expect(result).toMatchObject({ ok: true, events: 20, lastSeq: 20 });
  });

  it('rotates by size and the chain continues across files', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    await writeLog(path, 400, { rotate: { maxBytes: 20_000 }, batchBytes: 4096 });
    const files = auditLogFiles(path);
    expect(files.length).toBeGreaterThan(2);
    for (const file of files.slice(0, -1)) expect(statSync(file).size).toBeGreaterThanOrEqual(20_000);
    const result = await verifyAuditLog(path);
    expect(result).toMatchObject({ ok: true, events: 400, files: files.length });
    // Restart after rotation keeps going.
    await writeLog(path, 5, { rotate: { maxBytes: 20_000 } });
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, events: 405 });
  });

  it('signs checkpoints, sends them to the anchor, and verifies them with the public key', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    const keys = keyPair();
    const anchored: AuditCheckpoint[] = [];
    await writeLog(path, 250, {
      checkpoint: {
        privateKey: keys.privateKey,
        keyId: 'k1',
        every: 100,
        anchor: { write: (c: AuditCheckpoint) => void anchored.push(c) },
      },
    });
    expect(anchored.length).toBeGreaterThanOrEqual(2);
    const result = await verifyAuditLog(path, { publicKeys: { k1: keys.publicPem }, anchor: anchored });
    expect(result).toMatchObject({ ok: true });
    if (result.ok) expect(result.checkpoints).toBe(anchored.length);
  });

  it('refuses bad options at construction', () => {
    const dir = tempDir();
    expect(() => jsonlAudit({} as never)).toThrow(ConfigurationError);
    expect(() => jsonlAudit({ path: join(dir, 'a'), fsync: 'sometimes' as never })).toThrow(
      ConfigurationError,
    );
    expect(() =>
      jsonlAudit({ path: join(dir, 'b'), checkpoint: { privateKey: 'not a key', keyId: 'k' } }),
    ).toThrow(ConfigurationError);
    const rsa = keyPair(); // ed25519 is fine; an RSA key is not
    expect(() =>
      jsonlAudit({ path: join(dir, 'c'), checkpoint: { privateKey: rsa.privateKey, keyId: '' } }),
    ).toThrow(ConfigurationError);
    writeFileSync(join(dir, 'garbage.jsonl'), 'not an audit log\n');
    expect(() => jsonlAudit({ path: join(dir, 'garbage.jsonl') })).toThrow(ConfigurationError);
  });

  it('fail-closed: the call runs only after its decision is durable; a broken sink denies', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    const sink = jsonlAudit({ path });
    const tg = createGuard({ policy: ALLOW_ALL, audit: { sinks: [sink], mode: 'fail-closed' } });
    let sizeWhenRun = 0;
    const tool = tg.guard(
      () => {
        sizeWhenRun = statSync(path).size;
        return 'ok';
      },
      { name: 't' },
    );
    const results = await Promise.all(Array.from({ length: 64 }, () => tool({})));
    expect(results.every((r) => r === 'ok')).toBe(true);
    expect(sizeWhenRun).toBeGreaterThan(0);
    await tg.close();
    const result = await verifyAuditLog(path);
    expect(result).toMatchObject({ ok: true, events: 128 });
    // After close, the sink refuses writes: a new guard on it denies with AUDIT_UNAVAILABLE.
    const tg2 = createGuard({ policy: ALLOW_ALL, audit: { sinks: [sink], mode: 'fail-closed' } });
    let ran = false;
    const error = await tg2
      .guard(
        () => {
          ran = true;
        },
        { name: 't' },
      )({})
      .catch((e: unknown) => e);
    expect(ToolInterruptedError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'AUDIT_UNAVAILABLE', ran: false });
    expect(ran).toBe(false);
  });

  it('fail-closed: a sink that fails or hangs denies (AUDIT_UNAVAILABLE)', async () => {
    for (const write of [
      () => {
        throw new Error('disk full');
      },
      () => Promise.reject(new Error('io')),
      () => new Promise<void>(() => {}),
    ]) {
      const tg = createGuard({
        policy: ALLOW_ALL,
        audit: { sinks: [{ name: 'bad', write }], mode: 'fail-closed', timeout: 50 },
      });
      let ran = false;
      const error = await tg
        .guard(
          () => {
            ran = true;
          },
          { name: 't' },
        )({})
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
      expect(ran).toBe(false);
    }
  });

  it('secrets planted in args, context and outputs never reach the file', async () => {
    const dir = tempDir();
    const path = join(dir, 'audit.jsonl');
    const sink = jsonlAudit({ path });
    const tg = createGuard({ policy: ALLOW_ALL, audit: { sinks: [sink], output: { capture: true } } });
    const tool = tg.guard(() => ({ echo: SECRETS, nested: [{ password: 'out-password-1' }] }), {
      name: 'leak',
    });
    await tool(
      { ...SECRETS, password: 'arg-password-1', config: { apiKey: 'arg-api-key-1' } },
      { context: { attributes: { token: 'ctx-token-1' } } },
    );
    await tg
      .guard(
        () => {
          throw new Error(`failed with ${SECRETS.stripe}`);
        },
        { name: 'throws' },
      )({})
      .catch(() => undefined);
    await tg.close();
    const text = readFileSync(path, 'utf8');
    for (const secret of [
      ...SECRET_VALUES,
      'arg-password-1',
      'arg-api-key-1',
      'ctx-token-1',
      'out-password-1',
    ])
      expect(text).not.toContain(secret);
    expect(text).toContain('[REDACTED]');
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true });
  });

  it('best-effort: a full queue drops, counts and leaves a gap record', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    const sink = jsonlAudit({ path, maxQueue: 10, batchBytes: 1 << 30 });
    const errors: unknown[] = [];
    sink.onError((e) => errors.push(e));
    await sink.flush(); // the file header is out of the queue
    for (let i = 1; i <= 25; i++) sink.write(decisionEvent(i));
    expect(sink.stats().dropped).toBe(15);
    expect(errors.length).toBeGreaterThan(0);
    await sink.flush();
    sink.write(decisionEvent(26));
    await sink.close();
    const result = await verifyAuditLog(path);
    expect(result.ok).toBe(true);
    expect(result.notices).toEqual([expect.objectContaining({ kind: 'events_dropped', count: 15 })]);
  });

  it('parseLine rejects lines that are not records and reports hash problems', () => {
    const { line } = buildLine('event', { a: 1 }, 3, '0'.repeat(64));
    const buffer = Buffer.from(line.slice(0, -1));
    expect(parseLine(buffer)).toMatchObject({ seq: 3, hashOk: true, kind: 'event' });
    const flipped = Buffer.from(buffer);
    flipped[10] = flipped[10]! ^ 1;
    expect(parseLine(flipped)?.hashOk).toBe(false);
    expect(parseLine(Buffer.from('{"x":1}'))).toBeUndefined();
  });

  it('property: the byte-level parseLine agrees with the regular-expression reference', () => {
    const kinds = ['event', 'file', 'checkpoint', 'gap'] as const;
    // Real lines, then every kind of damage near the chain fields: flipped, deleted, inserted bytes.
    const line = fc
      .record({
        kind: fc.constantFrom(...kinds),
        payload: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
        seq: fc.oneof(fc.nat(), fc.constant(0), fc.constant(Number.MAX_SAFE_INTEGER)),
        prev: fc.stringMatching(/^[0-9a-f]{64}$/),
      })
      .map(({ kind, payload, seq, prev }) => ({
        prev,
        bytes: Buffer.from(buildLine(kind, JSON.parse(JSON.stringify(payload)), seq, prev).line.slice(0, -1)),
      }));
    const damage = fc.record({
      from: fc.integer({ min: 1, max: 200 }),
      op: fc.constantFrom('flip', 'delete', 'insert', 'digit', 'none'),
      byte: fc.integer({ min: 0, max: 255 }),
    });
    fc.assert(
      fc.property(line, damage, ({ prev, bytes: original }, { from, op, byte }) => {
        let bytes = Buffer.from(original);
        const at = Math.max(0, bytes.length - from);
        if (op === 'flip') bytes[at] = bytes[at]! ^ (byte || 1);
        else if (op === 'delete') bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
        else if (op === 'insert')
          bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([byte]), bytes.subarray(at)]);
        else if (op === 'digit')
          bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from('0'), bytes.subarray(at)]);
        const reference = parseLineReference(bytes);
        expect(parseLine(bytes)).toEqual(reference);
        // With the verifier's hint (the hash the line should follow), the answer is the same.
        expect(parseLine(bytes, prev)).toEqual(reference);
      }),
      { numRuns: 3_000 },
    );
  });

  it('property: a LineBatch holds exactly the lines of buildLine, whatever fails, grows or is cleared in between', () => {
    const fields = fc.dictionary(
      fc.string({ unit: 'grapheme' }),
      fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }),
      { maxKeys: 6 },
    );
    const step = fc.oneof(
      { weight: 8, arbitrary: fc.record({ op: fc.constant('event' as const), fields }) },
      {
        weight: 2,
        arbitrary: fc.record({
          op: fc.constantFrom('file' as const, 'checkpoint' as const, 'gap' as const),
          fields,
        }),
      },
      // Not JSON data, found after part of the record is written: nothing is appended.
      { weight: 1, arbitrary: fc.constant({ op: 'bad' as const }) },
      // Longer than the batch's buffer: it grows.
      { weight: 1, arbitrary: fc.constant({ op: 'big' as const }) },
      // The batch was written: it starts over.
      { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
    );
    fc.assert(
      fc.property(
        fc.array(step, { maxLength: 16 }),
        fc.nat(),
        fc.stringMatching(/^[0-9a-f]{64}$/),
        fc.integer({ min: 1, max: 1_024 }),
        (steps, firstSeq, genesis, capacity) => {
          const batch = new LineBatch(capacity);
          let seq = firstSeq;
          let prev = genesis;
          let expected = '';
          let records = 0;
          for (const current of steps) {
            if (current.op === 'clear') {
              expect(batch.bytes().equals(Buffer.from(expected, 'utf8'))).toBe(true);
              batch.clear();
              expected = '';
              records = 0;
              continue;
            }
            if (current.op === 'bad') {
              expect(() => batch.event({ a: 'x'.repeat(40), z: Number.NaN }, seq, prev)).toThrow(TypeError);
              continue;
            }
            // Plain data with some fields set to undefined; the line is that of the copy without them.
            const data: Record<string, unknown> =
              current.op === 'big'
                ? { s: `${'é'.repeat(3_000)}${'x'.repeat(100)}`, gone: undefined }
                : Object.fromEntries(
                    Object.entries(current.fields).map(([key, value]) => [
                      key,
                      value === undefined ? undefined : JSON.parse(JSON.stringify(value)),
                    ]),
                  );
            const copy = Object.fromEntries(Object.entries(data).filter(([, value]) => value !== undefined));
            const kind = current.op === 'big' ? 'event' : current.op;
            const line = buildLine(kind, copy, seq, prev);
            const hash =
              kind === 'event' ? batch.event(data, seq, prev) : batch.record(kind, copy, seq, prev);
            expect(hash).toBe(line.hash);
            expected += line.line;
            records += 1;
            prev = hash;
            seq += 1;
          }
          expect(batch.bytes().equals(Buffer.from(expected, 'utf8'))).toBe(true);
          expect(batch.records).toBe(records);
          expect(batch.size).toBe(Buffer.byteLength(expected));
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('verifies records longer than its read buffer (1 MiB), in the middle and at the end of a file', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    const sink = jsonlAudit({ path });
    const big = (n: number, size: number) => ({ ...decisionEvent(n), reason: 'x'.repeat(size) });
    sink.write(decisionEvent(1));
    sink.write(big(2, 2_500_000) as never);
    sink.write(decisionEvent(3));
    sink.write(big(4, 1_100_000) as never);
    await sink.close();
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, records: 5 });
    // Damage inside the long record is still found.
    const bytes = readFileSync(path);
    const at = bytes.indexOf('xxxxxxxxxx') + 1_000_000;
    bytes[at] = 0x79;
    writeFileSync(path, bytes);
    expect(await verifyAuditLog(path)).toMatchObject({ ok: false, code: 'hash_mismatch', line: 3 });
  });

  it('missing files are reported', async () => {
    const dir = tempDir();
    expect(await verifyAuditLog(join(dir, 'nope.jsonl'))).toMatchObject({ ok: false, code: 'missing_file' });
    const path = join(dir, 'audit.jsonl');
    await writeLog(path, 300, { rotate: { maxBytes: 10_000 } });
    const files = auditLogFiles(path);
    expect(files.length).toBeGreaterThan(3);
    unlinkSync(files[1]!);
    expect(await verifyAuditLog(path)).toMatchObject({ ok: false, code: 'missing_file' });
    unlinkSync(files[0]!);
    expect(await verifyAuditLog(path)).toMatchObject({ ok: false, code: 'missing_file' });
    expect(await verifyAuditLog(path, { allowPartial: true })).toMatchObject({ ok: true });
    expect(existsSync(path)).toBe(true);
    appendFileSync(path, '');
  });
});
