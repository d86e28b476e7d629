// Types of the adapters: context callbacks are typed with each framework's context type, and the
// AI SDK's guarded tool set says a call may resolve with a ToolDenial.
import type { ToolRunnableConfig } from '@langchain/core/tools';
import { tool as langchainTool } from '@langchain/core/tools';
import { tool as agentsTool, type RunContext } from '@openai/agents';
import { tool as aiTool, generateText, type InferToolOutput, type ToolApprovalResponse } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { expectTypeOf, test } from 'vitest';
import { z } from 'zod';
import { type AiSdkCallInfo, guardTools, respondToApproval } from '../../src/adapters/ai-sdk/index.ts';
import { guardTool as guardLangChainTool, toolgateMiddleware } from '../../src/adapters/langchain/index.ts';
import { guardTool as guardAgentsTool } from '../../src/adapters/openai-agents/index.ts';
import { createGuard, rules, type ToolDenial } from '../../src/index.ts';

const tg = createGuard({ policy: rules([]) });
interface AppContext {
  userId: string;
}

test('AI SDK: toolContext is typed per tool by its contextSchema, told apart by toolName', () => {
  const refund = aiTool({
    inputSchema: z.object({ amount: z.number() }),
    contextSchema: z.object({ userId: z.string() }),
    execute: async () => ({ refunded: true }),
  });
  const weather = aiTool({ inputSchema: z.object({ city: z.string() }), execute: async () => 'sunny' });
  guardTools({ refund, weather }, tg, {
    context: (call) => {
      if (call.toolName === 'refund') {
        expectTypeOf(call.toolContext).toEqualTypeOf<{ userId: string }>();
        return { principal: `user:${call.toolContext.userId}` };
      }
      expectTypeOf(call.toolName).toEqualTypeOf<'weather'>();
      expectTypeOf(call.toolContext).toEqualTypeOf<unknown>();
      return undefined;
    },
  });
  guardTools({ refund }, tg, {
    // @ts-expect-error the context has no `tenant`
    context: ({ toolContext }) => ({ principal: toolContext.tenant }),
  });
  expectTypeOf<AiSdkCallInfo>().toHaveProperty('toolContext').toEqualTypeOf<unknown>();
});

test("AI SDK: a guarded tool's output includes the denial; with onDeny: 'throw' it does not", () => {
  const refund = aiTool({
    inputSchema: z.object({ amount: z.number() }),
    execute: async () => ({ refunded: true }),
  });
  const clientSide = aiTool({ inputSchema: z.object({ a: z.string() }), outputSchema: z.string() });
  const tools = guardTools({ refund, clientSide }, tg);
  expectTypeOf<InferToolOutput<typeof tools.refund>>().toEqualTypeOf<{ refunded: boolean } | ToolDenial>();
  expectTypeOf(tools.clientSide).toEqualTypeOf(clientSide);
  const throwing = guardTools({ refund }, tg, { onDeny: 'throw' });
  expectTypeOf(throwing).toEqualTypeOf<{ refund: typeof refund }>();
  expectTypeOf(respondToApproval).returns.resolves.toEqualTypeOf<ToolApprovalResponse>();
});

test('AI SDK: generateText results carry the denial in the output type', async () => {
  const refund = aiTool({
    inputSchema: z.object({ amount: z.number() }),
    contextSchema: z.object({ userId: z.string() }),
    execute: async () => ({ refunded: true }),
  });
  const tools = guardTools({ refund }, tg);
  const result = await generateText({
    model: new MockLanguageModelV4(),
    tools,
    toolsContext: { refund: { userId: '7' } },
    prompt: 'go',
  });
  const first = result.toolResults[0];
  if (first !== undefined && first.dynamic !== true)
    expectTypeOf(first.output).toEqualTypeOf<{ refunded: boolean } | ToolDenial>();
});

test('LangChain: the middleware and guardTool read a typed run context', () => {
  toolgateMiddleware<AppContext>(tg, {
    context: (request) => ({ principal: request.runtime.context.userId }),
  });
  toolgateMiddleware(tg, {
    context: (request: { runtime: { context: AppContext } }) => ({
      principal: request.runtime.context.userId,
    }),
  });
  toolgateMiddleware(tg, {
    // @ts-expect-error without a context type, runtime.context is unknown
    context: (request) => ({ principal: request.runtime.context.userId }),
  });
  const weather = langchainTool(async () => 'sunny', {
    name: 'weather',
    schema: z.object({ city: z.string() }),
  });
  guardLangChainTool<AppContext>(weather, tg, {
    context: (config) => {
      expectTypeOf(config).toEqualTypeOf<ToolRunnableConfig<Record<string, unknown>, AppContext>>();
      return { principal: config.context?.userId ?? 'anonymous' };
    },
  });
});

test("OpenAI Agents: guardTool's context callback gets the tool's or the annotated run context", () => {
  const typed = agentsTool<z.ZodObject<{ city: z.ZodString }>, AppContext>({
    name: 'weather',
    description: 'w',
    parameters: z.object({ city: z.string() }),
    execute: async () => 'sunny',
  });
  guardAgentsTool(typed, tg, {
    context: (runContext) => {
      expectTypeOf(runContext).toEqualTypeOf<RunContext<AppContext>>();
      return { principal: runContext.context.userId };
    },
  });
  const untyped = agentsTool({
    name: 'weather',
    description: 'w',
    parameters: z.object({ city: z.string() }),
    execute: async () => 'sunny',
  });
  guardAgentsTool(untyped, tg, {
    context: (runContext: RunContext<AppContext>) => ({ principal: runContext.context.userId }),
  });
  guardAgentsTool(untyped, tg, {
    // @ts-expect-error without a context type, runContext.context is unknown
    context: (runContext) => ({ principal: runContext.context.userId }),
  });
  expectTypeOf(guardAgentsTool(untyped, tg)).toEqualTypeOf(untyped);
});
