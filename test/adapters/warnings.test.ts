// Wiring mistakes reach the developer once: a `warning` event per guard, kind and tool, and one
// process warning per kind; a throwing listener never breaks the call.
import { generateText, isStepCount, tool } from 'ai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { aiSdkApprover, guardTools } from '../../src/adapters/ai-sdk/index.ts';
import { createGuard, type GuardErrorEvent } from '../../src/index.ts';
import { scriptedModel } from './ai-sdk-helpers.ts';
import { approvalPolicy, watchWarnings } from './approval-fixtures.ts';

const printed: string[] = [];
const onWarning = (warning: Error & { code?: string }) => {
  if (warning.name === 'ToolgateWarning' && typeof warning.code === 'string') printed.push(warning.code);
};
beforeAll(() => {
  process.on('warning', onWarning);
});
afterAll(() => {
  process.off('warning', onWarning);
});

function guarded() {
  const tg = createGuard({ policy: approvalPolicy(), approver: aiSdkApprover() });
  const tools = guardTools(
    { refund: tool({ inputSchema: z.object({ amount: z.number() }), execute: async () => 'refunded' }) },
    tg,
  );
  return { tg, tools };
}

async function askWithoutToolApproval(tools: ReturnType<typeof guarded>['tools']) {
  await generateText({
    model: scriptedModel('refund', { amount: 5 }),
    tools,
    stopWhen: isStepCount(2),
    prompt: 'go',
  });
}

it('is reported once per guard as an event, and once per process as a ToolgateWarning', async () => {
  const a = guarded();
  const b = guarded();
  const seenA = watchWarnings(a.tg);
  const seenB = watchWarnings(b.tg);
  for (let i = 0; i < 3; i++) await askWithoutToolApproval(a.tools);
  await askWithoutToolApproval(b.tools);
  await new Promise((resolve) => setImmediate(resolve));
  expect(seenA.map((w) => w.code)).toEqual(['NO_TOOL_APPROVAL']);
  expect(seenB.map((w) => w.code)).toEqual(['NO_TOOL_APPROVAL']);
  expect(seenA[0]?.message).toMatch(/toolApproval: toolApproval\(tg\)/);
  expect(Object.isFrozen(seenA[0])).toBe(true);
  expect(printed).toEqual(['TOOLGATE_NO_TOOL_APPROVAL']);
});

it('a warning listener that throws raises an error event; the call is still decided', async () => {
  const { tg, tools } = guarded();
  const errors: GuardErrorEvent[] = [];
  tg.on('warning', () => {
    throw new Error('listener broke');
  });
  tg.on('error', (event) => errors.push(event));
  await askWithoutToolApproval(tools);
  expect(errors).toMatchObject([{ source: 'listener:warning' }]);
});
