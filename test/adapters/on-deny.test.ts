// One spelling of the denial option in every adapter: onDeny: 'throw' | 'return'; the old
// spellings ('result', 'message') are deprecated aliases of 'return'; anything else is refused at
// construction. Each adapter is driven through its real framework package.
import { AIMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { tool as langchainTool } from '@langchain/core/tools';
import { tool as agentsTool, RunContext } from '@openai/agents';
import { tool as aiTool, generateText, isStepCount } from 'ai';
import { createAgent } from 'langchain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { guardTools as guardAiSdkTools } from '../../src/adapters/ai-sdk/index.ts';
import { guardTool as guardLangChainTool, toolgateMiddleware } from '../../src/adapters/langchain/index.ts';
import { guardTool as guardAgentsTool } from '../../src/adapters/openai-agents/index.ts';
import { ConfigurationError, createGuard, rules, ToolDeniedError } from '../../src/index.ts';
import { scriptedModel } from './ai-sdk-helpers.ts';

const policy = rules([{ id: 'no-rm', effect: 'deny', tool: 'rm', reason: 'never' }]);
const schema = z.object({ path: z.string() });
const ai = () => ({ rm: aiTool({ inputSchema: schema, execute: async () => 'removed' }) });
const lc = () => langchainTool(async () => 'removed', { name: 'rm', schema });
const oa = () =>
  agentsTool({ name: 'rm', description: 'rm', parameters: schema, execute: async () => 'removed' });
const runContext = () => new RunContext({});

const deprecations: string[] = [];
const onWarning = (warning: Error & { code?: string }) => {
  if (warning.name === 'DeprecationWarning' && warning.code === 'TOOLGATE_DEP_ON_DENY')
    deprecations.push(warning.message);
};
beforeAll(() => {
  process.on('warning', onWarning);
});
afterAll(() => {
  process.off('warning', onWarning);
});

describe('onDeny', () => {
  it.each([['always'], ['Return'], ['error'], [true], [null]])(
    'an unknown value (%j) throws a ConfigurationError at construction, in every adapter',
    (value) => {
      const tg = createGuard({ policy });
      const options = { onDeny: value } as never;
      for (const build of [
        () => guardAiSdkTools(ai(), tg, options),
        () => guardLangChainTool(lc(), tg, options),
        () => toolgateMiddleware(tg, options),
        () => guardAgentsTool(oa(), tg, options),
      ])
        expect(build).toThrow(ConfigurationError);
    },
  );

  it("'return' hands back each framework's own shape", async () => {
    const tg = createGuard({ policy });
    const model = scriptedModel('rm', { path: '/' });
    const result = await generateText({
      model,
      tools: guardAiSdkTools(ai(), tg, { onDeny: 'return' }),
      stopWhen: isStepCount(2),
      prompt: 'go',
    });
    expect(result.steps[0]?.toolResults[0]?.output).toMatchObject({ denied: true, code: 'DENIED_BY_RULE' });
    const message = await guardLangChainTool(lc(), tg, { onDeny: 'return' }).invoke({
      type: 'tool_call',
      id: 'tc-1',
      name: 'rm',
      args: { path: '/' },
    });
    expect(message).toMatchObject({ status: 'error', tool_call_id: 'tc-1' });
    expect(await guardAgentsTool(oa(), tg, { onDeny: 'return' }).invoke(runContext(), '{"path":"/"}')).toBe(
      'toolgate denied rm (DENIED_BY_RULE): never',
    );
  });

  it("the deprecated 'result' and 'message' still mean 'return', with a DeprecationWarning", async () => {
    const tg = createGuard({ policy });
    const tools = guardAiSdkTools(ai(), tg, { onDeny: 'result' });
    const result = await generateText({
      model: scriptedModel('rm', { path: '/' }),
      tools,
      stopWhen: isStepCount(2),
      prompt: 'go',
    });
    expect(result.steps[0]?.toolResults[0]?.output).toMatchObject({ denied: true });
    expect(await guardLangChainTool(lc(), tg, { onDeny: 'message' }).invoke({ path: '/' })).toContain(
      'DENIED_BY_RULE',
    );
    expect(
      await guardAgentsTool(oa(), tg, { onDeny: 'message' }).invoke(runContext(), '{"path":"/"}'),
    ).toContain('DENIED_BY_RULE');
    await new Promise((resolve) => setImmediate(resolve));
    expect(deprecations).toHaveLength(1);
  });

  it("the middleware with 'throw' ends the run with the guard's ToolDeniedError", async () => {
    const tg = createGuard({ policy });
    const model = fakeModel()
      .respondWithTools([{ name: 'rm', args: { path: '/' }, id: 'tc-1' }])
      .respond(new AIMessage('done'));
    const agent = createAgent({
      model,
      tools: [lc()],
      middleware: [toolgateMiddleware(tg, { onDeny: 'throw' })],
    });
    const error = await agent
      .invoke({ messages: [{ role: 'user', content: 'go' }] })
      .catch((e: unknown) => e);
    const denied = ToolDeniedError.isInstance(error) ? error : (error as { cause?: unknown }).cause;
    expect(ToolDeniedError.isInstance(denied)).toBe(true);
  });

  it("'throw' rejects with ToolDeniedError, whichever onDeny the guard itself has", async () => {
    for (const tg of [createGuard({ policy }), createGuard({ policy, onDeny: 'return' })]) {
      const aiExecute = guardAiSdkTools(ai(), tg, { onDeny: 'throw' }).rm.execute as (
        input: unknown,
        options: unknown,
      ) => Promise<unknown>;
      const errors = [
        await aiExecute({ path: '/' }, { toolCallId: 't', messages: [] }).catch((e: unknown) => e),
        await guardLangChainTool(lc(), tg, { onDeny: 'throw' })
          .invoke({ path: '/' })
          .catch((e: unknown) => e),
        await guardAgentsTool(oa(), tg, { onDeny: 'throw' })
          .invoke(runContext(), '{"path":"/"}')
          .catch((e: unknown) => e),
      ];
      for (const error of errors) {
        expect(ToolDeniedError.isInstance(error)).toBe(true);
        expect(error).toMatchObject({ code: 'DENIED_BY_RULE', tool: 'rm', reason: 'never' });
      }
    }
  });
});
