// The AI SDK approval round trip through toolgate: a person's answer is recorded with who gave it
// (respondToApproval, recordApprovalResponses), answers given past the helper are detected, and
// wiring mistakes are reported once. Driven by the SDK's own MockLanguageModelV4.
import { generateText, isStepCount, type ModelMessage, type ToolSet, tool } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  aiSdkApprover,
  guardTools,
  recordApprovalResponses,
  respondToApproval,
  toolApproval,
} from '../../src/adapters/ai-sdk/index.ts';
import { type ApprovalProvider, autoApprove, createGuard, memoryAudit } from '../../src/index.ts';
import { multiCallModel, scriptedModel, textResult, toolResultSeen } from './ai-sdk-helpers.ts';
import { approvalPolicy, eventTypes, expectRejectionKept, watchWarnings } from './approval-fixtures.ts';

const policy = approvalPolicy();

function setup(approver: ApprovalProvider | 'none' = aiSdkApprover()) {
  const audit = memoryAudit();
  const tg = createGuard(approver === 'none' ? { policy, audit } : { policy, audit, approver });
  const warnings = watchWarnings(tg);
  const refunds: unknown[] = [];
  const tools = guardTools(
    {
      refund: tool({
        inputSchema: z.object({ amount: z.number() }),
        execute: async (input) => {
          refunds.push(input);
          return 'refunded';
        },
      }),
    },
    tg,
  );
  return { tg, audit, warnings, refunds, tools };
}

type Setup = ReturnType<typeof setup>;

/** First call: the SDK asks for approval and stops. */
async function ask(s: Setup, model = scriptedModel('refund', { amount: 500 })) {
  const first = await generateText({
    model,
    tools: s.tools,
    toolApproval: toolApproval(s.tg),
    stopWhen: isStepCount(3),
    prompt: 'refund it',
  });
  const requests = first.content.filter((part) => part.type === 'tool-approval-request');
  return { first, requests };
}

/** Second call: continues with the given answers; returns what the model was shown. */
async function resume(
  s: Setup,
  first: Awaited<ReturnType<typeof ask>>['first'],
  answers: ModelMessage['content'],
) {
  const messages: ModelMessage[] = [
    { role: 'user', content: 'refund it' },
    ...first.responseMessages,
    { role: 'tool', content: answers } as ModelMessage,
  ];
  const model = new MockLanguageModelV4({ doGenerate: [textResult('ok')] });
  await generateText({
    model,
    tools: s.tools,
    toolApproval: toolApproval(s.tg),
    stopWhen: isStepCount(1),
    messages,
  });
  return toolResultSeen(model.doGenerateCalls[0]?.prompt);
}

const types = eventTypes;

describe('respondToApproval (AI SDK)', () => {
  it('a rejection is recorded with who rejected it; the tool never runs; the model reads APPROVAL_DENIED', async () => {
    const s = setup();
    const { first, requests } = await ask(s);
    expect(s.audit.events).toEqual([]);
    const response = await respondToApproval(s.tools, requests[0]!, {
      approved: false,
      approver: 'user:ops-alice',
      reason: 'too much',
    });
    expect(response).toEqual({
      type: 'tool-approval-response',
      approvalId: requests[0]!.approvalId,
      approved: false,
      reason: 'toolgate denied refund (APPROVAL_DENIED): denied by user:ops-alice: too much',
    });
    expect(types(s.audit.events)).toEqual(['approval-request', 'approval-response', 'decision']);
    expect(s.audit.events[1]).toMatchObject({
      approved: false,
      approver: 'user:ops-alice',
      toolCallId: 'call-1',
    });
    expect(s.audit.events[2]).toMatchObject({
      decision: 'deny',
      policyDecision: 'ask',
      code: 'APPROVAL_DENIED',
    });
    const seen = await resume(s, first, [response]);
    expect(seen).toContain('execution-denied');
    expect(seen).toContain('APPROVAL_DENIED');
    expect(s.refunds).toEqual([]);
    // Recorded once: the continuation adds nothing, and nothing was bypassed.
    expect(s.audit.events).toHaveLength(3);
    expect(s.warnings).toEqual([]);
  });

  it('an approval is recorded with who approved it when the SDK runs the call', async () => {
    const s = setup();
    const { first, requests } = await ask(s);
    const response = await respondToApproval(s.tools, requests[0]!, {
      approved: true,
      approver: 'user:ops-alice',
    });
    expect(s.audit.events).toEqual([]);
    expect(await resume(s, first, [response])).toContain('refunded');
    expect(s.refunds).toEqual([{ amount: 500 }]);
    expect(s.audit.events.find((e) => e.type === 'approval-response')).toMatchObject({
      approved: true,
      approver: 'user:ops-alice',
    });
    expect(s.audit.events.find((e) => e.type === 'decision')).toMatchObject({
      decision: 'allow',
      approvers: ['user:ops-alice'],
    });
    expect(s.warnings).toEqual([]);
  });

  it('a recorded rejection cannot be turned into an approval afterwards', async () => {
    const s = setup();
    const { first, requests } = await ask(s);
    await respondToApproval(s.tools, requests[0]!, { approved: false, approver: 'user:ops-alice' });
    // The app (or a client) sends the SDK an approval for the same request anyway.
    await resume(s, first, [
      { type: 'tool-approval-response', approvalId: requests[0]!.approvalId, approved: true },
    ]);
    expect(s.refunds).toEqual([]);
    expectRejectionKept(s.audit.events, 'user:ops-alice');
  });

  it("the recorded identity is what the rule's approvers check", async () => {
    const s = setup();
    const { first, requests } = await ask(s);
    const response = await respondToApproval(s.tools, requests[0]!, {
      approved: true,
      approver: 'user:intern',
    });
    await resume(s, first, [response]);
    expect(s.refunds).toEqual([]);
    expect(s.audit.events.find((e) => e.type === 'decision')).toMatchObject({ decision: 'deny' });
  });

  it('answers given past the helper are recorded without identity and reported once', async () => {
    const s = setup();
    const { first, requests } = await ask(
      s,
      multiCallModel([
        { toolName: 'refund', input: { amount: 500 }, toolCallId: 'c-1' },
        { toolName: 'refund', input: { amount: 20 }, toolCallId: 'c-2' },
      ]),
    );
    expect(requests).toHaveLength(2);
    // The app builds the SDK's responses by hand: c-1 rejected, c-2 approved.
    await resume(s, first, [
      { type: 'tool-approval-response', approvalId: requests[0]!.approvalId, approved: false, reason: 'no' },
      { type: 'tool-approval-response', approvalId: requests[1]!.approvalId, approved: true },
    ]);
    const byCall = (id: string) => s.audit.events.filter((e) => e.toolCallId === id);
    // The rejection: recorded, identity unknown. Before toolgate saw it, it left no record at all.
    expect(types(byCall('c-1'))).toEqual(['approval-request', 'approval-response', 'decision']);
    expect(byCall('c-1')[1]).toMatchObject({ approved: false, approver: 'ai-sdk:user' });
    expect(byCall('c-1')[2]).toMatchObject({ decision: 'deny', code: 'APPROVAL_DENIED' });
    // The approval: not a person the rule's approvers accept, so denied.
    expect(byCall('c-2').find((e) => e.type === 'approval-response')).toMatchObject({
      approver: 'ai-sdk:user',
    });
    expect(s.refunds).toEqual([]);
    expect(s.warnings).toEqual([
      expect.objectContaining({ code: 'ANSWER_BYPASSED', source: 'ai-sdk', tool: 'refund' }),
    ]);
  });

  it('recordApprovalResponses records answers a client built (useChat) with the server’s identity', async () => {
    const s = setup();
    const { first, requests } = await ask(s);
    const messages: ModelMessage[] = [
      { role: 'user', content: 'refund it' },
      ...first.responseMessages,
      {
        role: 'tool',
        content: [
          {
            type: 'tool-approval-response',
            approvalId: requests[0]!.approvalId,
            approved: false,
            reason: 'no',
          },
        ],
      },
    ];
    await recordApprovalResponses(s.tools, messages, { approver: 'user:ops-bob' });
    await recordApprovalResponses(s.tools, messages, { approver: 'user:ops-bob' }); // idempotent
    expect(types(s.audit.events)).toEqual(['approval-request', 'approval-response', 'decision']);
    expect(s.audit.events[1]).toMatchObject({ approved: false, approver: 'user:ops-bob' });
    const model = new MockLanguageModelV4({ doGenerate: [textResult('ok')] });
    await generateText({ model, tools: s.tools, toolApproval: toolApproval(s.tg), messages });
    expect(s.audit.events).toHaveLength(3);
    expect(s.warnings).toEqual([]);
  });

  it('leaves tools guardTools did not wrap alone and refuses malformed answers', async () => {
    const s = setup();
    const plain: ToolSet = { other: tool({ inputSchema: z.object({}), execute: async () => 'x' }) };
    const request = { approvalId: 'a-1', toolCall: { toolName: 'other', toolCallId: 'c', input: {} } };
    expect(await respondToApproval(plain, request, { approved: true, approver: 'user:1' })).toEqual({
      type: 'tool-approval-response',
      approvalId: 'a-1',
      approved: true,
    });
    expect(s.audit.events).toEqual([]);
    await expect(
      respondToApproval(s.tools, request, { approved: 'yes', approver: 'x' } as never),
    ).rejects.toThrow(/approved must be true or false/);
    await expect(respondToApproval(s.tools, request, { approved: true, approver: ' ' })).rejects.toThrow(
      /approver must name who answered/,
    );
  });
});

describe('wiring mistakes are reported once (AI SDK)', () => {
  it('no toolApproval(tg) while a guarded tool asks: NO_TOOL_APPROVAL, once', async () => {
    const s = setup();
    for (let i = 0; i < 2; i++)
      await generateText({
        model: scriptedModel('refund', { amount: 5 }),
        tools: s.tools,
        stopWhen: isStepCount(2),
        prompt: 'go',
      });
    expect(s.refunds).toEqual([]);
    expect(s.warnings).toEqual([
      expect.objectContaining({
        code: 'NO_TOOL_APPROVAL',
        source: 'ai-sdk',
        tool: 'refund',
        toolCallId: 'call-1',
      }),
    ]);
  });

  it("ask: 'guard' with aiSdkApprover() and no fallback: NO_FRAMEWORK_ANSWER", async () => {
    const s = setup();
    await generateText({
      model: scriptedModel('refund', { amount: 5 }),
      tools: s.tools,
      toolApproval: toolApproval(s.tg, { ask: 'guard' }),
      stopWhen: isStepCount(2),
      prompt: 'go',
    });
    expect(s.warnings.map((w) => w.code)).toEqual(['NO_FRAMEWORK_ANSWER']);
  });

  it('an ask but the guard has no approver: denied before a person is asked, NO_APPROVER', async () => {
    const s = setup('none');
    const { first, requests } = await ask(s);
    // The dry run answers NO_APPROVER: the SDK shows its denied state, no one is asked.
    expect(requests.map((request) => request.isAutomatic)).toEqual([true]);
    expect(first.content.find((part) => part.type === 'tool-approval-response')).toMatchObject({
      approved: false,
    });
    expect(s.refunds).toEqual([]);
    expect(s.warnings.map((w) => w.code)).toEqual(['NO_APPROVER']);
    expect(s.audit.events.filter((e) => e.type === 'decision').map((e) => e.code)).toEqual(['NO_APPROVER']);
    // Nothing is left for a person to answer: answering it anyway is refused, and records nothing more.
    await expect(
      respondToApproval(s.tools, requests[0]!, { approved: false, approver: 'user:ops-alice' }),
    ).rejects.toThrow(/automatic/);
    expect(s.audit.events.filter((e) => e.type === 'decision')).toHaveLength(1);
  });

  it('a person answered in the AI SDK but the guard asked its own approver: APPROVER_NOT_ADAPTER', async () => {
    const s = setup(autoApprove({ approver: 'user:ops-bot' }));
    const { first, requests } = await ask(s);
    await resume(s, first, [
      await respondToApproval(s.tools, requests[0]!, { approved: true, approver: 'user:ops-alice' }),
    ]);
    expect(s.warnings.map((w) => w.code)).toEqual(['APPROVER_NOT_ADAPTER']);
  });

  it('a tool guardTools did not wrap is denied by toolApproval(tg) and reported: UNGUARDED_TOOL', async () => {
    const s = setup();
    let ran = 0;
    const unguarded = {
      wipe: tool({
        inputSchema: z.object({ amount: z.number() }),
        execute: async () => {
          ran += 1;
          return 'x';
        },
      }),
    };
    await generateText({
      model: scriptedModel('wipe', { amount: 5 }),
      tools: unguarded,
      toolApproval: toolApproval(s.tg),
      stopWhen: isStepCount(2),
      prompt: 'go',
    });
    expect(ran).toBe(0);
    expect(s.warnings.map((w) => w.code)).toEqual(['UNGUARDED_TOOL']);
  });
});
