import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { otelAudit } from '../../src/backends/otel/index.ts';
import {
  type AuditEvent,
  type AuditSink,
  createGuard,
  type GuardErrorEvent,
  jsonlAudit,
  memoryAudit,
  multiSink,
  rules,
} from '../../src/index.ts';
import { testAuditSink } from '../../src/testing/index.ts';
import { decisionEvent } from './helpers-events.ts';

const runner = { describe, it };

const ALLOW_ALL = rules([{ id: 'all', effect: 'allow', tool: '*' }]);

testAuditSink('jsonlAudit', {
  runner,
  async create() {
    const dir = await mkdtemp(join(tmpdir(), 'toolgate-conf-'));
    const path = join(dir, 'audit.jsonl');
    const sink = jsonlAudit({ path, flushOnExit: false });
    return {
      sink,
      read: async () =>
        readFileSync(path, 'utf8')
          .split('\n')
          .filter((line) => line.startsWith('{"event"'))
          .map((line) => JSON.parse(line).event as AuditEvent),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
});

testAuditSink('otelAudit', {
  runner,
  async create() {
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())],
    });
    return { sink: otelAudit({ tracer: provider.getTracer('t') }) };
  },
});

testAuditSink('multiSink', {
  runner,
  async create() {
    const memory = memoryAudit();
    return { sink: multiSink([memory, memoryAudit()]), read: async () => [...memory.events] };
  },
});

function flaky(failures: number): AuditSink & { events: AuditEvent[] } {
  let left = failures;
  const events: AuditEvent[] = [];
  return {
    name: 'flaky',
    events,
    write(event) {
      if (left > 0) {
        left -= 1;
        throw new Error('sink down');
      }
      events.push(event);
    },
  };
}

describe('memoryAudit', () => {
  const event = (n: number) => ({ v: 1, id: `e${n}`, ts: n, type: 'decision' }) as unknown as AuditEvent;

  it('holds at most `limit` events, the newest', () => {
    const sink = memoryAudit({ limit: 3 });
    const held = sink.events;
    for (let n = 1; n <= 10; n++) {
      sink.write(event(n));
      expect(held.length).toBeLessThanOrEqual(3);
    }
    expect(sink.events.map((e) => e.id)).toEqual(['e8', 'e9', 'e10']);
    expect(held).toBe(sink.events);
    sink.write(event(11));
    expect(sink.events.map((e) => e.id)).toEqual(['e9', 'e10', 'e11']);
    sink.clear();
    expect(sink.events).toEqual([]);
    const none = memoryAudit({ limit: 0 });
    none.write(event(1));
    expect(none.events).toEqual([]);
  });

  it('with any limit, reading shows exactly the newest events, in order (model check)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('write' as const), times: fc.integer({ min: 1, max: 12 }) }),
      fc.record({ kind: fc.constant('read' as const) }),
      fc.record({ kind: fc.constant('clear' as const) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), fc.array(op, { maxLength: 40 }), (limit, ops) => {
        const sink = memoryAudit({ limit });
        const held = sink.events;
        let model: string[] = [];
        let n = 0;
        for (const step of ops) {
          if (step.kind === 'write') {
            for (let i = 0; i < step.times; i++) {
              n += 1;
              sink.write(event(n));
              model.push(`e${n}`);
              if (model.length > limit) model.shift();
            }
          } else if (step.kind === 'clear') {
            sink.clear();
            model = [];
          } else {
            expect(sink.events.map((e) => e.id)).toEqual(model);
          }
        }
        expect(sink.events.map((e) => e.id)).toEqual(model);
        expect(sink.events).toBe(held);
      }),
    );
  });

  it('a large limit allocates nothing up front', () => {
    const sink = memoryAudit({ limit: Number.MAX_SAFE_INTEGER });
    for (let n = 1; n <= 3; n++) sink.write(event(n));
    expect(sink.events.map((e) => e.id)).toEqual(['e1', 'e2', 'e3']);
    sink.write(event(4));
    expect(sink.events.map((e) => e.id)).toEqual(['e1', 'e2', 'e3', 'e4']);
  });

  it('reading events never throws, whatever was written to it', () => {
    const sink = memoryAudit();
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('trap');
        },
      },
    );
    sink.write(hostile as unknown as AuditEvent);
    expect(() => sink.events).not.toThrow();
    expect(sink.events).toHaveLength(1);
  });

  it('refuses a limit that is not a whole number of events', () => {
    for (const limit of [-1, 1.5, Number.NaN, '10' as unknown as number])
      expect(() => memoryAudit({ limit })).toThrow(/limit/);
    expect(memoryAudit({ limit: Number.POSITIVE_INFINITY }).events).toEqual([]);
  });
});

describe('multiSink', () => {
  it('isolates sinks: a throwing or hanging sink never stops the others; the write rejects', async () => {
    const good = memoryAudit();
    const multi = multiSink(
      [
        {
          name: 'throws',
          write: () => {
            throw new Error('x');
          },
        },
        { name: 'hangs', write: () => new Promise<void>(() => {}) },
        good,
      ],
      { timeoutMs: 30 },
    );
    const event = {
      v: 1,
      id: 'e',
      ts: 0,
      type: 'decision',
      callId: 'c',
      tool: 't',
      argsHash: '',
      decision: 'allow',
      policyDecision: 'allow',
      rules: [],
      durationMs: 0,
    } as AuditEvent;
    const error = (await Promise.resolve(multi.write(event)).catch((e: unknown) => e)) as AggregateError;
    expect(error).toBeInstanceOf(AggregateError);
    expect(error.errors).toHaveLength(2);
    expect(good.events).toHaveLength(1);
  });

  it('in fail-closed mode, any failing member denies the call', async () => {
    const tg = createGuard({
      policy: ALLOW_ALL,
      audit: { sinks: [multiSink([memoryAudit(), flaky(1)])], mode: 'fail-closed' },
    });
    let ran = 0;
    const tool = tg.guard(() => ran++, { name: 't' });
    await expect(tool({})).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    expect(ran).toBe(0);
    await tool({});
    expect(ran).toBe(1);
  });
});

describe('best-effort mode', () => {
  it('a failing sink never blocks a call, raises error events, and is retried from its buffer', async () => {
    const sink = flaky(2);
    const tg = createGuard({ policy: ALLOW_ALL, audit: { sinks: [sink] } });
    const errors: GuardErrorEvent[] = [];
    tg.on('error', (e) => errors.push(e));
    const tool = tg.guard(() => 'ok', { name: 't' });
    expect(await tool({})).toBe('ok'); // decision and result both fail to write
    expect(errors.map((e) => e.source)).toEqual(['audit:flaky', 'audit:flaky']);
    expect(sink.events).toHaveLength(0);
    await tg.close(); // retries what is buffered
    expect(sink.events.map((e) => e.type)).toEqual(['decision', 'result']);
  });

  it('counts what did not fit in the retry buffer', async () => {
    const sink = flaky(1_000);
    const tg = createGuard({ policy: ALLOW_ALL, audit: { sinks: [sink], retryBuffer: 3 } });
    const errors: GuardErrorEvent[] = [];
    tg.on('error', (e) => errors.push(e));
    const tool = tg.guard(() => 'ok', { name: 't' });
    for (let i = 0; i < 5; i++) await tool({});
    await expect(tg.close()).rejects.toThrow(
      /flaky: 7 event\(s\) dropped since the last flush.*flaky: 3 event\(s\) dropped at close/,
    );
    const messages = errors.map((e) => String((e.error as Error).message));
    expect(messages.some((m) => /dropped \d+ event\(s\) in total/.test(m))).toBe(true);
    expect(messages.some((m) => /dropped at close/.test(m))).toBe(true);
  });

  it('a jsonl sink on a full disk (/dev/full) raises error events; in fail-closed mode it denies', async () => {
    const sink = jsonlAudit({ path: '/dev/full', flushOnExit: false });
    const tg = createGuard({ policy: ALLOW_ALL, audit: sink });
    const errors: GuardErrorEvent[] = [];
    tg.on('error', (e) => errors.push(e));
    expect(await tg.guard(() => 'ran', { name: 't' })({})).toBe('ran'); // best-effort: the call is not blocked
    await expect(sink.flush()).rejects.toThrow();
    expect(errors.some((e) => e.source === 'audit:jsonl' && /ENOSPC/.test(String(e.error)))).toBe(true);
    expect(sink.stats().queued).toBeGreaterThan(0); // kept for retry, not lost silently

    const strict = jsonlAudit({ path: '/dev/full', flushOnExit: false });
    const tg2 = createGuard({ policy: ALLOW_ALL, audit: { sinks: [strict], mode: 'fail-closed' } });
    let ran = false;
    await expect(
      tg2.guard(
        () => {
          ran = true;
        },
        { name: 't' },
      )({}),
    ).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    expect(ran).toBe(false);
    await tg.close().catch(() => undefined);
    await tg2.close().catch(() => undefined);
  });

  it('full batches that fail on the write thread (/dev/full) are reported with their code and kept', async () => {
    const sink = jsonlAudit({ path: '/dev/full', batchBytes: 64 * 1024, flushOnExit: false });
    const errors: unknown[] = [];
    sink.onError((error) => errors.push(error));
    // Full 64 KiB batches go to the write thread; the first fails there, and so does its retry.
    for (let i = 1; i <= 400; i++) sink.write(decisionEvent(i));
    await expect(sink.flush()).rejects.toThrow(/write failed/);
    expect(errors.some((error) => (error as { code?: string }).code === 'ENOSPC')).toBe(true);
    expect(sink.stats()).toMatchObject({ written: 0, queued: 401 });
    await expect(sink.close()).rejects.toThrow(/could not be written/);
  });
});
