import {
  generateText,
  isStepCount,
  type ModelMessage,
  readUIMessageStream,
  streamText,
  ToolLoopAgent,
  type ToolSet,
  tool,
  type UIMessage,
} from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { aiSdkApprover, guardTools, toolApproval } from '../../src/adapters/ai-sdk/index.ts';
import {
  autoApprove,
  callbackSecrets,
  createGuard,
  memoryAudit,
  rules,
  ToolDeniedError,
} from '../../src/index.ts';
import { scriptedModel, streamingModel, textResult, toolResultSeen } from './ai-sdk-helpers.ts';
import { runAdapterScenarios, type ScenarioTool } from './scenarios.ts';

function toAiSdkTools(tools: readonly ScenarioTool[]): ToolSet {
  const set: ToolSet = {};
  for (const t of tools) {
    set[t.name] = tool({
      description: t.description,
      inputSchema: t.schema,
      execute: (input, options) => t.execute(input as never, { signal: options.abortSignal }),
    });
  }
  return set;
}

runAdapterScenarios({
  name: 'ai-sdk generateText',
  contextFunction: true,
  async run(setup, call) {
    const model = scriptedModel(call.tool, call.args);
    try {
      await generateText({
        model,
        tools: guardTools(toAiSdkTools(setup.tools), setup.tg, { context: setup.contextFunction as never }),
        stopWhen: isStepCount(2),
        prompt: 'go',
        ...(call.signal ? { abortSignal: call.signal } : {}),
      });
    } catch (error) {
      return { error };
    }
    const seen = toolResultSeen(model.doGenerateCalls[1]?.prompt);
    return seen === undefined ? {} : { modelSaw: seen };
  },
});

runAdapterScenarios({
  name: 'ai-sdk streamText',
  contextFunction: true,
  async run(setup, call) {
    const model = streamingModel(call.tool, call.args);
    let error: unknown;
    const result = streamText({
      model,
      tools: guardTools(toAiSdkTools(setup.tools), setup.tg, { context: setup.contextFunction as never }),
      stopWhen: isStepCount(2),
      prompt: 'go',
      onError: ({ error: e }) => {
        error = e;
      },
      ...(call.signal ? { abortSignal: call.signal } : {}),
    });
    try {
      await result.consumeStream();
      await result.text;
    } catch (e) {
      error = e;
    }
    if (error !== undefined) return { error };
    const seen = toolResultSeen(model.doStreamCalls[1]?.prompt);
    return seen === undefined ? {} : { modelSaw: seen };
  },
});

describe('guardTools', () => {
  const policy = rules([
    { id: 'weather', effect: 'allow', tool: 'weather' },
    { id: 'refunds', effect: 'ask', tool: 'refund' },
    { id: 'no-rm', effect: 'deny', tool: 'rm', reason: 'never' },
  ]);
  const inputSchema = z.object({ city: z.string() });

  it('keeps every field but execute, and leaves tools without execute alone', () => {
    const tg = createGuard({ policy });
    const weather = tool({
      description: 'Weather',
      inputSchema,
      metadata: { source: 'test' },
      strict: true,
      execute: async () => 'sunny',
    });
    const clientSide = tool({ description: 'client', inputSchema, outputSchema: z.string() });
    const guarded = guardTools({ weather, clientSide }, tg);
    expect(guarded.weather).not.toBe(weather);
    expect(guarded.weather?.description).toBe('Weather');
    expect(guarded.weather?.inputSchema).toBe(inputSchema);
    expect(guarded.weather?.metadata).toEqual({ source: 'test' });
    expect(guarded.weather?.strict).toBe(true);
    expect(guarded.clientSide).toBe(clientSide);
  });

  it('passes toolCallId, abortSignal and the tool context through; identity comes from the host', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy, audit });
    const seen: Record<string, unknown>[] = [];
    const weather = tool({
      inputSchema,
      contextSchema: z.object({ userId: z.string() }),
      execute: async (input, options) => {
        seen.push({
          input,
          toolCallId: options.toolCallId,
          context: options.context,
          signal: options.abortSignal,
        });
        return 'sunny';
      },
    });
    const tools = guardTools({ weather }, tg, {
      context: ({ toolContext }) => ({
        agent: 'weather-bot',
        principal: `user:${(toolContext as { userId: string }).userId}`,
      }),
    });
    await generateText({
      model: scriptedModel('weather', { city: 'Oslo', principal: 'admin' }, 'call-77'),
      tools,
      toolsContext: { weather: { userId: '7' } },
      stopWhen: isStepCount(2),
      prompt: 'go',
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      input: { city: 'Oslo' },
      toolCallId: 'call-77',
      context: { userId: '7' },
    });
    expect(seen[0]?.signal).toBeInstanceOf(AbortSignal);
    expect(Object.isFrozen(seen[0]?.input)).toBe(true);
    const decision = audit.events.find((e) => e.type === 'decision');
    expect(decision).toMatchObject({ toolCallId: 'call-77', agent: 'weather-bot', principal: 'user:7' });
  });

  it("onDeny: 'throw' surfaces the guard's error to the SDK as a tool error", async () => {
    const tg = createGuard({ policy });
    const rm = tool({ inputSchema: z.object({ path: z.string() }), execute: async () => 'removed' });
    const model = scriptedModel('rm', { path: '/' });
    const result = await generateText({
      model,
      tools: guardTools({ rm }, tg, { onDeny: 'throw' }),
      stopWhen: isStepCount(2),
      prompt: 'go',
    });
    const error = result.steps[0]?.content.find((part) => part.type === 'tool-error');
    expect(ToolDeniedError.isInstance((error as { error?: unknown } | undefined)?.error)).toBe(true);
    expect(toolResultSeen(model.doGenerateCalls[1]?.prompt)).toContain('error-text');
  });

  it("works with a guard created with onDeny: 'return'", async () => {
    const tg = createGuard({ policy, onDeny: 'return' });
    const rm = tool({ inputSchema: z.object({ path: z.string() }), execute: async () => 'removed' });
    const model = scriptedModel('rm', { path: '/' });
    const result = await generateText({
      model,
      tools: guardTools({ rm }, tg),
      stopWhen: isStepCount(2),
      prompt: 'go',
    });
    expect(result.steps[0]?.toolResults[0]?.output).toMatchObject({ denied: true, code: 'DENIED_BY_RULE' });
    expect(toolResultSeen(model.doGenerateCalls[1]?.prompt)).toContain('execution-denied');
  });

  it('streams preliminary results of async generator tools only after an allow', async () => {
    const tg = createGuard({ policy });
    let ran = 0;
    const make = () =>
      tool({
        inputSchema,
        async *execute() {
          ran += 1;
          yield 'cloudy';
          yield 'sunny';
        },
      });
    const allowed = await generateText({
      model: scriptedModel('weather', { city: 'Oslo' }),
      tools: guardTools({ weather: make() }, tg),
      stopWhen: isStepCount(2),
      prompt: 'go',
    });
    expect(allowed.steps[0]?.toolResults[0]?.output).toBe('sunny');
    const denied = await generateText({
      model: scriptedModel('rm', { city: 'Oslo' }),
      tools: guardTools({ rm: make() }, tg),
      stopWhen: isStepCount(2),
      prompt: 'go',
    });
    expect(denied.steps[0]?.toolResults[0]?.output).toMatchObject({ denied: true, code: 'DENIED_BY_RULE' });
    expect(ran).toBe(1);
  });

  it('a streaming tool is scrubbed and recorded like any tool: its last chunk is the result', async () => {
    // Before: the guard saw the generator object (recorded as an empty object, scrubbed as
    // nothing) and the SDK read the chunks straight from the tool, secrets and all.
    const SECRET = 'Zq7vT2mWp9xK4rLs8bNc3dFh';
    const audit = memoryAudit();
    const tg = createGuard({
      policy: rules([{ id: 'all', effect: 'allow', tool: '*' }]),
      audit,
      secrets: { provider: callbackSecrets(() => ({ value: SECRET })), bindings: { k: { tools: ['pay'] } } },
    });
    // The guard hands the secret out to a tool of its own, so it knows to scrub it.
    await tg.guard((_args: object, { secrets }) => secrets.k!.length, { name: 'pay', secrets: ['k'] })({});
    let finished = false;
    const report = tool({
      inputSchema: z.object({}),
      async *execute() {
        try {
          yield { status: `working with ${SECRET}` };
          yield { status: 'half way' };
          yield { status: `done with ${SECRET}`, rows: 3 };
        } finally {
          finished = true;
        }
      },
    });
    const model = streamingModel('report', {});
    const result = streamText({
      model,
      tools: guardTools({ report }, tg),
      stopWhen: isStepCount(2),
      prompt: 'go',
    });
    const results: { preliminary: boolean | undefined; output: unknown }[] = [];
    for await (const part of result.fullStream)
      if (part.type === 'tool-result') results.push({ preliminary: part.preliminary, output: part.output });
    // Preliminary results still stream, scrubbed (the SDK repeats the last yield as the final
    // result); the final one is the guard's finished result.
    expect(results.filter((r) => r.preliminary === true).map((r) => r.output)).toEqual([
      { status: 'working with [secret:k]' },
      { status: 'half way' },
      { status: 'done with [secret:k]', rows: 3 },
    ]);
    expect(results.filter((r) => r.preliminary !== true).map((r) => r.output)).toEqual([
      { status: 'done with [secret:k]', rows: 3 },
    ]);
    expect(JSON.stringify(model.doStreamCalls[1]?.prompt)).not.toContain(SECRET);
    expect(finished).toBe(true);
    const recorded = audit.events.find((e) => e.type === 'result' && e.tool === 'report');
    expect(recorded).toMatchObject({ outcome: 'ok', outputShape: { type: 'object', size: 2 } });
    expect(JSON.stringify(audit.events)).not.toContain(SECRET);
  });
});

describe('toolApproval', () => {
  const policy = rules([
    { id: 'weather', effect: 'allow', tool: 'weather' },
    { id: 'refunds', effect: 'ask', tool: 'refund', reason: 'refunds need a human' },
    { id: 'no-rm', effect: 'deny', tool: 'rm', reason: 'never' },
  ]);
  const refundSchema = z.object({ amount: z.number() });

  function setup(approver = aiSdkApprover()) {
    const audit = memoryAudit();
    const tg = createGuard({ policy, approver, audit });
    const refunds: unknown[] = [];
    const tools = guardTools(
      {
        refund: tool({
          inputSchema: refundSchema,
          execute: async (input) => {
            refunds.push(input);
            return 'refunded';
          },
        }),
        weather: tool({ inputSchema: z.object({ city: z.string() }), execute: async () => 'sunny' }),
        rm: tool({ inputSchema: z.object({ path: z.string() }), execute: async () => 'removed' }),
      },
      tg,
    );
    return { tg, audit, tools, refunds };
  }

  /** First call: the SDK asks the user; second call: the user's answer is sent back. */
  async function roundTrip(
    approved: boolean,
    toolApprovalFn: Parameters<typeof generateText>[0]['toolApproval'],
  ) {
    const s = setup();
    const first = await generateText({
      model: scriptedModel('refund', { amount: 500 }),
      tools: s.tools,
      toolApproval: toolApprovalFn ?? toolApproval(s.tg),
      stopWhen: isStepCount(3),
      prompt: 'refund it',
    });
    const request = first.content.find((part) => part.type === 'tool-approval-request');
    const messages: ModelMessage[] = [
      { role: 'user', content: 'refund it' },
      ...first.responseMessages,
      {
        role: 'tool',
        content: [
          {
            type: 'tool-approval-response',
            approvalId: (request as { approvalId: string }).approvalId,
            approved,
            ...(approved ? {} : { reason: 'no way' }),
          },
        ],
      },
    ];
    const model2 = new MockLanguageModelV4({ doGenerate: [textResult('ok')] });
    const second = await generateText({
      model: model2,
      tools: s.tools,
      toolApproval: toolApprovalFn ?? toolApproval(s.tg),
      stopWhen: isStepCount(1),
      messages,
    });
    return { ...s, first, request, second, model2 };
  }

  it('maps allow, deny and ask onto not-applicable, denied (recorded) and user-approval', async () => {
    const { tg, tools, audit } = setup();
    const base = { tools, toolsContext: {}, runtimeContext: {}, messages: [] };
    const status = (toolName: string, input: unknown, options = {}) =>
      toolApproval(tg, options)({ ...base, toolCall: { toolName, toolCallId: 'c', input } });
    expect(await status('weather', { city: 'Oslo' })).toEqual({ type: 'not-applicable' });
    expect(await status('refund', { amount: 5 })).toEqual({
      type: 'user-approval',
      reason: 'refunds need a human',
    });
    expect(audit.events).toEqual([]);
    // A deny is the SDK's own denied status, recorded by the guard first.
    expect(await status('rm', { path: '/' })).toEqual({
      type: 'denied',
      reason: 'toolgate denied rm (DENIED_BY_RULE): never',
    });
    expect(audit.events).toMatchObject([
      { type: 'decision', tool: 'rm', decision: 'deny', code: 'DENIED_BY_RULE', toolCallId: 'c' },
    ]);
    expect(await status('weather', { city: 5 })).toMatchObject({ type: 'denied' });
    expect(audit.events.at(-1)).toMatchObject({ type: 'decision', code: 'INVALID_ARGS' });
    // deny: 'guard' leaves a guarded tool's denial to its execute.
    expect(await status('rm', { path: '/' }, { deny: 'guard' })).toEqual({ type: 'not-applicable' });
    // A tool the guard does not wrap is always denied here: nothing else would stop it.
    expect(await status('unguarded', {})).toMatchObject({ type: 'denied' });
    const unwrapped = { rm: tool({ inputSchema: z.object({ path: z.string() }), execute: async () => 'x' }) };
    expect(
      await toolApproval(tg)({
        ...base,
        tools: unwrapped,
        toolCall: { toolName: 'rm', toolCallId: 'c', input: { path: '/' } },
      }),
    ).toMatchObject({ type: 'denied' });
  });

  it('a deny is the SDK’s own denied state in the result, for the model, and in the UI stream', async () => {
    const s = setup();
    const model = scriptedModel('rm', { path: '/' });
    const result = await generateText({
      model,
      tools: s.tools,
      toolApproval: toolApproval(s.tg),
      stopWhen: isStepCount(2),
      prompt: 'go',
    });
    const step = result.steps[0]!;
    expect(step.toolResults).toEqual([]);
    expect(step.content.find((part) => part.type === 'tool-approval-response')).toMatchObject({
      approved: false,
      reason: 'toolgate denied rm (DENIED_BY_RULE): never',
    });
    expect(toolResultSeen(model.doGenerateCalls[1]?.prompt)).toContain('execution-denied');
    expect(s.audit.events.filter((e) => e.type === 'decision')).toMatchObject([
      { tool: 'rm', decision: 'deny', code: 'DENIED_BY_RULE' },
    ]);

    const streamed = streamText({
      model: streamingModel('rm', { path: '/' }),
      tools: s.tools,
      toolApproval: toolApproval(s.tg),
      stopWhen: isStepCount(2),
      prompt: 'go',
    });
    const chunks: { type: string }[] = [];
    for await (const chunk of streamed.toUIMessageStream()) chunks.push(chunk);
    const kinds = chunks.map((chunk) => chunk.type);
    expect(kinds).toContain('tool-output-denied');
    expect(kinds).not.toContain('tool-output-available');
    let last: UIMessage | undefined;
    for await (const message of readUIMessageStream({ stream: streamed.toUIMessageStream() })) last = message;
    expect(last?.parts.find((part) => part.type === 'tool-rm')).toMatchObject({ state: 'output-denied' });
  });

  it("with onDeny: 'throw' a deny stays a tool error raised by execute", async () => {
    const s = setup();
    const tools = guardTools(
      { rm: tool({ inputSchema: z.object({ path: z.string() }), execute: async () => 'removed' }) },
      s.tg,
      { onDeny: 'throw' },
    );
    const result = await generateText({
      model: scriptedModel('rm', { path: '/' }),
      tools,
      toolApproval: toolApproval(s.tg),
      stopWhen: isStepCount(2),
      prompt: 'go',
    });
    const error = result.steps[0]?.content.find((part) => part.type === 'tool-error');
    expect(ToolDeniedError.isInstance((error as { error?: unknown } | undefined)?.error)).toBe(true);
  });

  it('ask → the AI SDK asks the user and nothing runs; approve → the tool runs once, recorded with the approver', async () => {
    const { first, second, refunds, audit, request, model2 } = await roundTrip(true, undefined);
    expect(first.finishReason).toBe('tool-calls');
    expect(request).toMatchObject({ type: 'tool-approval-request', reason: 'refunds need a human' });
    expect(refunds).toEqual([{ amount: 500 }]);
    expect(second.responseMessages[0]).toMatchObject({ role: 'tool' });
    expect(toolResultSeen(model2.doGenerateCalls[0]?.prompt)).toContain('refunded');
    const decisions = audit.events.filter((e) => e.type === 'decision');
    expect(decisions).toMatchObject([
      { decision: 'allow', policyDecision: 'ask', approvers: ['ai-sdk:user'] },
    ]);
  });

  it('streamText: the same approval round trip executes the approved call once', async () => {
    const s = setup();
    const first = streamText({
      model: streamingModel('refund', { amount: 500 }),
      tools: s.tools,
      toolApproval: toolApproval(s.tg),
      prompt: 'refund it',
    });
    const content = await first.content;
    const request = content.find((part) => part.type === 'tool-approval-request');
    expect(request).toBeDefined();
    expect(s.refunds).toEqual([]);
    const messages: ModelMessage[] = [
      { role: 'user', content: 'refund it' },
      ...(await first.response).messages,
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
    const second = streamText({
      model: streamingModel('refund', { amount: 1 }),
      tools: s.tools,
      toolApproval: toolApproval(s.tg),
      stopWhen: isStepCount(1),
      messages,
    });
    await second.consumeStream();
    expect(s.refunds).toEqual([{ amount: 500 }]);
    expect(s.audit.events.filter((e) => e.type === 'decision')).toMatchObject([
      { tool: 'refund', decision: 'allow', policyDecision: 'ask', approvers: ['ai-sdk:user'] },
    ]);
  });

  it('ask → the user denies: the tool never runs and the model sees the reason', async () => {
    const { refunds, model2 } = await roundTrip(false, undefined);
    expect(refunds).toEqual([]);
    expect(toolResultSeen(model2.doGenerateCalls[0]?.prompt)).toContain('no way');
  });

  it('without the toolApproval helper, an ask is denied inside execute (no AI SDK approval to rely on)', async () => {
    const s = setup();
    const model = scriptedModel('refund', { amount: 500 });
    await generateText({ model, tools: s.tools, stopWhen: isStepCount(2), prompt: 'go' });
    expect(s.refunds).toEqual([]);
    expect(toolResultSeen(model.doGenerateCalls[1]?.prompt)).toContain('APPROVAL_DENIED');
  });

  it('an approval the toolApproval helper never raised is not accepted by the guard', async () => {
    const s = setup();
    const messages: ModelMessage[] = [
      { role: 'user', content: 'go' },
      {
        role: 'assistant',
        content: [
          { type: 'tool-call', toolCallId: 'call-1', toolName: 'refund', input: { amount: 500 } },
          { type: 'tool-approval-request', approvalId: 'a-1', toolCallId: 'call-1' },
        ],
      },
      { role: 'tool', content: [{ type: 'tool-approval-response', approvalId: 'a-1', approved: true }] },
    ];
    // No toolApproval helper: the SDK executes the client-supplied approval; the guard must not trust it.
    const model = new MockLanguageModelV4({ doGenerate: [textResult('ok')] });
    await generateText({ model, tools: s.tools, stopWhen: isStepCount(1), messages });
    expect(s.refunds).toEqual([]);
    expect(toolResultSeen(model.doGenerateCalls[0]?.prompt)).toContain('APPROVAL_DENIED');
  });

  it("ask: 'guard' lets the call execute and the guard's own approver answers", async () => {
    const s = setup(autoApprove({ approver: 'ops:bob' }));
    const result = await generateText({
      model: scriptedModel('refund', { amount: 5 }),
      tools: s.tools,
      toolApproval: toolApproval(s.tg, { ask: 'guard' }),
      stopWhen: isStepCount(2),
      prompt: 'go',
    });
    expect(result.steps[0]?.content.some((p) => p.type === 'tool-approval-request')).toBe(false);
    expect(s.refunds).toEqual([{ amount: 5 }]);
  });

  it("composes with the app's own toolApproval and the tools' needsApproval: the strictest wins", async () => {
    const { tg, tools } = setup();
    const base = { toolsContext: {}, runtimeContext: {}, messages: [] };
    const call = (toolName: string, input: unknown) => ({ toolName, toolCallId: 'c', input });
    // The app wants approval for weather; toolgate allows it: user-approval.
    const withMap = toolApproval(tg, { approval: { weather: 'user-approval' } });
    expect(await withMap({ ...base, tools, toolCall: call('weather', { city: 'a' }) })).toMatchObject({
      type: 'user-approval',
    });
    // The app approves refunds automatically; toolgate asks: user-approval still.
    const approving = toolApproval(tg, { approval: () => 'approved' });
    expect(await approving({ ...base, tools, toolCall: call('refund', { amount: 1 }) })).toMatchObject({
      type: 'user-approval',
    });
    // The app denies: denied, whatever toolgate says.
    const denying = toolApproval(tg, {
      approval: { weather: () => ({ type: 'denied', reason: 'app says no' }) },
    });
    expect(await denying({ ...base, tools, toolCall: call('weather', { city: 'a' }) })).toEqual({
      type: 'denied',
      reason: 'app says no',
    });
    // A tool's needsApproval still counts.
    const needy = { ...tools, weather: { ...tools.weather, needsApproval: async () => true } } as ToolSet;
    expect(
      await toolApproval(tg)({ ...base, tools: needy, toolCall: call('weather', { city: 'a' }) }),
    ).toMatchObject({
      type: 'user-approval',
    });
    // An unknown status from the app fails closed.
    const broken = toolApproval(tg, { approval: () => 'yes' as never });
    expect(await broken({ ...base, tools, toolCall: call('weather', { city: 'a' }) })).toMatchObject({
      type: 'denied',
    });
  });

  it('a deny reaches the model as execution-denied, is recorded by the guard, and the tool never runs', async () => {
    const s = setup();
    let removed = 0;
    const rm = tool({
      inputSchema: z.object({ path: z.string() }),
      execute: async () => {
        removed += 1;
        return 'removed';
      },
    });
    const tools = guardTools({ rm }, s.tg);
    const model = scriptedModel('rm', { path: '/' });
    await generateText({
      model,
      tools,
      toolApproval: toolApproval(s.tg),
      stopWhen: isStepCount(2),
      prompt: 'go',
    });
    expect(removed).toBe(0);
    expect(toolResultSeen(model.doGenerateCalls[1]?.prompt)).toContain('DENIED_BY_RULE');
  });

  it("checks wrapped tools under guardTools' name and identity, so check agrees with enforcement", async () => {
    const tg = createGuard({
      policy: rules([{ id: 'ops-refunds', effect: 'allow', tool: 'payments.refund', principal: 'user:ops' }]),
    });
    const tools = guardTools(
      { refund: tool({ inputSchema: refundSchema, execute: async () => 'refunded' }) },
      tg,
      {
        name: (key) => `payments.${key}`,
        context: ({ toolContext }) => ({ principal: String(toolContext) }),
      },
    );
    const approve = toolApproval(tg, { deny: 'denied' });
    const base = { tools, runtimeContext: {}, messages: [] };
    const toolCall = { toolName: 'refund', toolCallId: 'c', input: { amount: 1 } };
    expect(await approve({ ...base, toolsContext: { refund: 'user:ops' }, toolCall })).toEqual({
      type: 'not-applicable',
    });
    expect(await approve({ ...base, toolsContext: { refund: 'user:1' }, toolCall })).toMatchObject({
      type: 'denied',
    });
  });

  it('a tool set key named __proto__ stays an own key', () => {
    const tg = createGuard({ policy });
    const set: Record<string, unknown> = {};
    // An own `__proto__` key, as JSON.parse would create it.
    Object.defineProperty(set, '__proto__', {
      value: tool({ inputSchema: z.object({}), execute: async () => 'x' }),
      enumerable: true,
    });
    const guarded = guardTools(set as ToolSet, tg);
    expect(Object.hasOwn(guarded, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(guarded)).toBe(Object.prototype);
  });

  it('works as ToolLoopAgent settings too', async () => {
    const s = setup();
    const agent = new ToolLoopAgent({
      model: scriptedModel('refund', { amount: 500 }),
      tools: s.tools,
      toolApproval: toolApproval(s.tg),
    });
    const result = await agent.generate({ prompt: 'refund it' });
    expect(result.content.some((part) => part.type === 'tool-approval-request')).toBe(true);
    expect(s.refunds).toEqual([]);
  });

  it('is a dry run: checking many times records nothing', async () => {
    const s = setup();
    const approve = toolApproval(s.tg);
    for (let i = 0; i < 5; i++)
      await approve({
        tools: s.tools,
        toolsContext: {},
        runtimeContext: {},
        messages: [],
        toolCall: { toolName: 'weather', toolCallId: `c${i}`, input: { city: 'a' } },
      });
    expect(s.audit.events).toEqual([]);
  });
});
