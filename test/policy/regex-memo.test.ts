import { describe, expect, test, vi } from 'vitest';
import * as engine from '../../src/policy/regex-run.ts';
import { rules } from '../../src/policy/rules.ts';
import type { Decision } from '../../src/types.ts';
import { request } from './helpers.ts';

function decide(engine: ReturnType<typeof rules>, req: ReturnType<typeof request>): Decision {
  return engine.evaluate(req, { signal: new AbortController().signal }) as Decision;
}

vi.mock('../../src/policy/regex-run.ts', async (original) => {
  const actual = await original<typeof import('../../src/policy/regex-run.ts')>();
  return { ...actual, run: vi.fn(actual.run) };
});

describe('matches: one run per value', () => {
  test('the explanation of a deny reuses the answer of the decision', () => {
    const policy = rules([
      { id: 'a', effect: 'allow', tool: 't', when: { 'args.s': { matches: '.{0,3000}x' } } },
    ]);
    const run = vi.mocked(engine.run);
    run.mockClear();
    const decision = decide(policy, request('t', { s: 'a'.repeat(4096) }));
    expect(decision.type).toBe('deny');
    expect(run).toHaveBeenCalledTimes(1);
    // Another value is tested afresh.
    expect(decide(policy, request('t', { s: 'ax' })).type).toBe('allow');
    expect(run).toHaveBeenCalledTimes(2);
  });
});
