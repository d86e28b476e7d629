import { AIMessage, ToolMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { tool as langchainTool } from '@langchain/core/tools';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { Agent, type AgentInputItem, tool as agentsTool, run, setTracingDisabled } from '@openai/agents';
import { assistantMessage, functionCall, ScriptedModel } from '@openai/agents/testing';
import { tool as aiTool, generateText, isStepCount } from 'ai';
import fc from 'fast-check';
import { createAgent } from 'langchain';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { guardTools as aiGuardTools } from '../../src/adapters/ai-sdk/index.ts';
import { guardTools as langchainGuardTools } from '../../src/adapters/langchain/index.ts';
import { guardMcpServer } from '../../src/adapters/mcp/index.ts';
import { guardTools as agentsGuardTools } from '../../src/adapters/openai-agents/index.ts';
import { callbackSecrets, createGuard, type Guard, memoryAudit, rules } from '../../src/index.ts';
import { scriptedModel, toolResultSeen } from '../adapters/ai-sdk-helpers.ts';

// G17 as a property: whatever a tool does with a secret the guard handed out (returns it, encodes
// it, throws it, or the model echoes it into arguments), no value, raw or base64 / base64url /
// hex / URL-encoded, reaches a record, a result, an error, an approval request or what the model
// is shown, through the guarded function and through every adapter with its real package.

beforeAll(() => setTracingDisabled(true));

const secretArb = fc.stringMatching(/^[A-Za-z0-9+/=&_.~-]{12,40}$/).filter((s) => new Set(s).size > 4);

/** Every form of `value` that must never be seen. */
function forms(value: string): string[] {
  const bytes = Buffer.from(value);
  return [
    value,
    bytes.toString('base64').replace(/=+$/, ''),
    bytes.toString('base64url'),
    bytes.toString('hex'),
    bytes.toString('hex').toUpperCase(),
    encodeURIComponent(value),
  ];
}

/** What a leaky tool returns: the value in a random selection of its forms and surroundings. */
const leakArb = fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 6 });
function leak(value: string, picks: readonly number[]): string {
  const all = forms(value);
  const parts = picks.map((pick) =>
    pick < all.length ? all[pick]! : `Authorization: Bearer ${value}; retry=${encodeURIComponent(value)}`,
  );
  return JSON.stringify({ note: `leaked ${parts.join(' / ')}`, parts });
}

function assertClean(what: string, text: string, value: string): void {
  for (const form of forms(value)) expect(text, `${what} shows ${form}`).not.toContain(form);
}

/** A guard that hands out `value` as secret `stripe`, and records every approval request. */
function harness(value: string) {
  const audit = memoryAudit();
  const requests: unknown[] = [];
  const tg = createGuard({
    policy: rules([
      { id: 'pay', effect: 'allow', tool: 'payments.charge' },
      { id: 'tools', effect: 'allow', tool: 'leak_report' },
      { id: 'ask', effect: 'ask', tool: 'payments.review', reason: 'a human checks' },
    ]),
    audit,
    approver: {
      name: 'recording',
      request(request) {
        requests.push(request);
        return { requestId: request.id, approved: false, approver: 'alice', reason: 'no' };
      },
    },
    secrets: {
      provider: callbackSecrets(() => ({ value })),
      bindings: { stripe: { tools: ['payments.*'] } },
    },
  });
  const charge = tg.guard((_args: object, { secrets }) => `charged with ${secrets.stripe}`, {
    name: 'payments.charge',
    secrets: ['stripe'],
  });
  return { tg, audit, requests, charge };
}

type Driver = (tg: Guard, execute: () => Promise<string>) => Promise<string>;

const DRIVERS: Record<string, Driver> = {
  async 'ai-sdk generateText'(tg, execute) {
    const model = scriptedModel('leak_report', {});
    const tools = aiGuardTools(
      { leak_report: aiTool({ description: 'report', inputSchema: z.object({}), execute }) },
      tg,
    );
    await generateText({ model, tools, stopWhen: isStepCount(2), prompt: 'go' });
    return (
      toolResultSeen(model.doGenerateCalls[1]?.prompt) ?? JSON.stringify(model.doGenerateCalls[1]?.prompt)
    );
  },
  async 'langchain createAgent'(tg, execute) {
    const model = fakeModel()
      .respondWithTools([{ name: 'leak_report', args: {}, id: 'tc-1' }])
      .respond(new AIMessage('done'));
    const tools = langchainGuardTools(
      [langchainTool(() => execute(), { name: 'leak_report', description: 'report', schema: z.object({}) })],
      tg,
    );
    const agent = createAgent({ model, tools });
    const result = await agent.invoke({ messages: [{ role: 'user', content: 'go' }] });
    const message = result.messages.findLast((m): m is ToolMessage => ToolMessage.isInstance(m));
    return JSON.stringify(message?.content) + JSON.stringify(result.messages);
  },
  async 'openai-agents run'(tg, execute) {
    const model = new ScriptedModel([
      [functionCall('leak_report', {} as never, { callId: 'c-1' })],
      [assistantMessage('done')],
    ]);
    const tools = agentsGuardTools(
      [
        agentsTool({
          name: 'leak_report',
          description: 'report',
          parameters: z.object({}),
          execute: () => execute(),
        }),
      ],
      tg,
    );
    await run(new Agent({ name: 'leaks', model, tools }), 'go');
    return JSON.stringify(model.lastCall?.request.input as AgentInputItem[]);
  },
  async 'mcp guardMcpServer'(tg, execute) {
    const server = new McpServer({ name: 'leaks', version: '1.0.0' });
    server.registerTool('leak_report', { description: 'report', inputSchema: {} }, async () => ({
      content: [{ type: 'text', text: await execute() }],
    }));
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await guardMcpServer(server, tg).connect(serverSide);
    const client = new Client({ name: 'leaks-client', version: '1.0.0' });
    await client.connect(clientSide);
    try {
      return JSON.stringify(await client.callTool({ name: 'leak_report', arguments: {} }));
    } finally {
      await client.close();
    }
  },
};

describe('G17: no secret value reaches a record, a result, an error, an approval request or the model', () => {
  it('property: the guarded function', async () => {
    await fc.assert(
      fc.asyncProperty(secretArb, leakArb, fc.boolean(), async (value, picks, throws) => {
        const { tg, audit, requests, charge } = harness(value);
        const seen: string[] = [await charge({})];
        const report = tg.guard(
          () => {
            if (throws) throw new TypeError(leak(value, picks));
            return { report: leak(value, picks) };
          },
          { name: 'leak_report' },
        );
        const outcome = await report({}).then(
          (result) => JSON.stringify(result),
          (error: Error) => `${error.message}\n${error.stack}\n${JSON.stringify(error)}`,
        );
        seen.push(outcome);
        // The model echoing the value into the arguments of a call that needs a human.
        const review = tg.guard(() => 1, { name: 'payments.review' });
        const denied = await review({ note: leak(value, picks) }).catch((error: Error) => error);
        seen.push(`${(denied as Error).message} ${JSON.stringify(denied)}`);
        seen.push(JSON.stringify(await tg.check('payments.review', { note: value })));
        assertClean('what the caller got', seen.join('\n'), value);
        assertClean('the audit trail', JSON.stringify(audit.events), value);
        assertClean('the approval requests', JSON.stringify(requests), value);
      }),
      { numRuns: 60 },
    );
  });

  for (const [name, driver] of Object.entries(DRIVERS)) {
    it(`property: through ${name}`, { timeout: 60_000 }, async () => {
      await fc.assert(
        fc.asyncProperty(secretArb, leakArb, fc.boolean(), async (value, picks, throws) => {
          const { tg, audit, charge } = harness(value);
          expect(await charge({})).toBe('charged with [secret:stripe]');
          const execute = async () => {
            if (throws) throw new Error(leak(value, picks));
            return leak(value, picks);
          };
          const modelSaw = await driver(tg, execute).catch(
            (error: Error) => `${error.message} ${error.stack}`,
          );
          // Some frameworks show the model a generic text for a tool's error.
          if (!throws) expect(modelSaw).toContain('[secret:stripe]');
          assertClean(`what the model saw through ${name}`, modelSaw, value);
          assertClean('the audit trail', JSON.stringify(audit.events), value);
        }),
        { numRuns: 8 },
      );
    });
  }
});
