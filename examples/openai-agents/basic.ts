// toolgate with the OpenAI Agents SDK: guard function tools, and turn toolgate's `ask` into the
// SDK's own approval interruptions. Runs offline with the SDK's ScriptedModel.
import { Agent, run, setTracingDisabled, tool } from '@openai/agents';
import { assistantMessage, functionCall, ScriptedModel } from '@openai/agents/testing';
import { createGuard, memoryAudit, rules } from 'toolgate';
import { agentsApprover, guardTool } from 'toolgate/openai-agents';
import { z } from 'zod';

setTracingDisabled(true); // offline: nothing to export traces to

const policy = rules([
  { id: 'lookups', effect: 'allow', tool: 'orders.lookup' },
  { id: 'small-refunds', effect: 'allow', tool: 'payments.refund', when: { 'args.amount': { lte: 100 } } },
  {
    id: 'large-refunds',
    effect: 'ask',
    tool: 'payments.refund',
    when: { 'args.amount': { gt: 100 } },
    reason: 'refunds over 100 need a human',
  },
  {
    id: 'no-deletes',
    effect: 'deny',
    tool: 'orders.delete',
    reason: 'orders are never deleted by the agent',
  },
]);
const audit = memoryAudit();
// agentsApprover(): an `ask` is answered by the human's answer to the SDK's interruption.
const tg = createGuard({ policy, audit, approver: agentsApprover() });

// Identity comes from the host's run context, never from the model.
const identity = {
  context: (runContext: { context: unknown }) => ({
    agent: 'support-bot',
    principal: (runContext.context as { user: string }).user,
  }),
};
const lookupOrder = guardTool(
  tool({
    name: 'lookup_order',
    description: 'Looks up an order',
    parameters: z.object({ orderId: z.string() }),
    execute: async ({ orderId }) => ({ orderId, status: 'shipped' }),
  }),
  tg,
  { name: 'orders.lookup', ...identity },
);
const refund = guardTool(
  tool({
    name: 'refund',
    description: 'Refunds an order',
    parameters: z.object({ orderId: z.string(), amount: z.number() }),
    execute: async ({ orderId, amount }) => `refunded ${amount} on ${orderId}`,
  }),
  tg,
  { name: 'payments.refund', ask: 'interruption', ...identity },
);
const deleteOrder = guardTool(
  tool({
    name: 'delete_order',
    description: 'Deletes an order',
    parameters: z.object({ orderId: z.string() }),
    execute: async () => 'deleted',
  }),
  tg,
  { name: 'orders.delete', ...identity },
);

const model = new ScriptedModel([
  [
    functionCall('lookup_order', { orderId: 'o-1' }, { callId: 'c1' }),
    functionCall('delete_order', { orderId: 'o-1' }, { callId: 'c2' }),
    functionCall('refund', { orderId: 'o-1', amount: 250 }, { callId: 'c3' }),
  ],
  [assistantMessage('Refunded 250 on o-1; the order stays.')],
]);
const agent = new Agent({
  name: 'support',
  instructions: 'Help with orders.',
  model,
  tools: [lookupOrder, refund, deleteOrder],
});

let result = await run(agent, 'Refund o-1 and delete it.', { context: { user: 'user:42' } });
const printed = new Set<string>();
const printOutputs = (items: typeof result.newItems) => {
  for (const item of items) {
    const raw = item.rawItem as { name?: string; callId?: string };
    if (item.type !== 'tool_call_output_item' || printed.has(String(raw.callId))) continue;
    printed.add(String(raw.callId));
    console.log(`${raw.name} → ${JSON.stringify(item.output)}`);
  }
};
printOutputs(result.newItems);
for (const interruption of result.interruptions) {
  console.log(`interrupted: ${interruption.name} ${interruption.arguments} — the human approves`);
  result.state.approve(interruption);
}
result = await run(agent, result.state);
printOutputs(result.newItems);
console.log(`model: ${result.finalOutput}`);

console.log('\naudit trail:');
for (const event of audit.events)
  if (event.type === 'decision')
    console.log(
      `  ${event.tool}: ${event.decision}${event.code ? ` ${event.code}` : ''} (policy: ${event.policyDecision}, principal: ${event.principal ?? '-'})`,
    );
await tg.close();
