import type { AuditEvent, AuditSink } from '../audit/types.ts';
import { expect } from './expect.ts';
import { type SuiteOptions, suiteRunner } from './runner.ts';

/** Options of `testAuditSink`. */
export interface TestAuditSinkOptions extends SuiteOptions {
  /** Creates a fresh sink, and optionally a way to read back what it stored (after flush). */
  create(): Promise<{ sink: AuditSink; read?: () => Promise<AuditEvent[]>; cleanup?: () => Promise<void> }>;
}

/**
 * Conformance suite for an `AuditSink`: accepts every event type, keeps order, survives
 * concurrent writes, flush/close resolve, and (when it can be read back) stores what it was given.
 * Pass your runner's `describe` and `it` as `runner` (vitest, Jest, node:test).
 */
export function testAuditSink(name: string, options: TestAuditSinkOptions): void {
  const { describe, it } = suiteRunner(options, 'testAuditSink');
  describe(`AuditSink conformance: ${name}`, () => {
    it('has a name and a write method', async () => {
      const { sink, cleanup } = await options.create();
      expect(typeof sink.name).toBe('string');
      expect(typeof sink.write).toBe('function');
      await sink.close?.();
      await cleanup?.();
    });

    it('stores every event type, in order', async () => {
      const { sink, read, cleanup } = await options.create();
      const events = sampleEvents();
      for (const event of events) await sink.write(event);
      await sink.flush?.();
      if (read) {
        const stored = await read();
        expect(stored.map((event) => event.id)).toEqual(events.map((event) => event.id));
        expect(stored.map((event) => event.type)).toEqual(events.map((event) => event.type));
        expect(stored[0]).toMatchObject({ callId: 'c1', tool: 'db.query', argsHash: events[0]!.argsHash });
      }
      await sink.close?.();
      await cleanup?.();
    });

    it('accepts many concurrent writes without losing one', async () => {
      const { sink, read, cleanup } = await options.create();
      const base = sampleEvents()[0]!;
      await Promise.all(Array.from({ length: 200 }, (_, index) => sink.write({ ...base, id: `e${index}` })));
      await sink.flush?.();
      if (read) {
        const ids = (await read()).map((event) => event.id);
        expect(new Set(ids).size).toBe(200);
      }
      await sink.close?.();
      await cleanup?.();
    });

    it('flushes and closes, flushing buffered events first', async () => {
      const { sink, read, cleanup } = await options.create();
      await sink.write(sampleEvents()[0]!);
      await sink.close?.();
      if (read) expect((await read()).length).toBe(1);
      await cleanup?.();
    });
  });
}

function sampleEvents(): AuditEvent[] {
  const base = {
    v: 1 as const,
    ts: Date.UTC(2026, 0, 1),
    callId: 'c1',
    tool: 'db.query',
    agent: 'agent-1',
    principal: 'user:1',
    argsHash: 'a'.repeat(64),
    args: { sql: 'select 1' },
  };
  return [
    {
      ...base,
      id: 'c1.1',
      type: 'approval-request',
      requestId: 'r1',
      provider: 'p',
      reason: 'why',
      rules: ['k'],
      expiresAt: 1,
    },
    { ...base, id: 'c1.2', type: 'approval-response', requestId: 'r1', approved: true, approver: 'user:2' },
    { ...base, id: 'c1.3', type: 'grant-used', grantId: 'g1' },
    {
      ...base,
      id: 'c1.4',
      type: 'decision',
      decision: 'allow',
      policyDecision: 'ask',
      rules: ['k'],
      durationMs: 1,
    },
    { ...base, id: 'c1.5', type: 'result', outcome: 'ok', durationMs: 2, outputBytes: 10 },
  ];
}
