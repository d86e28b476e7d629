import { Agent, type AgentInputItem, type FunctionTool, run, setTracingDisabled, tool } from '@openai/agents';
import { assistantMessage, functionCall, ScriptedModel } from '@openai/agents/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agentsApprover, guardTool, guardTools } from '../../src/adapters/openai-agents/index.ts';
import { createGuard, memoryAudit, rules, ToolDeniedError } from '../../src/index.ts';
import { runAdapterScenarios, type ScenarioTool } from './scenarios.ts';

beforeAll(() => setTracingDisabled(true));

function toAgentsTools(tools: readonly ScenarioTool[]): FunctionTool[] {
  return tools.map(
    (t) =>
      tool({
        name: t.name,
        description: t.description,
        parameters: t.schema as z.ZodObject,
        execute: (input, _context, details) => t.execute(input as never, { signal: details?.signal }),
      }) as unknown as FunctionTool,
  );
}

/** The output of the function call the model was shown next. */
function outputSeen(items: readonly AgentInputItem[]): string | undefined {
  const item = items.findLast((i) => (i as { type?: string }).type === 'function_call_result') as
    | { output?: unknown }
    | undefined;
  return item === undefined ? undefined : JSON.stringify(item.output);
}

function scripted(toolName: string, args: unknown, callId = 'c-1') {
  return new ScriptedModel([[functionCall(toolName, args as never, { callId })], [assistantMessage('done')]]);
}

runAdapterScenarios({
  name: 'openai-agents guardTool + run',
  contextFunction: true,
  async run(setup, call) {
    const model = scripted(call.tool, call.args);
    const agent = new Agent({
      name: 'scenario',
      model,
      tools: guardTools(toAgentsTools(setup.tools), setup.tg, { context: setup.contextFunction as never }),
    });
    try {
      await run(agent, 'go', call.signal ? { signal: call.signal } : {});
    } catch (error) {
      return { error };
    }
    const seen = outputSeen(model.lastCall?.request.input as AgentInputItem[]);
    return seen === undefined ? {} : { modelSaw: seen };
  },
});

const policy = rules([
  { id: 'weather', effect: 'allow', tool: 'weather' },
  { id: 'refunds', effect: 'ask', tool: 'refund', reason: 'refunds need a human' },
  { id: 'no-rm', effect: 'deny', tool: 'rm', reason: 'never' },
]);

describe('guardTool', () => {
  it('keeps every field but invoke', () => {
    const tg = createGuard({ policy });
    const weather = tool({
      name: 'weather',
      description: 'Weather by city',
      parameters: z.object({ city: z.string() }),
      execute: async () => 'sunny',
    });
    const guarded = guardTool(weather, tg);
    expect(guarded).not.toBe(weather);
    expect({ ...guarded, invoke: undefined }).toEqual({ ...weather, invoke: undefined });
  });

  it('passes the call id and host identity from the run context; the model cannot set it', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy, audit });
    let seen: unknown;
    const weather = guardTool(
      tool({
        name: 'weather',
        description: 'w',
        parameters: z.object({ city: z.string() }),
        execute: async (input) => {
          seen = input;
          return 'sunny';
        },
      }),
      tg,
      { context: (runContext) => ({ principal: (runContext.context as { user: string }).user }) },
    );
    const agent = new Agent({
      name: 'a',
      model: scripted('weather', { city: 'Oslo' }, 'call-42'),
      tools: [weather],
    });
    const result = await run(agent, 'go', { context: { user: 'user:9' } });
    expect(result.finalOutput).toBe('done');
    expect(seen).toEqual({ city: 'Oslo' });
    expect(audit.events.find((e) => e.type === 'decision')).toMatchObject({
      toolCallId: 'call-42',
      principal: 'user:9',
      decision: 'allow',
    });
  });

  it('invalid JSON arguments are denied (INVALID_ARGS) and recorded, not run', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy, audit });
    let ran = 0;
    const weather = guardTool(
      tool({
        name: 'weather',
        description: 'w',
        parameters: z.object({ city: z.string() }),
        execute: async () => {
          ran += 1;
          return 'sunny';
        },
      }),
      tg,
    );
    const output = await weather.invoke({ isToolApproved: () => undefined } as never, '{not json');
    expect(output).toContain('INVALID_ARGS');
    expect(ran).toBe(0);
    expect(audit.events).toMatchObject([{ type: 'decision', decision: 'deny', code: 'INVALID_ARGS' }]);
  });

  it("onDeny: 'throw' fails the tool call with the guard's error", async () => {
    const tg = createGuard({ policy });
    const rm = guardTool(
      tool({
        name: 'rm',
        description: 'rm',
        parameters: z.object({ path: z.string() }),
        execute: async () => 'gone',
        errorFunction: null,
      }),
      tg,
      { onDeny: 'throw' },
    );
    const error = await rm
      .invoke({ isToolApproved: () => undefined } as never, '{"path":"/"}')
      .catch((e: unknown) => e);
    expect(ToolDeniedError.isInstance(error)).toBe(true);
  });
});

// Approvals through interruptions, answered with respondToApproval: openai-agents-approvals.test.ts.
describe("ask: 'interruption' (the SDK's own approvals)", () => {
  it('allowed and denied calls do not interrupt', async () => {
    const tg = createGuard({ policy, approver: agentsApprover() });
    const weather = guardTool(
      tool({
        name: 'weather',
        description: 'w',
        parameters: z.object({ city: z.string() }),
        execute: async () => 'sunny',
      }),
      tg,
      { ask: 'interruption' },
    );
    const result = await run(
      new Agent({ name: 'a', model: scripted('weather', { city: 'a' }), tools: [weather] }),
      'go',
    );
    expect(result.interruptions).toHaveLength(0);
    expect(result.finalOutput).toBe('done');
  });

  it('without the interruption, the SDK approver denies the ask', async () => {
    const tg = createGuard({ policy, approver: agentsApprover() });
    let ran = 0;
    const refund = guardTool(
      tool({
        name: 'refund',
        description: 'r',
        parameters: z.object({ amount: z.number() }),
        execute: async () => {
          ran += 1;
          return 'refunded';
        },
      }),
      tg,
    );
    const model = scripted('refund', { amount: 5 });
    await run(new Agent({ name: 'a', model, tools: [refund] }), 'go');
    expect(ran).toBe(0);
    expect(outputSeen(model.lastCall?.request.input as AgentInputItem[])).toContain('APPROVAL_DENIED');
  });
});
