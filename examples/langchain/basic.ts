// toolgate with LangChain.js v1: guard every tool call of a `createAgent` agent with a middleware,
// and send toolgate's `ask` to a human through LangGraph's interrupt. Runs offline with a fake model.
import { AIMessage, ToolMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { tool } from '@langchain/core/tools';
import { Command, MemorySaver } from '@langchain/langgraph';
import { createAgent } from 'langchain';
import { createGuard, memoryAudit, rules } from 'toolgate';
import { guardTool, langchainApprover, toolgateMiddleware } from 'toolgate/langchain';
import { z } from 'zod';

const policy = rules([
  { id: 'lookups', effect: 'allow', tool: 'lookup_order' },
  { id: 'small-refunds', effect: 'allow', tool: 'refund', when: { 'args.amount': { lte: 100 } } },
  {
    id: 'large-refunds',
    effect: 'ask',
    tool: 'refund',
    when: { 'args.amount': { gt: 100 } },
    reason: 'refunds over 100 need a human',
  },
  { id: 'no-deletes', effect: 'deny', tool: 'delete_order', reason: 'orders are never deleted by the agent' },
]);
const audit = memoryAudit();
// langchainApprover(): an `ask` is answered by the human's decision given through the interrupt.
const tg = createGuard({ policy, audit, approver: langchainApprover() });

const lookupOrder = tool(async ({ orderId }) => JSON.stringify({ orderId, status: 'shipped' }), {
  name: 'lookup_order',
  description: 'Looks up an order',
  schema: z.object({ orderId: z.string() }),
});
const refund = tool(async ({ orderId, amount }) => `refunded ${amount} on ${orderId}`, {
  name: 'refund',
  description: 'Refunds an order',
  schema: z.object({ orderId: z.string(), amount: z.number() }),
});
const deleteOrder = tool(async () => 'deleted', {
  name: 'delete_order',
  description: 'Deletes an order',
  schema: z.object({ orderId: z.string() }),
});

const model = fakeModel()
  .respondWithTools([
    { name: 'lookup_order', args: { orderId: 'o-1' }, id: 'tc-1' },
    { name: 'delete_order', args: { orderId: 'o-1' }, id: 'tc-2' },
  ])
  .respondWithTools([{ name: 'refund', args: { orderId: 'o-1', amount: 250 }, id: 'tc-3' }])
  .respond(new AIMessage('Refunded, and the order stays.'));

const agent = createAgent({
  model,
  tools: [lookupOrder, refund, deleteOrder],
  // Last in the list: the innermost middleware sees the arguments that actually run.
  middleware: [
    toolgateMiddleware(tg, { ask: 'interrupt', context: { agent: 'support-bot', principal: 'user:42' } }),
  ],
  checkpointer: new MemorySaver(), // interrupts need one
});
const config = { configurable: { thread_id: 'ticket-123' } };

const first = await agent.invoke(
  { messages: [{ role: 'user', content: 'Refund o-1 and delete it.' }] },
  config,
);
for (const message of first.messages)
  if (ToolMessage.isInstance(message))
    console.log(`${message.name} (${message.status}) → ${String(message.content)}`);
const pending = (
  first as {
    __interrupt__?: { value: { actionRequests: { name: string; args: unknown; description: string }[] } }[];
  }
).__interrupt__?.[0]?.value.actionRequests[0];
console.log(`interrupted: ${pending?.name} ${JSON.stringify(pending?.args)} — ${pending?.description}`);

// The human approves, editing the amount down to 100; the guard re-checks the edited arguments.
console.log('human: approve, with amount 100');
const second = await agent.invoke(
  new Command({
    resume: {
      decisions: [{ type: 'edit', editedAction: { name: 'refund', args: { orderId: 'o-1', amount: 100 } } }],
    },
  }),
  config,
);
const last = second.messages.at(-2);
if (last && ToolMessage.isInstance(last))
  console.log(`${last.name} (${last.status}) → ${String(last.content)}`);
console.log(`model: ${String(second.messages.at(-1)?.content)}`);

// Outside createAgent (a bare LangGraph ToolNode, or direct calls), guard the tool itself.
const guardedDelete = guardTool(deleteOrder, tg);
console.log(`direct call → ${await guardedDelete.invoke({ orderId: 'o-2' })}`);

console.log('\naudit trail:');
for (const event of audit.events)
  if (event.type === 'decision')
    console.log(
      `  ${event.tool}: ${event.decision}${event.code ? ` ${event.code}` : ''} (policy: ${event.policyDecision}, principal: ${event.principal ?? '-'})`,
    );
await tg.close();
