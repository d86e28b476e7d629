import { AIMessage, type BaseMessage, ToolMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { type StructuredToolInterface, tool } from '@langchain/core/tools';
import { Command, MemorySaver } from '@langchain/langgraph';
import { createAgent } from 'langchain';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  guardTool,
  guardTools,
  langchainApprover,
  toolgateMiddleware,
} from '../../src/adapters/langchain/index.ts';
import { createGuard, memoryAudit, rules, ToolDeniedError } from '../../src/index.ts';
import { runAdapterScenarios, type ScenarioOutcome, type ScenarioTool } from './scenarios.ts';

function toLangChainTools(tools: readonly ScenarioTool[]): StructuredToolInterface[] {
  return tools.map((t) =>
    tool((input, config) => t.execute(input as never, { signal: config?.signal }), {
      name: t.name,
      description: t.description,
      schema: t.schema,
    }),
  );
}

function lastToolMessage(messages: readonly BaseMessage[]): ToolMessage | undefined {
  return messages.findLast((m): m is ToolMessage => ToolMessage.isInstance(m));
}

async function runAgent(
  agent: { invoke: (input: never, config?: never) => Promise<{ messages: BaseMessage[] }> },
  signal: AbortSignal | undefined,
): Promise<ScenarioOutcome> {
  try {
    const result = await agent.invoke(
      { messages: [{ role: 'user', content: 'go' }] } as never,
      (signal ? { signal } : {}) as never,
    );
    const message = lastToolMessage(result.messages);
    return message === undefined ? {} : { modelSaw: `${message.status}: ${String(message.content)}` };
  } catch (error) {
    return { error };
  }
}

runAdapterScenarios({
  name: 'langchain guardTools + createAgent',
  contextFunction: true,
  run(setup, call) {
    const model = fakeModel()
      .respondWithTools([{ name: call.tool, args: call.args, id: 'tc-1' }])
      .respond(new AIMessage('done'));
    const agent = createAgent({
      model,
      tools: guardTools(toLangChainTools(setup.tools), setup.tg, { context: setup.contextFunction as never }),
    });
    return runAgent(agent as never, call.signal);
  },
});

runAdapterScenarios({
  name: 'langchain toolgateMiddleware + createAgent',
  contextFunction: true,
  run(setup, call) {
    const model = fakeModel()
      .respondWithTools([{ name: call.tool, args: call.args, id: 'tc-1' }])
      .respond(new AIMessage('done'));
    const agent = createAgent({
      model,
      tools: toLangChainTools(setup.tools),
      middleware: [toolgateMiddleware(setup.tg, { context: setup.contextFunction as never })],
    });
    return runAgent(agent as never, call.signal);
  },
});

const policy = rules([
  { id: 'weather', effect: 'allow', tool: 'weather' },
  { id: 'refunds', effect: 'ask', tool: 'refund', reason: 'refunds need a human' },
  { id: 'no-rm', effect: 'deny', tool: 'rm', reason: 'never' },
]);

describe('guardTool', () => {
  const weatherSchema = z.object({ city: z.string() });

  it('keeps name, description, schema, returnDirect and metadata', () => {
    const tg = createGuard({ policy });
    const weather = tool(async () => 'sunny', {
      name: 'weather',
      description: 'Weather by city',
      schema: weatherSchema,
      returnDirect: true,
      metadata: { owner: 'team-a' },
    });
    const guarded = guardTool(weather, tg);
    expect(guarded.name).toBe('weather');
    expect(guarded.description).toBe('Weather by city');
    expect(guarded.schema).toBe(weatherSchema);
    expect(guarded.returnDirect).toBe(true);
    expect(guarded.metadata).toEqual({ owner: 'team-a' });
  });

  it('direct invoke: allow returns the output; deny returns the denial text, or a ToolMessage for a tool call', async () => {
    const tg = createGuard({ policy });
    let ran = 0;
    const make = (name: string) =>
      guardTool(
        tool(
          async ({ city }) => {
            ran += 1;
            return `sunny in ${city}`;
          },
          { name, schema: weatherSchema },
        ),
        tg,
      );
    expect(await make('weather').invoke({ city: 'Oslo' })).toBe('sunny in Oslo');
    expect(await make('rm').invoke({ city: 'Oslo' })).toBe('toolgate denied rm (DENIED_BY_RULE): never');
    const message = await make('rm').invoke({
      type: 'tool_call',
      id: 'tc-9',
      name: 'rm',
      args: { city: 'Oslo' },
    });
    expect(message).toBeInstanceOf(ToolMessage);
    expect(message).toMatchObject({ tool_call_id: 'tc-9', status: 'error' });
    expect(ran).toBe(1);
  });

  it("traces the original tool's run as a child of the guarded tool's run", async () => {
    const tg = createGuard({ policy });
    const runs: { runId: string; parentRunId: string | undefined }[] = [];
    const weather = guardTool(
      tool(async () => 'sunny', { name: 'weather', schema: weatherSchema }),
      tg,
    );
    await weather.invoke(
      { city: 'Oslo' },
      {
        callbacks: [
          {
            handleToolStart: (_t: unknown, _i: string, runId: string, parentRunId?: string) =>
              void runs.push({ runId, parentRunId }),
          },
        ],
      },
    );
    expect(runs).toHaveLength(2);
    expect(runs[1]?.parentRunId).toBe(runs[0]?.runId);
  });

  it("onDeny: 'throw' throws the guard's ToolDeniedError", async () => {
    const tg = createGuard({ policy });
    const rm = guardTool(
      tool(async () => 'gone', { name: 'rm', schema: weatherSchema }),
      tg,
      { onDeny: 'throw' },
    );
    await expect(rm.invoke({ city: 'x' })).rejects.toSatisfy((e: unknown) => ToolDeniedError.isInstance(e));
  });

  it('maps the name, and reads identity from the run context, not from the args', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy: rules([{ id: 'w', effect: 'allow', tool: 'weather.get' }]), audit });
    const weather = guardTool(
      tool(async () => 'sunny', { name: 'weather', schema: weatherSchema }),
      tg,
      {
        name: 'weather.get',
        context: (config) => ({ principal: String((config.context as { user?: string } | undefined)?.user) }),
      },
    );
    const model = fakeModel()
      .respondWithTools([{ name: 'weather', args: { city: 'Oslo' }, id: 'tc-5' }])
      .respond(new AIMessage('done'));
    const agent = createAgent({ model, tools: [weather], contextSchema: z.object({ user: z.string() }) });
    await agent.invoke({ messages: [{ role: 'user', content: 'go' }] }, { context: { user: 'user:7' } });
    expect(audit.events.find((e) => e.type === 'decision')).toMatchObject({
      tool: 'weather.get',
      decision: 'allow',
      principal: 'user:7',
      toolCallId: 'tc-5',
    });
  });
});

describe('toolgateMiddleware', () => {
  it('turns tool errors into error ToolMessages instead of failing the run', async () => {
    const tg = createGuard({ policy });
    const weather = tool(
      async () => {
        throw new Error('kaboom');
      },
      { name: 'weather', schema: z.object({ city: z.string() }) },
    );
    const model = fakeModel()
      .respondWithTools([{ name: 'weather', args: { city: 'a' }, id: 'tc-1' }])
      .respond(new AIMessage('ok'));
    const agent = createAgent({ model, tools: [weather], middleware: [toolgateMiddleware(tg)] });
    const result = await agent.invoke({ messages: [{ role: 'user', content: 'go' }] });
    expect(lastToolMessage(result.messages)).toMatchObject({ status: 'error' });
    expect(String(lastToolMessage(result.messages)?.content)).toContain('kaboom');
  });

  describe("ask: 'interrupt' (LangGraph human in the loop)", () => {
    function setup() {
      const audit = memoryAudit();
      const tg = createGuard({ policy, approver: langchainApprover(), audit });
      const refunds: unknown[] = [];
      const refund = tool(
        async (input) => {
          refunds.push(input);
          return 'refunded';
        },
        { name: 'refund', schema: z.object({ amount: z.number() }) },
      );
      const model = fakeModel()
        .respondWithTools([{ name: 'refund', args: { amount: 500 }, id: 'tc-1' }])
        .respond(new AIMessage('done'));
      const agent = createAgent({
        model,
        tools: [refund],
        middleware: [toolgateMiddleware(tg, { ask: 'interrupt' })],
        checkpointer: new MemorySaver(),
      });
      return { tg, audit, refunds, agent };
    }
    const config = (thread: string) => ({ configurable: { thread_id: thread } });

    it('interrupts with a HITL payload and runs nothing until resumed', async () => {
      const { agent, refunds } = setup();
      const first = await agent.invoke({ messages: [{ role: 'user', content: 'refund' }] }, config('t1'));
      const interrupts = (first as { __interrupt__?: { value: unknown }[] }).__interrupt__;
      expect(interrupts?.[0]?.value).toMatchObject({
        actionRequests: [
          { name: 'refund', args: { amount: 500 }, description: 'toolgate: refunds need a human' },
        ],
      });
      expect(refunds).toEqual([]);
    });

    it.each([
      ['approve', { type: 'approve' }, [{ amount: 500 }], 'success'],
      [
        'edit',
        { type: 'edit', editedAction: { name: 'refund', args: { amount: 50 } } },
        [{ amount: 50 }],
        'success',
      ],
      ['reject', { type: 'reject', message: 'too much' }, [], 'error'],
      ['garbage', { type: 'yes please' }, [], 'error'],
    ])('resume with %s', async (_label, decision, expected, status) => {
      const { agent, refunds, audit } = setup();
      await agent.invoke({ messages: [{ role: 'user', content: 'refund' }] }, config('t2'));
      const second = await agent.invoke(new Command({ resume: { decisions: [decision] } }), config('t2'));
      expect(refunds).toEqual(expected);
      expect(lastToolMessage(second.messages)).toMatchObject({ status });
      const decisions = audit.events.filter((e) => e.type === 'decision');
      expect(decisions).toHaveLength(1);
      expect(decisions[0]).toMatchObject({
        decision: status === 'success' ? 'allow' : 'deny',
        policyDecision: 'ask',
      });
    });

    it('without a checkpointer the run fails before the tool could run', async () => {
      const audit = memoryAudit();
      const tg = createGuard({ policy, approver: langchainApprover(), audit });
      let ran = 0;
      const refund = tool(
        async () => {
          ran += 1;
          return 'refunded';
        },
        { name: 'refund', schema: z.object({ amount: z.number() }) },
      );
      const model = fakeModel()
        .respondWithTools([{ name: 'refund', args: { amount: 5 }, id: 'tc-1' }])
        .respond(new AIMessage('ok'));
      const agent = createAgent({
        model,
        tools: [refund],
        middleware: [toolgateMiddleware(tg, { ask: 'interrupt' })],
      });
      const result = await agent
        .invoke({ messages: [{ role: 'user', content: 'go' }] })
        .catch((error: unknown) => ({ error }));
      // LangGraph refuses to interrupt without a checkpointer: the run fails, loudly, before the
      // tool could run, and the guard was never asked to run it.
      expect(ran).toBe(0);
      expect(result).toMatchObject({ error: { message: expect.stringMatching(/No checkpointer set/) } });
      expect(audit.events.filter((event) => event.type === 'decision')).toEqual([]);
    });
  });
});

describe('toolgateMiddleware: one tool object under two names', () => {
  it('guards each call under the name it was made with', async () => {
    // Before: the guarded caller was cached by tool object alone, so a tool reached under a second
    // name was decided under the first (allowed by `read`'s rule while `wipe` was denied).
    const audit = memoryAudit();
    const tg = createGuard({
      policy: rules([{ id: 'reads', effect: 'allow', tool: 'read' }]),
      audit,
      onDeny: 'return',
    });
    const shared = tool(async () => 'done', { name: 'read', description: 'r', schema: z.object({}) });
    const middleware = toolgateMiddleware(tg) as unknown as {
      wrapToolCall(request: unknown, handler: (request: unknown) => Promise<unknown>): Promise<unknown>;
    };
    let ran = 0;
    const handler = async () => {
      ran += 1;
      return new ToolMessage({ tool_call_id: 'c', content: 'done' });
    };
    const request = (name: string) => ({
      toolCall: { name, args: {}, id: `id-${name}` },
      tool: shared,
      runtime: {},
    });
    await middleware.wrapToolCall(request('read'), handler);
    const denied = (await middleware.wrapToolCall(request('wipe'), handler)) as ToolMessage;
    expect(ran).toBe(1);
    expect(String(denied.content)).toContain('NO_MATCHING_RULE');
    const decisions = audit.events.filter((e) => e.type === 'decision').map((e) => [e.tool, e.decision]);
    expect(decisions).toEqual([
      ['read', 'allow'],
      ['wipe', 'deny'],
    ]);
  });
});
