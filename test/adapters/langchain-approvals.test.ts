// LangGraph interrupts through toolgate: a person's decision is recorded with who gave it
// (respondToApproval), hand-built decisions are detected, and wiring mistakes are reported once.
// Driven by LangChain's fakeModel with createAgent and a MemorySaver checkpointer.
import { AIMessage, type BaseMessage, ToolMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { tool } from '@langchain/core/tools';
import { Command, MemorySaver } from '@langchain/langgraph';
import { createAgent } from 'langchain';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  langchainApprover,
  respondToApproval,
  toolgateMiddleware,
} from '../../src/adapters/langchain/index.ts';
import { createGuard, memoryAudit } from '../../src/index.ts';
import { approvalPolicy, eventTypes, watchWarnings } from './approval-fixtures.ts';

const policy = approvalPolicy();

function setup(ask: 'guard' | 'interrupt' = 'interrupt', rounds = 1) {
  const audit = memoryAudit();
  const tg = createGuard({ policy, audit, approver: langchainApprover() });
  const warnings = watchWarnings(tg);
  const refunds: unknown[] = [];
  const refund = tool(
    async (input) => {
      refunds.push(input);
      return 'refunded';
    },
    { name: 'refund', schema: z.object({ amount: z.number() }) },
  );
  let model = fakeModel();
  for (let i = 0; i < rounds; i++)
    model = model
      .respondWithTools([{ name: 'refund', args: { amount: 500 }, id: `tc-${i + 1}` }])
      .respond(new AIMessage('done'));
  const agent = createAgent({
    model,
    tools: [refund],
    middleware: [toolgateMiddleware(tg, { ask })],
    checkpointer: new MemorySaver(),
  });
  return { tg, audit, warnings, refunds, agent };
}

const config = (thread: string) => ({ configurable: { thread_id: thread } });
const types = eventTypes;
const lastToolMessage = (messages: readonly BaseMessage[]) =>
  messages.findLast((m): m is ToolMessage => ToolMessage.isInstance(m));

async function interrupted(s: ReturnType<typeof setup>, thread: string) {
  const first = await s.agent.invoke({ messages: [{ role: 'user', content: 'refund' }] }, config(thread));
  const interrupts = (first as { __interrupt__?: { id?: string; value: unknown }[] }).__interrupt__ ?? [];
  return interrupts[0];
}

describe('respondToApproval (LangChain)', () => {
  it("the interrupt carries toolgate's call id next to the human-in-the-loop payload", async () => {
    const s = setup();
    const pending = await interrupted(s, 'p');
    expect(pending?.value).toMatchObject({
      actionRequests: [{ name: 'refund', args: { amount: 500 } }],
      toolgate: { toolCallId: 'tc-1', tool: 'refund' },
    });
  });

  it.each([
    ['approve', { approved: true, approver: 'user:ops-alice' }, [{ amount: 500 }], 'allow'],
    ['edit', { approved: true, approver: 'user:ops-alice', args: { amount: 50 } }, [{ amount: 50 }], 'allow'],
    ['reject', { approved: false, approver: 'user:ops-alice', reason: 'too much' }, [], 'deny'],
  ] as const)('%s: recorded with who answered', async (label, answer, expected, decision) => {
    const s = setup();
    const pending = await interrupted(s, `t-${label}`);
    const resume = respondToApproval(pending, answer);
    const second = await s.agent.invoke(new Command({ resume }), config(`t-${label}`));
    expect(s.refunds).toEqual(expected);
    expect(types(s.audit.events).slice(0, 3)).toEqual(['approval-request', 'approval-response', 'decision']);
    expect(s.audit.events.find((e) => e.type === 'approval-response')).toMatchObject({
      approved: answer.approved,
      approver: 'user:ops-alice',
    });
    expect(s.audit.events.filter((e) => e.type === 'decision')).toMatchObject([
      { decision, policyDecision: 'ask' },
    ]);
    if (decision === 'deny') {
      expect(lastToolMessage(second.messages)).toMatchObject({ status: 'error' });
      expect(String(lastToolMessage(second.messages)?.content)).toContain('APPROVAL_DENIED');
    }
    expect(s.warnings).toEqual([]);
  });

  it('a hand-built decision is recorded as langchain:user (refused by the approvers rule) and reported once', async () => {
    const s = setup();
    await interrupted(s, 'h');
    await s.agent.invoke(new Command({ resume: { decisions: [{ type: 'approve' }] } }), config('h'));
    expect(s.refunds).toEqual([]);
    expect(s.audit.events.find((e) => e.type === 'approval-response')).toMatchObject({
      approver: 'langchain:user',
    });
    expect(s.warnings).toEqual([expect.objectContaining({ code: 'ANSWER_BYPASSED', source: 'langchain' })]);
  });

  it('a forged answer key is not an answer: identity unknown', async () => {
    const s = setup();
    await interrupted(s, 'f');
    const resume = { decisions: [{ type: 'approve', toolgateAnswer: 'made-up' }] };
    await s.agent.invoke(new Command({ resume }), config('f'));
    expect(s.refunds).toEqual([]);
    expect(s.audit.events.find((e) => e.type === 'approval-response')).toMatchObject({
      approver: 'langchain:user',
    });
  });

  it('an answer booked for another call is not used for this one', async () => {
    const s = setup();
    await interrupted(s, 'o');
    const other = respondToApproval(
      { value: { toolgate: { toolCallId: 'tc-other', tool: 'refund' } } },
      { approved: true, approver: 'user:ops-alice' },
    );
    await s.agent.invoke(new Command({ resume: other }), config('o'));
    expect(s.refunds).toEqual([]);
  });

  it('refuses malformed answers', () => {
    expect(() => respondToApproval(undefined, { approved: false, approver: 'a', args: { x: 1 } })).toThrow(
      /rejection/,
    );
    expect(() => respondToApproval(undefined, { approved: true, approver: '' })).toThrow(/approver/);
  });
});

describe('wiring mistakes are reported once (LangChain)', () => {
  it("langchainApprover() without ask: 'interrupt': NO_FRAMEWORK_ANSWER", async () => {
    const s = setup('guard', 2);
    await s.agent.invoke({ messages: [{ role: 'user', content: 'refund' }] }, config('g1'));
    await s.agent.invoke({ messages: [{ role: 'user', content: 'refund' }] }, config('g2'));
    expect(s.refunds).toEqual([]);
    expect(s.warnings).toEqual([
      expect.objectContaining({ code: 'NO_FRAMEWORK_ANSWER', source: 'langchain', tool: 'refund' }),
    ]);
  });
});
