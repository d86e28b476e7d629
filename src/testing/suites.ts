import { describe, expect, it } from 'vitest';
import { responseProblem } from '../approval/run-approval.ts';
import type { ApprovalProvider, ApprovalRequest } from '../approval/types.ts';
import type { AuditEvent, AuditSink } from '../audit/types.ts';
import { createGuard } from '../guard.ts';
import type { PolicyEngine } from '../policy/types.ts';
import { DENY_CODES, type Decision, type ToolRequest } from '../types.ts';

// ---------------------------------------------------------------------------------------------
// Policy engines
// ---------------------------------------------------------------------------------------------

/** An engine-neutral rule: what every engine under test must be able to express. */
export interface NeutralRule {
  id: string;
  effect: 'allow' | 'deny' | 'ask';
  /** Anchored glob on the tool name (`*` = any run of characters). */
  tool: string;
}

/** A semantics case: rules, a call, and the decision every engine must reach. */
export interface PolicyCase {
  name: string;
  rules: NeutralRule[];
  tool: string;
  args?: Record<string, unknown>;
  expect: { type: Decision['type']; code?: string; rules?: string[] };
}

/** The built-in semantics cases (G1, G2, G4 and deny codes). */
export const POLICY_CASES: readonly PolicyCase[] = [
  {
    name: 'an empty policy denies',
    rules: [],
    tool: 'db.query',
    expect: { type: 'deny', code: 'NO_MATCHING_RULE', rules: [] },
  },
  {
    name: 'a rule for another tool does not allow',
    rules: [{ id: 'a', effect: 'allow', tool: 'db.read' }],
    tool: 'db.write',
    expect: { type: 'deny', code: 'NO_MATCHING_RULE' },
  },
  {
    name: 'an exact allow allows',
    rules: [{ id: 'a', effect: 'allow', tool: 'db.read' }],
    tool: 'db.read',
    expect: { type: 'allow', rules: ['a'] },
  },
  {
    name: 'globs are anchored',
    rules: [{ id: 'a', effect: 'allow', tool: 'db.*' }],
    tool: 'xdb.read',
    expect: { type: 'deny', code: 'NO_MATCHING_RULE' },
  },
  {
    name: 'names compare with exact case',
    rules: [{ id: 'a', effect: 'allow', tool: 'db.read' }],
    tool: 'DB.read',
    expect: { type: 'deny', code: 'NO_MATCHING_RULE' },
  },
  {
    name: 'deny beats allow',
    rules: [
      { id: 'a', effect: 'allow', tool: 'db.*' },
      { id: 'd', effect: 'deny', tool: 'db.drop' },
    ],
    tool: 'db.drop',
    expect: { type: 'deny', code: 'DENIED_BY_RULE', rules: ['d'] },
  },
  {
    name: 'deny beats allow whatever the order',
    rules: [
      { id: 'd', effect: 'deny', tool: 'db.drop' },
      { id: 'a', effect: 'allow', tool: 'db.*' },
    ],
    tool: 'db.drop',
    expect: { type: 'deny', code: 'DENIED_BY_RULE', rules: ['d'] },
  },
  {
    name: 'ask beats allow',
    rules: [
      { id: 'a', effect: 'allow', tool: 'pay.*' },
      { id: 'k', effect: 'ask', tool: 'pay.refund' },
    ],
    tool: 'pay.refund',
    expect: { type: 'ask', rules: ['k'] },
  },
  {
    name: 'deny beats ask',
    rules: [
      { id: 'k', effect: 'ask', tool: 'pay.refund' },
      { id: 'd', effect: 'deny', tool: 'pay.*' },
    ],
    tool: 'pay.refund',
    expect: { type: 'deny', code: 'DENIED_BY_RULE', rules: ['d'] },
  },
  {
    name: 'duplicates do not change a decision',
    rules: [
      { id: 'a', effect: 'allow', tool: 'db.read' },
      { id: 'a2', effect: 'allow', tool: 'db.read' },
    ],
    tool: 'db.read',
    expect: { type: 'allow' },
  },
];

export interface TestPolicyEngineOptions {
  /** Builds the engine under test from neutral rules. */
  create(rules: NeutralRule[]): PolicyEngine;
  /** Extra semantics cases (for example loaded from JSON files). */
  cases?: readonly PolicyCase[];
}

/**
 * Conformance suite for a `PolicyEngine`: the semantics cases, decision shape, purity (the request
 * is frozen and the answer repeatable), and fail-closed behaviour inside a guard.
 *
 * @example
 * testPolicyEngine('rules', { create: (list) => rules(list) });
 */
export function testPolicyEngine(name: string, options: TestPolicyEngineOptions): void {
  describe(`PolicyEngine conformance: ${name}`, () => {
    for (const testCase of [...POLICY_CASES, ...(options.cases ?? [])]) {
      it(testCase.name, async () => {
        const engine = options.create(testCase.rules);
        const decision = await engine.evaluate(makeRequest(testCase.tool, testCase.args ?? {}), {
          signal: new AbortController().signal,
        });
        expectWellFormed(decision);
        expect(decision.type).toBe(testCase.expect.type);
        if (testCase.expect.code !== undefined && decision.type === 'deny')
          expect(decision.code).toBe(testCase.expect.code);
        if (testCase.expect.rules !== undefined)
          expect([...decision.rules].sort()).toEqual([...testCase.expect.rules].sort());
      });
    }

    it('has a name', () => {
      expect(typeof options.create([]).name).toBe('string');
    });

    it('is repeatable: the same request gets the same decision', async () => {
      const engine = options.create([
        { id: 'a', effect: 'allow', tool: 'db.*' },
        { id: 'k', effect: 'ask', tool: 'db.write' },
      ]);
      const request = makeRequest('db.write', { table: 't' });
      const signal = new AbortController().signal;
      const first = await engine.evaluate(request, { signal });
      const second = await engine.evaluate(request, { signal });
      expect(second).toEqual(first);
    });

    it('denies through the guard when it allows nothing', async () => {
      const tg = createGuard({ policy: options.create([]), onDeny: 'return' });
      let ran = 0;
      const tool = tg.guard(() => ++ran, { name: 'anything' });
      await expect(tool({})).resolves.toMatchObject({ denied: true, code: 'NO_MATCHING_RULE' });
      expect(ran).toBe(0);
    });
  });
}

function makeRequest(tool: string, args: Record<string, unknown>): ToolRequest {
  return Object.freeze({
    callId: 'call-1',
    depth: 0,
    tool: Object.freeze({ name: tool }),
    args: Object.freeze({ ...args }) as ToolRequest['args'],
    argsHash: '0'.repeat(64),
    context: Object.freeze({ agent: 'agent-1', principal: 'user:1' }),
    now: Date.UTC(2026, 0, 5, 12),
  });
}

function expectWellFormed(decision: Decision): void {
  expect(['allow', 'deny', 'ask']).toContain(decision.type);
  expect(Array.isArray(decision.rules)).toBe(true);
  for (const rule of decision.rules) expect(typeof rule).toBe('string');
  if (decision.type === 'deny') {
    expect(DENY_CODES).toContain(decision.code);
    expect(typeof decision.reason).toBe('string');
  }
  if (decision.type === 'ask') expect(typeof decision.reason).toBe('string');
}

// ---------------------------------------------------------------------------------------------
// Audit sinks
// ---------------------------------------------------------------------------------------------

export interface TestAuditSinkOptions {
  /** Creates a fresh sink, and optionally a way to read back what it stored (after flush). */
  create(): Promise<{ sink: AuditSink; read?: () => Promise<AuditEvent[]>; cleanup?: () => Promise<void> }>;
}

/**
 * Conformance suite for an `AuditSink`: accepts every event type, keeps order, survives
 * concurrent writes, flush/close resolve, and (when it can be read back) stores what it was given.
 */
export function testAuditSink(name: string, options: TestAuditSinkOptions): void {
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

// ---------------------------------------------------------------------------------------------
// Approval providers
// ---------------------------------------------------------------------------------------------

export interface TestApprovalProviderOptions {
  /**
   * Creates a fresh provider and a `respond` hook through which the test answers a pending
   * request the way a human would on that channel.
   */
  create(): Promise<{
    provider: ApprovalProvider;
    respond(
      request: ApprovalRequest,
      answer: { approved: boolean; approver: string; reason?: string },
    ): Promise<void>;
    cleanup?: () => Promise<void>;
  }>;
}

/**
 * Conformance suite for an `ApprovalProvider`: well-formed answers bound to the request id,
 * approve and deny paths, and prompt settlement when the signal aborts.
 */
export function testApprovalProvider(name: string, options: TestApprovalProviderOptions): void {
  describe(`ApprovalProvider conformance: ${name}`, () => {
    it('answers an approval with a well-formed response for the same request', async () => {
      const { provider, respond, cleanup } = await options.create();
      const request = sampleApprovalRequest('r-approve');
      const pending = Promise.resolve(provider.request(request, { signal: new AbortController().signal }));
      await respond(request, { approved: true, approver: 'user:2' });
      const response = await pending;
      expect(responseProblem(response)).toBeUndefined();
      expect(response).toMatchObject({ requestId: 'r-approve', approved: true, approver: 'user:2' });
      await provider.close?.();
      await cleanup?.();
    });

    it('answers a denial with its reason', async () => {
      const { provider, respond, cleanup } = await options.create();
      const request = sampleApprovalRequest('r-deny');
      const pending = Promise.resolve(provider.request(request, { signal: new AbortController().signal }));
      await respond(request, { approved: false, approver: 'user:2', reason: 'no' });
      const response = await pending;
      expect(responseProblem(response)).toBeUndefined();
      expect(response).toMatchObject({ requestId: 'r-deny', approved: false, reason: 'no' });
      await provider.close?.();
      await cleanup?.();
    });

    it('settles when the signal aborts, without approving', async () => {
      const { provider, cleanup } = await options.create();
      const controller = new AbortController();
      const request = sampleApprovalRequest('r-abort');
      const pending = Promise.resolve()
        .then(() => provider.request(request, { signal: controller.signal }))
        .then(
          (response) => ({ settled: 'resolved' as const, response }),
          () => ({ settled: 'rejected' as const }),
        );
      setTimeout(() => controller.abort(new Error('stop')), 20);
      const outcome = await pending;
      if (outcome.settled === 'resolved') expect(outcome.response.approved).toBe(false);
      await provider.close?.();
      await cleanup?.();
    });
  });
}

function sampleApprovalRequest(id: string): ApprovalRequest {
  return Object.freeze({
    id,
    callId: `call-${id}`,
    tool: 'payments.refund',
    args: Object.freeze({ orderId: 'o-1', amount: 400 }),
    argsHash: 'b'.repeat(64),
    context: Object.freeze({ agent: 'support-bot', principal: 'user:42' }),
    reason: 'refunds over 100 need a human',
    rules: Object.freeze(['refund-large']),
    expiresAt: Date.now() + 60_000,
  });
}
