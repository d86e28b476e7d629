import { createGuard } from '../guard.ts';
import type { PolicyEngine } from '../policy/types.ts';
import { DENY_CODES, type Decision, type ToolRequest } from '../types.ts';
import { expect } from './expect.ts';
import { type SuiteOptions, skippedTest, suiteRunner } from './runner.ts';

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

/** Options of `testPolicyEngine`. */
export interface TestPolicyEngineOptions extends SuiteOptions {
  /** Builds the engine under test from neutral rules. */
  create(rules: NeutralRule[]): PolicyEngine;
  /** Extra semantics cases (for example loaded from JSON files). */
  cases?: readonly PolicyCase[];
  /**
   * What the engine can express. `ask: false` for an engine without an ask effect (Cedar has
   * `permit` and `forbid` only): the cases with an ask rule are skipped, never passed.
   * @default { ask: true }
   */
  capabilities?: { readonly ask?: boolean };
}

/**
 * Conformance suite for a `PolicyEngine`: the semantics cases, decision shape, purity (the request
 * is frozen and the answer repeatable), and fail-closed behaviour inside a guard.
 *
 * @example
 * import { describe, it } from 'vitest';
 * testPolicyEngine('rules', { create: (list) => rules(list), runner: { describe, it } });
 * testPolicyEngine('cedar', { create: toCedar, capabilities: { ask: false }, runner: { describe, it } });
 */
export function testPolicyEngine(name: string, options: TestPolicyEngineOptions): void {
  const runner = suiteRunner(options, 'testPolicyEngine');
  const { describe, it } = runner;
  const canAsk = options.capabilities?.ask !== false;
  describe(`PolicyEngine conformance: ${name}`, () => {
    for (const testCase of [...POLICY_CASES, ...(options.cases ?? [])]) {
      const needsAsk = testCase.rules.some((rule) => rule.effect === 'ask');
      if (needsAsk && !canAsk) {
        skippedTest(runner, testCase.name, 'needs ask');
        continue;
      }
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
        { id: 'k', effect: canAsk ? 'ask' : 'deny', tool: 'db.write' },
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
