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
  hashJson,
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

  it('records argsHash of call events it alone receives (read through their class), and for listeners too', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    const sink = jsonlAudit({ path });
    const tg = createGuard({ policy: ALLOW_ALL, audit: sink });
    const args = { to: 'acct-1', amount: 5, nested: { b: [1, 'x'], a: null } };
    const transfer = tg.guard((input: typeof args) => input.amount, { name: 'transfer' });
    await transfer(args);
    // With a listener the guard completes events before any sink sees them: the same line results.
    const heard: unknown[] = [];
    tg.on('decision', (event) => heard.push({ ...event }));
    await transfer(args);
    await tg.close();
    const records = lines(path)
      .slice(1)
      .map((line) => JSON.parse(line) as { event: Record<string, unknown> });
    expect(records.map((record) => record.event.type)).toEqual(['decision', 'result', 'decision', 'result']);
    for (const { event } of records) expect(event.argsHash).toBe(hashJson(args));
    expect(heard).toEqual([expect.objectContaining({ argsHash: hashJson(args) })]);
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, events: 4 });
  });

  it('records the events as the guard wrote them, whatever listeners do to them afterwards', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    const sink = jsonlAudit({ path, flushInterval: 60_000 });
    const tg = createGuard({ policy: ALLOW_ALL, audit: sink });
    // Listeners run after the sinks were handed the event; these ones vandalize it.
    tg.on('decision', (event) => {
      const target = event as unknown as Record<string, unknown>;
      target.decision = 'deny';
      target.argsHash = 'f'.repeat(64);
      delete target.args;
    });
    tg.on('result', (event) => {
      const target = event as unknown as Record<string, unknown>;
      (target.outputShape as Record<string, unknown>).size = 999;
      target.outcome = 'error';
    });
    const args = { to: 'acct-1', amount: 5 };
    await tg.guard((input: typeof args) => [input.amount], { name: 'transfer' })(args);
    await tg.close();
    const [decision, result] = lines(path)
      .slice(1)
      .map((line) => (JSON.parse(line) as { event: Record<string, unknown> }).event);
    expect(decision).toMatchObject({ decision: 'allow', argsHash: hashJson(args), args });
    expect(result).toMatchObject({ outcome: 'ok', outputShape: { type: 'array', size: 1 } });
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, events: 2 });
  });

  it('a call event whose computed field fails when serialized leaves a counted, reported gap, never a hole', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    const sink = jsonlAudit({ path, flushInterval: 60_000 });
    const errors: unknown[] = [];
    sink.onError((error) => errors.push(error));
    // Shaped like the guard's call events: argsHash read through the class, computed when read.
    class Event {
      readonly v = 1;
      readonly type = 'decision';
      constructor(readonly id: string) {}
      get argsHash(): string {
        if (this.id === 'e2') throw new Error('cannot hash');
        return 'a'.repeat(64);
      }
      [Symbol.for('toolgate.completeEvent')](): void {}
    }
    sink.write(new Event('e1') as never);
    sink.write(new Event('e2') as never);
    await sink.close();
    expect(sink.stats()).toMatchObject({ dropped: 1, seq: 2 });
    expect(errors).toEqual([expect.objectContaining({ message: 'cannot hash' })]);
    const records = lines(path).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records[1]).toMatchObject({ event: { id: 'e1', argsHash: 'a'.repeat(64) } });
    expect(records[2]).toMatchObject({ gap: { reason: 'dropped', count: 1 } });
    expect(await verifyAuditLog(path)).toMatchObject({
      ok: true,
      notices: [expect.objectContaining({ kind: 'events_dropped', count: 1 })],
    });
  });

  it('stats() gives the head of the chain before the batch is written, and the file agrees', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    const sink = jsonlAudit({ path, batchBytes: 1 << 30, flushInterval: 60_000 });
    for (let i = 1; i <= 7; i++) sink.write(decisionEvent(i));
    const early = sink.stats();
    expect(early).toMatchObject({ seq: 7, queued: 8, written: 0 });
    for (let i = 8; i <= 9; i++) sink.write(decisionEvent(i));
    const later = sink.stats();
    await sink.close();
    const all = lines(path);
    expect((JSON.parse(all[7]!) as { hash: string }).hash).toBe(early.head);
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, lastSeq: 9, lastHash: later.head });
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

  it('property: a LineBatch holds exactly the lines of buildLine, whatever fails, grows, is sealed or cleared in between', () => {
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
      // The chain's head was needed (a checkpoint, stats()): the records so far are completed.
      { weight: 2, arbitrary: fc.constant({ op: 'seal' as const }) },
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
          // `head`: what the batch's seals returned; `prev`: the hash of the last line of buildLine.
          let head = genesis;
          let prev = genesis;
          let expected = '';
          let records = 0;
          for (const current of steps) {
            if (current.op === 'clear') {
              head = batch.seal(head);
              expect(head).toBe(prev);
              expect(batch.bytes().equals(Buffer.from(expected, 'utf8'))).toBe(true);
              batch.clear();
              expected = '';
              records = 0;
              continue;
            }
            if (current.op === 'seal') {
              head = batch.seal(head);
              expect(head).toBe(prev);
              expect(batch.unsealed).toBe(0);
              continue;
            }
            if (current.op === 'bad') {
              expect(() => batch.event({ a: 'x'.repeat(40), z: Number.NaN }, seq)).toThrow(TypeError);
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
            if (kind === 'event') batch.event(data, seq);
            else batch.record(kind, copy, seq);
            expected += line.line;
            records += 1;
            prev = line.hash;
            seq += 1;
          }
          if (batch.unsealed > 0) expect(() => batch.bytes()).toThrow(/not sealed/);
          head = batch.seal(head);
          expect(head).toBe(prev);
          expect(batch.bytes().equals(Buffer.from(expected, 'utf8'))).toBe(true);
          expect(batch.size).toBe(Buffer.byteLength(expected));
          expect(batch.records).toBe(records);
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('property: a LineBatch records each event as it was when appended, whatever happens to it before the seal', () => {
    const event = fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 3 }), {
      minKeys: 1,
      maxKeys: 5,
    });
    const change = fc.record({
      key: fc.nat(),
      value: fc.jsonValue({ maxDepth: 1 }),
      how: fc.nat({ max: 3 }),
    });
    fc.assert(
      fc.property(fc.array(fc.tuple(event, change), { minLength: 1, maxLength: 8 }), (steps) => {
        const batch = new LineBatch(64);
        let prev = '0'.repeat(64);
        let expected = '';
        const originals: Record<string, unknown>[] = [];
        steps.forEach(([fields, { key, value, how }], i) => {
          const data = JSON.parse(JSON.stringify(fields)) as Record<string, unknown>;
          const line = buildLine('event', JSON.parse(JSON.stringify(data)), i, prev);
          batch.event(data, i);
          expected += line.line;
          prev = line.hash;
          originals.push(data);
          // After it was appended: reassign, delete or add a field, or change a nested value.
          const keys = Object.keys(data);
          const name = keys[key % keys.length]!;
          const nested = data[name];
          if (how === 0) data[name] = value;
          else if (how === 1) delete data[name];
          else if (how === 2) data[`${name}!`] = value;
          else if (Array.isArray(nested)) nested.push(value);
          else if (typeof nested === 'object' && nested !== null)
            (nested as Record<string, unknown>).x = value;
          else data[name] = [nested];
        });
        // And once more, all of them, before the batch is sealed.
        for (const data of originals) data.late = 'changed';
        expect(batch.seal('0'.repeat(64))).toBe(prev);
        expect(batch.bytes().toString('utf8')).toBe(expected);
      }),
      { numRuns: 1_000 },
    );
  });

  it('reads an accessor of an event once, when appended', () => {
    let reads = 0;
    let value = 'first';
    const data: Record<string, unknown> = { type: 'decision' };
    Object.defineProperty(data, 'lazy', {
      enumerable: true,
      get: () => {
        reads += 1;
        return value;
      },
    });
    const batch = new LineBatch();
    batch.event(data, 1);
    value = 'second';
    batch.seal('0'.repeat(64));
    expect(reads).toBe(1);
    expect(batch.bytes().toString('utf8')).toContain('"lazy":"first"');
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
