import { Agent, type AgentInputItem, type FunctionTool, run, setTracingDisabled, tool } from '@openai/agents';
import { assistantMessage, functionCall, ScriptedModel } from '@openai/agents/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  agentsApprover,
  guardedTool,
  guardTool,
  guardTools,
} from '../../src/adapters/openai-agents/index.ts';
import { callbackSecrets, createGuard, memoryAudit, rules, ToolDeniedError } from '../../src/index.ts';
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

// The SDK's tool() catches what execute throws inside its own invoke: a guarded copy of a finished
// tool sees the error function's text as a value. guardedTool builds the tool and sees the failure.
describe('guardedTool: a failing execute is recorded as an error', () => {
  const allowAll = rules([{ id: 'all', effect: 'allow', tool: '*' }]);
  const failing = {
    name: 'lookup',
    description: 'look up an order',
    parameters: z.object({ orderId: z.string() }),
    execute: async (): Promise<string> => {
      throw new Error('the warehouse API is down');
    },
  };
  const resultsOf = (audit: ReturnType<typeof memoryAudit>) =>
    audit.events
      .filter((e) => e.type === 'result' && e.tool !== 'pay')
      .map((e) => (e as { outcome?: string }).outcome);

  it('records the error, and the model reads the SDK’s default text (guardTool records ok)', async () => {
    for (const [build, expected] of [
      [(tg: ReturnType<typeof createGuard>) => guardedTool(failing, tg), 'error'],
      [(tg: ReturnType<typeof createGuard>) => guardTool(tool(failing), tg), 'ok'],
    ] as const) {
      const audit = memoryAudit();
      const tg = createGuard({ policy: allowAll, audit });
      const model = scripted('lookup', { orderId: 'o-1' });
      await run(new Agent({ name: 'a', model, tools: [build(tg) as unknown as FunctionTool] }), 'go');
      expect(outputSeen(model.lastCall?.request.input as AgentInputItem[])).toContain(
        'An error occurred while running the tool',
      );
      expect(resultsOf(audit)).toEqual([expected]);
    }
  });

  it('a custom errorFunction answers the model, scrubbed of the guard’s secrets', async () => {
    const SECRET = 'Zq7vT2mWp9xK4rLs8bNc3dFh';
    const audit = memoryAudit();
    const tg = createGuard({
      policy: allowAll,
      audit,
      secrets: { provider: callbackSecrets(() => ({ value: SECRET })), bindings: { k: { tools: ['pay'] } } },
    });
    // The guard hands the secret out to a tool of its own, so it knows to scrub it.
    await tg.guard((_args: object, { secrets }) => secrets.k!.length, { name: 'pay', secrets: ['k'] })({});
    const lookup = guardedTool(
      {
        ...failing,
        errorFunction: (_context, error) => `failed with ${SECRET}: ${(error as Error).message}`,
      },
      tg,
    );
    const output = await lookup.invoke({ isToolApproved: () => undefined } as never, '{"orderId":"o-1"}');
    expect(output).toContain('the warehouse API is down');
    expect(output).not.toContain(SECRET);
    expect(resultsOf(audit)).toEqual(['error']);
    expect(JSON.stringify(audit.events)).not.toContain(SECRET);
  });

  it('errorFunction: null throws, as the SDK does, and the error is recorded', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy: allowAll, audit });
    const lookup = guardedTool({ ...failing, errorFunction: null }, tg);
    const error = await lookup
      .invoke({ isToolApproved: () => undefined } as never, '{"orderId":"o-1"}')
      .catch((e: unknown) => e);
    expect(String(error)).toContain('the warehouse API is down');
    expect(resultsOf(audit)).toEqual(['error']);
  });

  it('arguments the SDK’s own parser refuses are recorded as an error, and the tool never runs', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy: allowAll, audit });
    let ran = 0;
    const strict = guardedTool(
      {
        name: 'lookup',
        description: 'look up an order',
        parameters: z.object({ orderId: z.string().min(3) }),
        execute: async () => {
          ran += 1;
          return 'found';
        },
      },
      tg,
    );
    const output = await strict.invoke({ isToolApproved: () => undefined } as never, '{"orderId":"o"}');
    expect(typeof output).toBe('string');
    expect(ran).toBe(0);
    expect(resultsOf(audit)).toEqual(['error']);
  });

  it('a call that succeeds is the same as with guardTool: its value, recorded ok', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy: allowAll, audit });
    const lookup = guardedTool(
      { ...failing, execute: async ({ orderId }) => `order ${orderId}: shipped` },
      tg,
      {
        name: 'orders.lookup',
      },
    );
    const model = scripted('lookup', { orderId: 'o-1' });
    await run(new Agent({ name: 'a', model, tools: [lookup] }), 'go');
    expect(outputSeen(model.lastCall?.request.input as AgentInputItem[])).toContain('order o-1: shipped');
    expect(resultsOf(audit)).toEqual(['ok']);
    expect(audit.events.find((e) => e.type === 'decision')).toMatchObject({ tool: 'orders.lookup' });
  });

  it('output its zod outputSchema refuses is recorded as an error; the model reads the error function’s answer', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy: allowAll, audit });
    const count = guardedTool(
      {
        name: 'count',
        description: 'count orders',
        parameters: z.object({}),
        outputSchema: z.object({ n: z.number() }),
        execute: async () => ({ n: 'many' }) as unknown as { n: number },
        errorFunction: () => ({ n: -1 }),
      },
      tg,
    );
    const output = await count.invoke({ isToolApproved: () => undefined } as never, '{}');
    expect(output).toEqual({ n: -1 });
    expect(resultsOf(audit)).toEqual(['error']);
  });

  it('an answer the SDK gives when its own timeoutMs passes (outside the runner) is recorded as an error', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy: allowAll, audit });
    let finished = false;
    const slow = guardedTool(
      {
        ...failing,
        timeoutMs: 20,
        execute: async () => {
          await new Promise((resolve) => setTimeout(resolve, 300));
          finished = true;
          return 'late';
        },
      },
      tg,
    );
    const output = await slow.invoke({ isToolApproved: () => undefined } as never, '{"orderId":"o-1"}');
    expect(String(output)).toMatch(/timed out/);
    expect(finished).toBe(false);
    expect(resultsOf(audit)).toEqual(['error']);
  });

  it('refuses options without an execute function', () => {
    const tg = createGuard({ policy: allowAll });
    expect(() => guardedTool({ name: 'x', description: 'x', parameters: z.object({}) } as never, tg)).toThrow(
      /execute function/,
    );
  });
});
