import type { Decision, PolicyEngine } from '../../src/index.ts';

/** A tool spy: records every call with the args it received. */
export function spyTool<R = string>(result: R = 'ok' as R) {
  const calls: unknown[] = [];
  const fn = (args: unknown) => {
    calls.push(args);
    return result;
  };
  return { fn, calls };
}

/** A policy engine answering with a fixed value (or the result of a function). */
export function engine(
  answer: unknown | ((...args: unknown[]) => unknown),
  name = 'test-engine',
): PolicyEngine {
  return {
    name,
    evaluate: (request, options) =>
      (typeof answer === 'function' ? answer(request, options) : answer) as Decision,
  };
}

export const ALLOW: Decision = { type: 'allow', rules: ['r'] };
export const ASK: Decision = { type: 'ask', rules: ['k'], reason: 'needs a human' };
