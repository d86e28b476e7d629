// toolgate with LangChain.js 1: guard every tool call of a `createAgent` agent with a middleware,
// send toolgate's `ask` to a person through a LangGraph interrupt, and resume with their answer
// through toolgate, so it is recorded with who gave it. Runs offline with a fake model.
//
//   npm install toolgate langchain @langchain/core @langchain/langgraph zod
import assert from 'node:assert/strict';
import { AIMessage, ToolMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { tool } from '@langchain/core/tools';
import { Command, MemorySaver } from '@langchain/langgraph';
import { createAgent } from 'langchain';
import { createGuard, memoryAudit, rules } from 'toolgate';
import { guardTool, langchainApprover, respondToApproval, toolgateMiddleware } from 'toolgate/langchain';
import { z } from 'zod';

const policy = rules([
  { id: 'lookups', effect: 'allow', tool: 'lookup_order' },
  {
    id: 'refunds',
    effect: 'ask',
    tool: 'refund',
    reason: 'refunds need a person',
    approval: { approvers: ['user:ops-*'] }, // only the ops team may approve
  },
  { id: 'no-deletes', effect: 'deny', tool: 'delete_order', reason: 'orders are never deleted by the agent' },
]);
const audit = memoryAudit();
// langchainApprover(): the guard's `ask` is answered by the person's decision given through the interrupt.
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

// In your app: `model: 'openai:gpt-5'` or any chat model. This one calls the tools turn by turn.
const model = fakeModel()
  .respondWithTools([
    { name: 'lookup_order', args: { orderId: 'o-1' }, id: 'tc-1' },
    { name: 'delete_order', args: { orderId: 'o-1' }, id: 'tc-2' },
  ])
  .respondWithTools([{ name: 'refund', args: { orderId: 'o-1', amount: 250 }, id: 'tc-3' }])
  .respondWithTools([{ name: 'refund', args: { orderId: 'o-2', amount: 900 }, id: 'tc-4' }])
  .respond(new AIMessage('Refunded 100 on o-1; o-2 was not refunded.'));

// The run's context carries who the agent acts for; toolgate reads it, never the model's args.
interface AppContext {
  userId: string;
}
const agent = createAgent({
  model,
  tools: [lookupOrder, refund, deleteOrder],
  contextSchema: z.object({ userId: z.string() }),
  // Last in the list: the innermost middleware sees the arguments that actually run.
  middleware: [
    toolgateMiddleware<AppContext>(tg, {
      ask: 'interrupt',
      context: (request) => ({ agent: 'support-bot', principal: request.runtime.context.userId }),
    }),
  ],
  checkpointer: new MemorySaver(), // interrupts need one
});
const config = { configurable: { thread_id: 'ticket-123' }, context: { userId: 'user:42' } };

const show = (messages: readonly unknown[]) => {
  for (const message of messages)
    if (ToolMessage.isInstance(message))
      console.log(`${message.name} (${message.status}) → ${String(message.content)}`);
};
const pendingOf = (state: object) =>
  (state as { __interrupt__?: { id?: string; value: unknown }[] }).__interrupt__?.[0];

let state = await agent.invoke(
  { messages: [{ role: 'user', content: 'Refund o-1 and o-2, delete o-1.' }] },
  config,
);
show(state.messages);

// Each interrupt waits for a person. Their answer goes through respondToApproval(), which keeps
// who gave it for the guard, and builds the resume value.
const answers = [
  { approved: true, approver: 'user:ops-alice', args: { orderId: 'o-1', amount: 100 } }, // approve, edited down
  { approved: false, approver: 'user:ops-alice', reason: 'o-2 was already refunded' },
];
for (const answer of answers) {
  const pending = pendingOf(state);
  assert.ok(pending, 'expected an interrupt');
  const action = (pending.value as { actionRequests: { name: string; args: unknown }[] }).actionRequests[0];
  console.log(`waiting: ${action?.name} ${JSON.stringify(action?.args)}`);
  const shown = state.messages.length;
  state = await agent.invoke(new Command({ resume: respondToApproval(pending, answer) }), config);
  show(state.messages.slice(shown));
}
console.log(`model: ${String(state.messages.at(-1)?.content)}`);

// Outside createAgent (a bare LangGraph ToolNode, or direct calls), guard the tool itself.
const guardedDelete = guardTool(deleteOrder, tg);
console.log(`direct call → ${await guardedDelete.invoke({ orderId: 'o-2' })}`);

console.log('\naudit trail:');
for (const event of audit.events) {
  if (event.type === 'approval-response')
    console.log(
      `  ${event.tool} ${event.toolCallId}: ${event.approved ? 'approved' : 'rejected'} by ${event.approver}`,
    );
  if (event.type === 'decision')
    console.log(
      `  ${event.tool} ${event.toolCallId ?? ''}: ${event.decision}${event.code ? ` ${event.code}` : ''}`,
    );
}
const decisions = audit.events.filter((event) => event.type === 'decision');
assert.deepEqual(
  decisions.map((event) => `${event.toolCallId ?? '-'} ${event.decision} ${event.code ?? ''}`.trim()),
  [
    'tc-1 allow',
    'tc-2 deny DENIED_BY_RULE',
    'tc-3 allow',
    'tc-4 deny APPROVAL_DENIED',
    '- deny DENIED_BY_RULE',
  ],
);
await tg.close();
