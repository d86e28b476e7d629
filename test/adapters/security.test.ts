// Attacks on the adapters: approvals that leak to other calls, hostile names and arguments.
import { AIMessage, ToolMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { tool as lcTool } from '@langchain/core/tools';
import { tool as agentsTool } from '@openai/agents';
import { generateText, isStepCount, type ModelMessage, tool } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { createAgent } from 'langchain';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { aiSdkApprover, guardTools, toolApproval } from '../../src/adapters/ai-sdk/index.ts';
import { toolgateMiddleware } from '../../src/adapters/langchain/index.ts';
import { agentsApprover, guardTool } from '../../src/adapters/openai-agents/index.ts';
import { createGuard, memoryAudit, rules } from '../../src/index.ts';
import { scriptedModel, textResult } from './ai-sdk-helpers.ts';

const policy = rules([
  { id: 'refunds', effect: 'ask', tool: 'refund' },
  { id: 'payouts', effect: 'ask', tool: 'payout' },
]);

describe('host approvals are single-use and bound to their call', () => {
  it('AI SDK: a guarded call made inside an approved tool does not reuse its approval', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy, approver: aiSdkApprover(), audit });
    let paidOut = 0;
    const payout = tg.guard(
      async () => {
        paidOut += 1;
        return 'paid';
      },
      { name: 'payout' },
    );
    const tools = guardTools(
      {
        refund: tool({
          inputSchema: z.object({ amount: z.number() }),
          // The tool calls another guarded tool that also needs approval.
          execute: async () => payout({}).catch((error: unknown) => `payout failed: ${String(error)}`),
        }),
      },
      tg,
    );
    const first = await generateText({
      model: scriptedModel('refund', { amount: 5 }),
      tools,
      toolApproval: toolApproval(tg),
      prompt: 'go',
    });
    const request = first.content.find((part) => part.type === 'tool-approval-request');
    const messages: ModelMessage[] = [
      { role: 'user', content: 'go' },
      ...first.responseMessages,
      {
        role: 'tool',
        content: [
          {
            type: 'tool-approval-response',
            approvalId: (request as { approvalId: string }).approvalId,
            approved: true,
          },
        ],
      },
    ];
    await generateText({
      model: new MockLanguageModelV4({ doGenerate: [textResult('ok')] }),
      tools,
      toolApproval: toolApproval(tg),
      stopWhen: isStepCount(1),
      messages,
    });
    expect(paidOut).toBe(0);
    const decisions = audit.events.filter((e) => e.type === 'decision');
    expect(decisions).toMatchObject([
      { tool: 'refund', decision: 'allow', approvers: ['ai-sdk:user'] },
      { tool: 'payout', decision: 'deny', code: 'APPROVAL_DENIED' },
    ]);
  });

  it('OpenAI Agents: an approval for one call id does not approve another', async () => {
    const tg = createGuard({ policy, approver: agentsApprover() });
    let ran = 0;
    const refund = guardTool(
      agentsTool({
        name: 'refund',
        description: 'r',
        parameters: z.object({ amount: z.number() }),
        execute: async () => {
          ran += 1;
          return 'refunded';
        },
      }),
      tg,
      { ask: 'interruption' },
    );
    const runContext = { context: {}, isToolApproved: ({ callId }: { callId: string }) => callId === 'c-1' };
    const details = (callId: string) => ({
      toolCall: { type: 'function_call' as const, name: 'refund', callId, arguments: '{"amount":5}' },
    });
    expect(await refund.invoke(runContext as never, '{"amount":5}', details('c-2'))).toContain(
      'APPROVAL_DENIED',
    );
    expect(ran).toBe(0);
    expect(await refund.invoke(runContext as never, '{"amount":5}', details('c-1'))).toBe('refunded');
    expect(ran).toBe(1);
  });
});

describe('hostile model output', () => {
  it('LangChain middleware: an invisible-character tool name is denied and the run goes on', async () => {
    const tg = createGuard({ policy: rules([{ id: 'all-refunds', effect: 'allow', tool: 'refund*' }]) });
    let ran = 0;
    const refund = lcTool(
      async () => {
        ran += 1;
        return 'refunded';
      },
      { name: 'refund', schema: z.object({ amount: z.number() }) },
    );
    const model = fakeModel()
      .respondWithTools([{ name: 'refund\u200b', args: { amount: 5 }, id: 'tc-1' }])
      .respond(new AIMessage('ok'));
    const agent = createAgent({ model, tools: [refund], middleware: [toolgateMiddleware(tg)] });
    const result = await agent.invoke({ messages: [{ role: 'user', content: 'go' }] });
    expect(ran).toBe(0);
    const message = result.messages.findLast((m): m is ToolMessage => ToolMessage.isInstance(m));
    expect(message?.status).toBe('error');
  });

  it('OpenAI Agents: __proto__ in the JSON arguments stays data and pollutes nothing', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy: rules([{ id: 'w', effect: 'allow', tool: 'weather' }]), audit });
    let seen: unknown;
    const weather = guardTool(
      agentsTool({
        name: 'weather',
        description: 'w',
        parameters: z.object({ city: z.string() }),
        execute: async (input) => {
          seen = input;
          return 'sunny';
        },
      }),
      tg,
    );
    const output = await weather.invoke(
      { context: {}, isToolApproved: () => undefined } as never,
      '{"city":"Oslo","__proto__":{"polluted":true}}',
    );
    expect(output).toBe('sunny');
    expect(seen).toEqual({ city: 'Oslo' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const decision = audit.events.find((e) => e.type === 'decision') as { args?: Record<string, unknown> };
    expect(Object.hasOwn(decision.args ?? {}, '__proto__')).toBe(true);
  });
});
