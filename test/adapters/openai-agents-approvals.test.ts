// OpenAI Agents interruptions through toolgate: a person's answer is recorded with who gave it
// (respondToApproval), answers given with state.approve()/reject() directly are detected and still
// recorded, and wiring mistakes are reported once. Driven by the SDK's own ScriptedModel.
import { Agent, type AgentInputItem, RunState, run, setTracingDisabled, tool } from '@openai/agents';
import { assistantMessage, functionCall, ScriptedModel } from '@openai/agents/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agentsApprover, guardTool, respondToApproval } from '../../src/adapters/openai-agents/index.ts';
import { type ApprovalProvider, autoApprove, createGuard, memoryAudit } from '../../src/index.ts';
import { approvalPolicy, eventTypes, expectRejectionKept, watchWarnings } from './approval-fixtures.ts';

beforeAll(() => setTracingDisabled(true));

const policy = approvalPolicy();

function setup(
  options: { approver?: ApprovalProvider | 'none'; ask?: 'guard' | 'interruption'; calls?: number } = {},
) {
  const audit = memoryAudit();
  const approver = options.approver ?? agentsApprover();
  const tg = createGuard(approver === 'none' ? { policy, audit } : { policy, audit, approver });
  const warnings = watchWarnings(tg);
  const refunds: unknown[] = [];
  const refund = guardTool(
    tool({
      name: 'refund',
      description: 'Refund',
      parameters: z.object({ amount: z.number() }),
      execute: async (input) => {
        refunds.push(input);
        return 'refunded';
      },
    }),
    tg,
    { ask: options.ask ?? 'interruption' },
  );
  const calls = Array.from({ length: options.calls ?? 1 }, (_, i) =>
    functionCall('refund', { amount: 500 + i }, { callId: `c-${i + 1}` }),
  );
  const model = new ScriptedModel([calls, [assistantMessage('done')]]);
  const agent = new Agent({ name: 'support', model, tools: [refund] });
  return { tg, audit, warnings, refunds, agent, model };
}

function outputSeen(model: ScriptedModel): string {
  const items = (model.lastCall?.request.input ?? []) as AgentInputItem[];
  return JSON.stringify(items.filter((i) => (i as { type?: string }).type === 'function_call_result'));
}

const types = eventTypes;
const settled = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('respondToApproval (OpenAI Agents)', () => {
  it('a rejection is recorded with who rejected it; the tool never runs; the model reads APPROVAL_DENIED', async () => {
    const s = setup();
    const first = await run(s.agent, 'refund');
    expect(first.interruptions).toHaveLength(1);
    await respondToApproval(first.state, first.interruptions[0]!, {
      approved: false,
      approver: 'user:ops-alice',
      reason: 'too much',
    });
    expect(types(s.audit.events)).toEqual(['approval-request', 'approval-response', 'decision']);
    expect(s.audit.events[1]).toMatchObject({
      approved: false,
      approver: 'user:ops-alice',
      toolCallId: 'c-1',
    });
    expect(s.audit.events[2]).toMatchObject({ decision: 'deny', code: 'APPROVAL_DENIED' });
    const second = await run(s.agent, first.state);
    expect(second.finalOutput).toBe('done');
    expect(s.refunds).toEqual([]);
    expect(outputSeen(s.model)).toContain('toolgate denied refund (APPROVAL_DENIED)');
    expect(s.audit.events).toHaveLength(3);
    expect(s.warnings).toEqual([]);
  });

  it('an approval is recorded with who approved it when the resumed run calls the tool', async () => {
    const s = setup();
    const first = await run(s.agent, 'refund');
    await respondToApproval(first.state, first.interruptions[0]!, {
      approved: true,
      approver: 'user:ops-alice',
    });
    await run(s.agent, first.state);
    expect(s.refunds).toEqual([{ amount: 500 }]);
    expect(s.audit.events.find((e) => e.type === 'decision')).toMatchObject({
      decision: 'allow',
      approvers: ['user:ops-alice'],
    });
    expect(s.warnings).toEqual([]);
  });

  it('a recorded rejection cannot be turned into an approval afterwards', async () => {
    const s = setup();
    const first = await run(s.agent, 'refund');
    const [item] = first.interruptions;
    await respondToApproval(first.state, item!, { approved: false, approver: 'user:ops-alice' });
    first.state.approve(item!); // overrides the rejection in the SDK's state
    await run(s.agent, first.state);
    expect(s.refunds).toEqual([]);
    expectRejectionKept(s.audit.events, 'user:ops-alice');
  });

  it('works on a state restored with RunState.fromString', async () => {
    const s = setup();
    const first = await run(s.agent, 'refund');
    const restored = await RunState.fromString(s.agent, first.state.toString());
    const [item] = restored.getInterruptions();
    await respondToApproval(restored, item!, { approved: true, approver: 'user:ops-bob' });
    await run(s.agent, restored);
    expect(s.refunds).toEqual([{ amount: 500 }]);
    expect(s.audit.events.find((e) => e.type === 'approval-response')).toMatchObject({
      approver: 'user:ops-bob',
    });
  });

  it('always: later calls of the tool in the run are approved by the same person', async () => {
    const s = setup({ calls: 2 });
    const first = await run(s.agent, 'refund');
    expect(first.interruptions).toHaveLength(2);
    await respondToApproval(first.state, first.interruptions[0]!, {
      approved: true,
      approver: 'user:ops-alice',
      always: true,
    });
    await run(s.agent, first.state);
    expect(s.refunds).toHaveLength(2);
    expect(s.audit.events.filter((e) => e.type === 'decision')).toMatchObject([
      { decision: 'allow', approvers: ['user:ops-alice'] },
      { decision: 'allow', approvers: ['user:ops-alice'] },
    ]);
    await expect(
      respondToApproval(first.state, first.interruptions[0]!, {
        approved: false,
        approver: 'x',
        always: true,
      }),
    ).rejects.toThrow(/approvals only/);
  });

  it('state.reject() past the helper is still recorded (identity unknown) and reported once', async () => {
    const s = setup();
    const first = await run(s.agent, 'refund');
    first.state.reject(first.interruptions[0]!, { message: 'no' });
    await settled();
    // Before toolgate watched rejectTool, this left no record at all.
    expect(types(s.audit.events)).toEqual(['approval-request', 'approval-response', 'decision']);
    expect(s.audit.events[1]).toMatchObject({ approved: false, approver: 'openai-agents:user' });
    expect(s.audit.events[2]).toMatchObject({ decision: 'deny', code: 'APPROVAL_DENIED' });
    await run(s.agent, first.state);
    expect(s.refunds).toEqual([]);
    expect(s.warnings).toEqual([
      expect.objectContaining({ code: 'ANSWER_BYPASSED', source: 'openai-agents' }),
    ]);
  });

  it('state.approve() past the helper is recorded as openai-agents:user, which the approvers rule refuses', async () => {
    const s = setup();
    const first = await run(s.agent, 'refund');
    first.state.approve(first.interruptions[0]!);
    await run(s.agent, first.state);
    expect(s.refunds).toEqual([]);
    expect(s.audit.events.find((e) => e.type === 'approval-response')).toMatchObject({
      approver: 'openai-agents:user',
    });
    expect(s.warnings.map((w) => w.code)).toEqual(['ANSWER_BYPASSED']);
  });
});

describe('wiring mistakes are reported once (OpenAI Agents)', () => {
  it("agentsApprover() without ask: 'interruption': NO_FRAMEWORK_ANSWER, once", async () => {
    const s = setup({ ask: 'guard' });
    await run(s.agent, 'refund');
    await run(
      new Agent({
        name: 'again',
        model: new ScriptedModel([
          [functionCall('refund', { amount: 1 }, { callId: 'c-9' })],
          [assistantMessage('x')],
        ]),
        tools: s.agent.tools,
      }),
      'refund',
    );
    expect(s.refunds).toEqual([]);
    expect(s.warnings).toEqual([
      expect.objectContaining({ code: 'NO_FRAMEWORK_ANSWER', source: 'openai-agents', tool: 'refund' }),
    ]);
  });

  it('an ask but the guard has no approver: denied before a person is asked, NO_APPROVER', async () => {
    const s = setup({ approver: 'none' });
    const first = await run(s.agent, 'refund');
    // The dry run answers NO_APPROVER: no interruption, the guarded invoke denies and records.
    expect(first.interruptions).toEqual([]);
    expect(s.refunds).toEqual([]);
    expect(s.warnings.map((w) => w.code)).toEqual(['NO_APPROVER']);
    expect(s.audit.events.filter((e) => e.type === 'decision').map((e) => e.code)).toEqual(['NO_APPROVER']);
  });

  it('a person answered in the SDK but the guard asked its own approver: APPROVER_NOT_ADAPTER', async () => {
    const s = setup({ approver: autoApprove({ approver: 'user:ops-bot' }) });
    const first = await run(s.agent, 'refund');
    await respondToApproval(first.state, first.interruptions[0]!, {
      approved: true,
      approver: 'user:ops-alice',
    });
    await run(s.agent, first.state);
    expect(s.warnings.map((w) => w.code)).toEqual(['APPROVER_NOT_ADAPTER']);
  });
});
