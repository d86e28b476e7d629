// The conformance suite through the frameworks' own approval flows: the AI SDK's toolApproval
// round trip (the person answers with respondToApproval between two generateText calls) and the
// OpenAI Agents Runner's interruptions (answered with respondToApproval, then the run resumes).
// Asks go to the person through the framework; every other scenario runs as in-process.test.ts.
import { Agent, type AgentInputItem, run as runAgents, setTracingDisabled } from '@openai/agents';
import { assistantMessage, functionCall, ScriptedModel } from '@openai/agents/testing';
import { tool as aiTool, generateText, isStepCount, type ModelMessage, type ToolSet } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { beforeAll, expect } from 'vitest';
import {
  aiSdkApprover,
  guardTools as aiSdkGuardTools,
  respondToApproval as respondInAiSdk,
  toolApproval,
} from '../../src/adapters/ai-sdk/index.ts';
import {
  agentsApprover,
  respondToApproval as respondInAgents,
} from '../../src/adapters/openai-agents/index.ts';
import { scriptedModel, textResult, toolResultSeen } from '../adapters/ai-sdk-helpers.ts';
import { agentsGuardedTools } from './agents-tools.ts';
import { conformance, type Harness, type SuiteOutcome } from './harness.ts';

beforeAll(() => setTracingDisabled(true));

const DENIED = (code: string) => new RegExp(`toolgate denied \\S+ \\(${code}\\)`);

/** The person's answer for the harness's scenario. */
function answerOf(h: Harness) {
  return h.mode === 'reject'
    ? { approved: false, approver: 'ops:alice', reason: 'not this month' }
    : { approved: true, approver: 'ops:alice' };
}

const NO_EDIT = 'the framework’s approval answer is yes or no: it carries no edited arguments';
const NO_TIMEOUT =
  'the framework waits for the person between runs, outside any guarded call, so no approval timeout runs';

function aiSdkTools(h: Harness): ToolSet {
  const set: ToolSet = {};
  for (const t of h.tools)
    set[t.name] = aiTool({
      description: t.description,
      inputSchema: t.schema,
      execute: (input, options) => t.execute(input as never, { signal: options.abortSignal }),
    });
  return set;
}

conformance({
  name: 'AI SDK (toolApproval round trip with respondToApproval)',
  approver: () => aiSdkApprover(),
  notApplicable: { 'ask -> edit -> approve, re-decided': NO_EDIT, 'approval timeout': NO_TIMEOUT },
  async run(h, call) {
    const tools = aiSdkGuardTools(aiSdkTools(h), h.tg);
    const model = scriptedModel(call.tool, call.args);
    try {
      const first = await generateText({
        model,
        tools,
        toolApproval: toolApproval(h.tg),
        stopWhen: isStepCount(2),
        prompt: 'go',
        ...(call.signal ? { abortSignal: call.signal } : {}),
      });
      // A denial comes back as the SDK's own automatic request and response: only a person's request is answered.
      const request = first.content.find(
        (part): part is Extract<typeof part, { type: 'tool-approval-request' }> =>
          part.type === 'tool-approval-request' && (part as { isAutomatic?: boolean }).isAutomatic !== true,
      );
      if (request === undefined) {
        const seen = toolResultSeen(model.doGenerateCalls[1]?.prompt);
        return seen === undefined ? {} : { modelSaw: seen };
      }
      const response = await respondInAiSdk(tools, request, answerOf(h));
      const next = new MockLanguageModelV4({ doGenerate: [textResult('ok')] });
      await generateText({
        model: next,
        tools,
        toolApproval: toolApproval(h.tg),
        stopWhen: isStepCount(1),
        messages: [
          { role: 'user', content: 'go' },
          ...first.responseMessages,
          { role: 'tool', content: [response] } as ModelMessage,
        ],
      });
      return { modelSaw: toolResultSeen(next.doGenerateCalls[0]?.prompt) ?? '' };
    } catch (error) {
      return { error };
    }
  },
  expectDenial(outcome, code) {
    if (code === 'CANCELLED' && outcome.error !== undefined) {
      expect(String(outcome.error)).toContain('user pressed stop');
      return;
    }
    expect(outcome.error).toBeUndefined();
    expect(outcome.modelSaw).toContain('"type":"execution-denied"');
    expect(outcome.modelSaw).toMatch(DENIED(code));
  },
  expectToolError(outcome) {
    expect(outcome.modelSaw).toContain('the warehouse API is down');
  },
  expectResult(outcome, text) {
    expect(outcome.modelSaw).toContain(text);
  },
});

conformance({
  name: 'OpenAI Agents (Runner with interruptions)',
  approver: () => agentsApprover(),
  notApplicable: { 'ask -> edit -> approve, re-decided': NO_EDIT, 'approval timeout': NO_TIMEOUT },
  async run(h, call) {
    const model = new ScriptedModel([
      [functionCall(call.tool, call.args as never, { callId: 'c-1' })],
      [assistantMessage('done')],
    ]);
    const agent = new Agent({ name: 'suite', model, tools: agentsGuardedTools(h, { ask: 'interruption' }) });
    try {
      const first = await runAgents(agent, 'go', call.signal ? { signal: call.signal } : {});
      if (first.interruptions.length > 0) {
        await respondInAgents(first.state, first.interruptions[0]!, answerOf(h));
        await runAgents(agent, first.state);
      }
    } catch (error) {
      return { error };
    }
    const items = (model.lastCall?.request.input ?? []) as AgentInputItem[];
    const item = items.findLast((i) => (i as { type?: string }).type === 'function_call_result');
    return item === undefined
      ? {}
      : ({ modelSaw: JSON.stringify((item as { output?: unknown }).output) } as SuiteOutcome);
  },
  expectDenial(outcome, code) {
    if (code === 'CANCELLED' && outcome.error !== undefined) {
      expect(String(outcome.error)).toMatch(/abort|stop/i);
      return;
    }
    expect(outcome.error).toBeUndefined();
    expect(outcome.modelSaw).toMatch(DENIED(code));
  },
  expectToolError(outcome) {
    expect(outcome.modelSaw).toContain('An error occurred while running the tool');
  },
  expectResult(outcome, text) {
    expect(outcome.modelSaw).toContain(text);
  },
});
