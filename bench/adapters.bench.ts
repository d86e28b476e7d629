// Adapter overhead on the allow path: each framework's tool called directly (what the framework
// does), bare vs. guarded with the adapter (same zod schema, rules() policy, bounded memory audit).
// Framework loop costs (model calls, message building) are left out: they are the same either way.
import { tool as langchainTool } from '@langchain/core/tools';
import { tool as agentsTool, RunContext } from '@openai/agents';
import { tool as aiTool, type ToolExecutionOptions } from 'ai';
import { z } from 'zod';
import { guardTools } from '../src/adapters/ai-sdk/index.ts';
import { guardTool as guardLangChainTool } from '../src/adapters/langchain/index.ts';
import { guardTool as guardAgentsTool } from '../src/adapters/openai-agents/index.ts';
import { createGuard, memoryAudit, rules } from '../src/index.ts';
import { type BenchRow, time } from './harness.ts';

const schema = z.object({ orderId: z.string(), amount: z.number() });
const args = { orderId: 'o-1', amount: 25 };
const lookup = async (input: { orderId: string; amount: number }) => input.amount;

function guard() {
  return createGuard({
    policy: rules([{ id: 'refunds', effect: 'allow', tool: 'refund' }]),
    audit: memoryAudit({ limit: 1000 }),
  });
}

export default async function adapters(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];

  const aiBare = aiTool({ inputSchema: schema, execute: lookup });
  const aiGuarded = guardTools({ refund: aiBare }, guard()).refund;
  const options = { toolCallId: 'c1', messages: [], context: undefined } as ToolExecutionOptions<unknown>;
  const aiRun = (t: { execute?: unknown }) =>
    (t.execute as (a: unknown, o: unknown) => Promise<unknown>)(args, options);
  if ((await aiRun(aiGuarded)) !== 25) throw new Error('ai-sdk guarded call did not allow');
  rows.push(await time('adapter.ai-sdk.execute.bare', () => aiRun(aiBare)));
  rows.push(await time('adapter.ai-sdk.execute.guarded', () => aiRun(aiGuarded)));

  const lcBare = langchainTool(lookup, { name: 'refund', schema });
  const lcGuarded = guardLangChainTool(lcBare, guard());
  const call = { type: 'tool_call' as const, id: 'c1', name: 'refund', args };
  if ((await lcGuarded.invoke(call)).content !== '25')
    throw new Error('langchain guarded call did not allow');
  rows.push(await time('adapter.langchain.invoke.bare', () => lcBare.invoke(call)));
  rows.push(await time('adapter.langchain.invoke.guarded', () => lcGuarded.invoke(call)));

  const oaBare = agentsTool({ name: 'refund', description: 'r', parameters: schema, execute: lookup });
  const oaGuarded = guardAgentsTool(oaBare, guard());
  const runContext = new RunContext({});
  const input = JSON.stringify(args);
  const details = {
    toolCall: { type: 'function_call' as const, name: 'refund', callId: 'c1', arguments: input },
  };
  if (Number(await oaGuarded.invoke(runContext, input, details)) !== 25)
    throw new Error('openai-agents guarded call did not allow');
  rows.push(await time('adapter.openai-agents.invoke.bare', () => oaBare.invoke(runContext, input, details)));
  rows.push(
    await time('adapter.openai-agents.invoke.guarded', () => oaGuarded.invoke(runContext, input, details)),
  );
  return rows;
}
