// The conformance suite through every in-process entry point: the guarded function, check(), the
// AI SDK, LangChain (middleware and guardTool), OpenAI Agents and the MCP server and client
// wrappers. The `toolgate mcp-proxy` child process runs in mcp-proxy.test.ts.
import { AIMessage, type BaseMessage, ToolMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { tool as langchainTool, type StructuredToolInterface } from '@langchain/core/tools';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  Agent,
  type AgentInputItem,
  tool as agentsTool,
  type FunctionTool,
  run as runAgents,
  setTracingDisabled,
} from '@openai/agents';
import { assistantMessage, functionCall, ScriptedModel } from '@openai/agents/testing';
import { tool as aiTool, generateText, isStepCount, type ToolSet } from 'ai';
import { createAgent } from 'langchain';
import { beforeAll, describe, expect, it } from 'vitest';
import { guardTools as aiSdkGuardTools, toolApproval } from '../../src/adapters/ai-sdk/index.ts';
import { guardTools as langchainGuardTools, toolgateMiddleware } from '../../src/adapters/langchain/index.ts';
import { guardMcpClient, guardMcpServer } from '../../src/adapters/mcp/index.ts';
import { guardTools as agentsGuardTools } from '../../src/adapters/openai-agents/index.ts';
import { ToolDeniedError, ToolInterruptedError } from '../../src/index.ts';
import { scriptedModel, toolResultSeen } from '../adapters/ai-sdk-helpers.ts';
import { agentsGuardedTools } from './agents-tools.ts';
import {
  conformance,
  createHarness,
  type EntryPoint,
  EXPECTED,
  type Harness,
  readTrail,
  type SuiteCall,
  type SuiteOutcome,
  trailOf,
} from './harness.ts';

beforeAll(() => setTracingDisabled(true));

/** The denial text every adapter shows: `toolgate denied <tool> (<CODE>)…`. */
const DENIED = (code: string) => new RegExp(`toolgate denied (this call to )?\\S+ \\(${code}\\)`);

// --- The guarded function (onDeny: 'throw'): denials reject with the guard's errors. ---

const guardedFunction: EntryPoint = {
  name: 'guarded function',
  async run(h: Harness, call: SuiteCall): Promise<SuiteOutcome> {
    const tool = h.tools.find((t) => t.name === call.tool)!;
    const guarded = h.tg.guard((args: Record<string, never>, options) => tool.execute(args, options), {
      name: tool.name,
      input: tool.schema,
    });
    try {
      const value = await guarded(
        call.args as never,
        call.signal === undefined ? {} : { signal: call.signal },
      );
      return { value, modelSaw: JSON.stringify(value) };
    } catch (error) {
      return { error };
    }
  },
  expectDenial(outcome, code) {
    expect(ToolDeniedError.isInstance(outcome.error) || ToolInterruptedError.isInstance(outcome.error)).toBe(
      true,
    );
    expect((outcome.error as ToolDeniedError).code).toBe(code);
  },
  expectToolError(outcome) {
    expect(String((outcome.error as Error).message)).toContain('the warehouse API is down');
  },
  expectResult(outcome, text) {
    expect(outcome.modelSaw).toContain(text);
  },
};
conformance(guardedFunction);

// --- check(): the decision only; nothing runs, nothing is recorded. ---

describe('entry point: check() (decision only)', () => {
  async function checked(h: Harness, tool: string, args: Record<string, unknown>) {
    for (const t of h.tools) h.tg.guard((a: never, o) => t.execute(a, o), { name: t.name, input: t.schema });
    return h.tg.check(tool, args, h.context);
  }

  it('allow, deny by default, deny by rule, ask: the same decisions, nothing recorded', async () => {
    const h = createHarness();
    expect(await checked(h, 'lookup_order', { orderId: 'o-1' })).toMatchObject({ type: 'allow' });
    expect(await checked(h, 'wipe_disk', { disk: 'sda' })).toMatchObject({
      type: 'deny',
      code: EXPECTED['deny by default'].code,
    });
    expect(await checked(h, 'delete_order', { orderId: 'o-1' })).toMatchObject({
      type: 'deny',
      code: EXPECTED['deny by rule'].code,
      failed: [{ rule: 'no-deletes', path: 'tool.name' }],
    });
    expect(await checked(h, 'refund_payment', { orderId: 'o-1', amount: 250 })).toMatchObject({
      type: 'ask',
      rules: ['refund-large'],
    });
    await h.tg.close();
    expect(readTrail(h.auditPath)).toEqual([]);
  });

  it('rate limit and kill switch: check() peeks at limits and suspensions, and uses neither', async () => {
    const h = createHarness();
    const lookup = h.tg.guard(() => 'found it', { name: 'limited_lookup' });
    await lookup({ orderId: 'o-1' }, { context: h.context });
    expect(await checked(h, 'limited_lookup', { orderId: 'o-1' })).toMatchObject({
      type: 'deny',
      code: EXPECTED['rate limit'].code,
    });
    await h.tg.suspend({ tool: 'lookup_order', reason: 'incident 42' });
    expect(await checked(h, 'lookup_order', { orderId: 'o-1' })).toMatchObject({
      type: 'deny',
      code: EXPECTED['kill switch'].code,
    });
    await h.tg.close();
    expect(trailOf(readTrail(h.auditPath))).toEqual(['decision allow', 'result ok', 'suspension suspend']);
  });

  it.each([
    ['ask -> reject', 'check() asks nobody: an ask comes back as it is'],
    ['ask -> edit -> approve, re-decided', 'check() asks nobody: an ask comes back as it is'],
    ['approval timeout', 'check() asks nobody: an ask comes back as it is'],
    ['tool throws', 'check() runs no tool'],
    ['tool timeout', 'check() runs no tool'],
    ['cancellation', 'check() runs no tool'],
  ])('%s: does not apply (%s)', (_scenario, reason) => {
    expect(reason.length).toBeGreaterThan(10);
  });
});

// --- AI SDK: generateText with the SDK's mock model, guardTools and toolApproval. ---

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

const aiSdk: EntryPoint = {
  name: 'AI SDK (generateText, toolApproval)',
  async run(h, call) {
    const model = scriptedModel(call.tool, call.args);
    try {
      await generateText({
        model,
        tools: aiSdkGuardTools(aiSdkTools(h), h.tg),
        // Asks go to the guard's own approver; denials come back as the SDK's denied state.
        toolApproval: toolApproval(h.tg, { ask: 'guard' }),
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
  expectDenial(outcome, code) {
    if (code === 'CANCELLED' && outcome.error !== undefined) {
      // The SDK ends a run whose signal was aborted with the abort's reason: nothing more to show.
      expect(String(outcome.error)).toContain('user pressed stop');
      return;
    }
    expect(outcome.error).toBeUndefined();
    expect(outcome.modelSaw).toContain('"type":"execution-denied"');
    expect(outcome.modelSaw).toMatch(DENIED(code));
  },
  expectToolError(outcome) {
    expect(outcome.modelSaw).toContain('"type":"error-text"');
    expect(outcome.modelSaw).toContain('the warehouse API is down');
  },
  expectResult(outcome, text) {
    expect(outcome.modelSaw).toContain(text);
  },
};
conformance(aiSdk);

// --- LangChain: createAgent with the middleware, and with guardTools. ---

function langchainTools(h: Harness): StructuredToolInterface[] {
  return h.tools.map((t) =>
    langchainTool((input, config) => t.execute(input as never, { signal: config?.signal }), {
      name: t.name,
      description: t.description,
      schema: t.schema,
    }),
  );
}

async function runLangChain(
  call: SuiteCall,
  tools: StructuredToolInterface[],
  middleware: ReturnType<typeof toolgateMiddleware>[],
): Promise<SuiteOutcome> {
  const model = fakeModel()
    .respondWithTools([{ name: call.tool, args: call.args, id: 'tc-1' }])
    .respond(new AIMessage('done'));
  const agent = createAgent({ model, tools, middleware });
  try {
    const result = (await agent.invoke(
      { messages: [{ role: 'user', content: 'go' }] } as never,
      (call.signal ? { signal: call.signal } : {}) as never,
    )) as { messages: BaseMessage[] };
    const message = result.messages.findLast((m): m is ToolMessage => ToolMessage.isInstance(m));
    return message === undefined ? {} : { modelSaw: `${message.status}: ${String(message.content)}` };
  } catch (error) {
    return { error };
  }
}

const langchainShapes: Pick<EntryPoint, 'expectDenial' | 'expectToolError' | 'expectResult'> = {
  expectDenial(outcome, code) {
    if (code === 'CANCELLED' && outcome.error !== undefined) {
      // LangGraph ends an aborted run by rejecting with the abort's reason.
      expect(String(outcome.error)).toMatch(/abort|user pressed stop/i);
      return;
    }
    expect(outcome.error).toBeUndefined();
    // A ToolMessage with status 'error'.
    expect(outcome.modelSaw).toMatch(/^error: /);
    expect(outcome.modelSaw).toMatch(DENIED(code));
  },
  expectToolError(outcome) {
    expect(`${String(outcome.modelSaw)} ${String(outcome.error)}`).toContain('the warehouse API is down');
  },
  expectResult(outcome, text) {
    expect(outcome.modelSaw).toContain(text);
  },
};

const langchainMiddleware: EntryPoint = {
  name: 'LangChain (createAgent + toolgateMiddleware)',
  run: (h, call) => runLangChain(call, langchainTools(h), [toolgateMiddleware(h.tg)]),
  ...langchainShapes,
};
conformance(langchainMiddleware);

const langchainToolsEntry: EntryPoint = {
  name: 'LangChain (createAgent + guardTools)',
  run: (h, call) => runLangChain(call, langchainGuardTools(langchainTools(h), h.tg), []),
  ...langchainShapes,
};
conformance(langchainToolsEntry);

// --- OpenAI Agents: the Runner with the SDK's scripted model. ---

/** Runs one call of the suite through the Runner; what the model read of the tool, or the error. */
async function runAgentsSuite(call: SuiteCall, tools: FunctionTool[]): Promise<SuiteOutcome> {
  const model = new ScriptedModel([
    [functionCall(call.tool, call.args as never, { callId: 'c-1' })],
    [assistantMessage('done')],
  ]);
  const agent = new Agent({ name: 'suite', model, tools });
  try {
    await runAgents(agent, 'go', call.signal ? { signal: call.signal } : {});
  } catch (error) {
    return { error };
  }
  const items = (model.lastCall?.request.input ?? []) as AgentInputItem[];
  const item = items.findLast((i) => (i as { type?: string }).type === 'function_call_result');
  return item === undefined ? {} : { modelSaw: JSON.stringify((item as { output?: unknown }).output) };
}

const openAiAgents: EntryPoint = {
  name: 'OpenAI Agents (run)',
  differs: {
    'tool throws': {
      trail: ['decision allow', 'result ok'],
      why: "the SDK's tool() catches the error inside its own invoke and returns its errorFunction's text, so a guarded copy of a finished tool sees a value (guardedTool, the next entry, records it)",
    },
  },
  run: (h, call) =>
    runAgentsSuite(
      call,
      agentsGuardTools(
        h.tools.map(
          (t) =>
            agentsTool({
              name: t.name,
              description: t.description,
              parameters: t.schema as never,
              execute: (input, _context, details) => t.execute(input as never, { signal: details?.signal }),
            }) as unknown as FunctionTool,
        ),
        h.tg,
      ),
    ),
  expectDenial(outcome, code) {
    if (code === 'CANCELLED' && outcome.error !== undefined) {
      expect(String(outcome.error)).toMatch(/abort|stop/i);
      return;
    }
    expect(outcome.error).toBeUndefined();
    // The tool's text output.
    expect(outcome.modelSaw).toMatch(DENIED(code));
  },
  expectToolError(outcome) {
    // The SDK's default error function: the model reads that the tool failed, not its message.
    expect(outcome.modelSaw).toContain('An error occurred while running the tool');
  },
  expectResult(outcome, text) {
    expect(outcome.modelSaw).toContain(text);
  },
};
conformance(openAiAgents);

// The same, with each tool built by guardedTool: a tool that throws is recorded as an error.
const openAiAgentsGuardedTool: EntryPoint = {
  ...openAiAgents,
  name: 'OpenAI Agents (run, guardedTool)',
  differs: {},
  run: (h, call) => runAgentsSuite(call, agentsGuardedTools(h)),
};
conformance(openAiAgentsGuardedTool);

// --- MCP: the server wrapper and the client wrapper, over the SDK's in-memory transport. ---

function mcpServer(h: Harness): McpServer {
  const server = new McpServer({ name: 'suite', version: '1.0.0' });
  for (const t of h.tools)
    server.registerTool(
      t.name,
      { description: t.description, inputSchema: t.schema.shape },
      async (args, extra) => {
        const value = await t.execute(args as never, { signal: extra.signal });
        return {
          content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value) }],
        };
      },
    );
  return server;
}

async function callMcp(server: McpServer, call: SuiteCall, wrapClient?: Harness): Promise<SuiteOutcome> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'suite-client', version: '1.0.0' });
  await server.connect(serverSide);
  await client.connect(clientSide);
  try {
    const params = { name: call.tool, arguments: call.args };
    const options = call.signal === undefined ? {} : { signal: call.signal };
    const result = (
      wrapClient === undefined
        ? await client.callTool(params, undefined, options)
        : await guardMcpClient(client, wrapClient.tg).callTool(params, undefined, options)
    ) as { content: { text?: string }[]; isError?: boolean };
    const text = result.content.map((block) => block.text ?? '').join('\n');
    return { modelSaw: `${result.isError === true ? 'isError' : 'ok'}: ${text}` };
  } catch (error) {
    return { error };
  } finally {
    await client.close();
  }
}

const mcpShapes: Pick<EntryPoint, 'expectDenial' | 'expectToolError' | 'expectResult'> = {
  expectDenial(outcome, code) {
    if (code === 'CANCELLED' && outcome.error !== undefined) {
      // The MCP client rejects a request its own signal aborted, before any answer.
      expect(String(outcome.error)).toMatch(/abort|stop/i);
      return;
    }
    expect(outcome.error).toBeUndefined();
    // A CallToolResult with isError: true.
    expect(outcome.modelSaw).toMatch(/^isError: /);
    expect(outcome.modelSaw).toMatch(DENIED(code));
  },
  expectToolError(outcome) {
    expect(outcome.modelSaw).toMatch(/^isError: /);
    expect(outcome.modelSaw).toContain('the warehouse API is down');
  },
  expectResult(outcome, text) {
    expect(outcome.modelSaw).toMatch(/^ok: /);
    expect(outcome.modelSaw).toContain(text);
  },
};

const mcpServerWrapper: EntryPoint = {
  name: 'MCP server wrapper (guardMcpServer)',
  run: (h, call) => callMcp(guardMcpServer(mcpServer(h), h.tg, { context: h.context }), call),
  ...mcpShapes,
};
conformance(mcpServerWrapper);

const mcpClientWrapper: EntryPoint = {
  name: 'MCP client wrapper (guardMcpClient)',
  run: (h, call) => callMcp(mcpServer(h), call, h),
  ...mcpShapes,
};
conformance(mcpClientWrapper);

// --- denialDetail: what the model reads of a denial is the host's choice, at every adapter. ---

describe('denialDetail at every adapter', () => {
  const adapters = [
    aiSdk,
    langchainMiddleware,
    langchainToolsEntry,
    openAiAgents,
    mcpServerWrapper,
    mcpClientWrapper,
  ];
  for (const entry of adapters) {
    it(`${entry.name}: 'code' shows only the code, 'full' also the rule and the failed condition`, async () => {
      const seen: Record<string, string> = {};
      for (const detail of ['code', 'reason', 'full'] as const) {
        const h = createHarness('approve', undefined, detail);
        const outcome = await h.tg.withContext(h.context, () =>
          entry.run(h, { tool: 'delete_order', args: { orderId: 'o-1' } }),
        );
        await h.tg.close();
        entry.expectDenial(outcome, 'DENIED_BY_RULE');
        seen[detail] = String(outcome.modelSaw);
        // The record names the rule and the condition whatever the model reads.
        expect(readTrail(h.auditPath)[0]).toMatchObject({
          rule: 'no-deletes',
          failed: [{ rule: 'no-deletes', path: 'tool.name', actual: 'delete_order' }],
        });
      }
      expect(seen.code).not.toContain('deleting orders is not allowed');
      expect(seen.code).not.toContain('no-deletes');
      expect(seen.reason).toContain('deleting orders is not allowed');
      expect(seen.reason).not.toContain('no-deletes');
      expect(seen.full).toContain('deleting orders is not allowed');
      expect(seen.full).toContain('no-deletes: tool.name is');
    });
  }
});
