// toolgate with the OpenAI Agents SDK: guard function tools, turn toolgate's `ask` into the SDK's
// own approval interruptions, and answer them through toolgate, so each answer is recorded with
// who gave it. Runs offline with the SDK's ScriptedModel.
//
//   npm install toolgate @openai/agents zod
import assert from 'node:assert/strict';
import { Agent, type RunContext, run, setTracingDisabled } from '@openai/agents';
import { assistantMessage, functionCall, ScriptedModel } from '@openai/agents/testing';
import { createGuard, memoryAudit, rules } from 'toolgate';
import { agentsApprover, guardedTool, respondToApproval } from 'toolgate/openai-agents';
import { z } from 'zod';

setTracingDisabled(true); // offline: nothing to export traces to

const policy = rules([
  { id: 'lookups', effect: 'allow', tool: 'orders.lookup' },
  {
    id: 'refunds',
    effect: 'ask',
    tool: 'payments.refund',
    reason: 'refunds need a person',
    approval: { approvers: ['user:ops-*'] }, // only the ops team may approve
  },
  {
    id: 'no-deletes',
    effect: 'deny',
    tool: 'orders.delete',
    reason: 'orders are never deleted by the agent',
  },
]);
const audit = memoryAudit();
// agentsApprover(): the guard's `ask` is answered by the person's answer to the SDK's interruption.
const tg = createGuard({ policy, audit, approver: agentsApprover() });

// Identity comes from the host's run context (`run(…, { context })`), never from the model.
interface AppContext {
  userId: string;
}
const identity = {
  context: (runContext: RunContext<AppContext>) => ({
    agent: 'support-bot',
    principal: runContext.context.userId,
  }),
};
// guardedTool builds each tool with the SDK's tool() and guards it: a tool that throws is recorded
// as an error (a guarded copy of a finished tool, guardTool, would record the SDK's error text).
const lookupOrder = guardedTool(
  {
    name: 'lookup_order',
    description: 'Looks up an order',
    parameters: z.object({ orderId: z.string() }),
    execute: async ({ orderId }) => ({ orderId, status: 'shipped' }),
  },
  tg,
  { name: 'orders.lookup', ...identity },
);
const refund = guardedTool(
  {
    name: 'refund',
    description: 'Refunds an order',
    parameters: z.object({ orderId: z.string(), amount: z.number() }),
    execute: async ({ orderId, amount }) => `refunded ${amount} on ${orderId}`,
  },
  tg,
  { name: 'payments.refund', ask: 'interruption', ...identity }, // ask → the SDK's interruption
);
const deleteOrder = guardedTool(
  {
    name: 'delete_order',
    description: 'Deletes an order',
    parameters: z.object({ orderId: z.string() }),
    execute: async () => 'deleted',
  },
  tg,
  { name: 'orders.delete', ...identity },
);

// In your app: `model: 'gpt-5'` or any model. This one calls four tools, then answers in text.
const model = new ScriptedModel([
  [
    functionCall('lookup_order', { orderId: 'o-1' }, { callId: 'c1' }),
    functionCall('delete_order', { orderId: 'o-1' }, { callId: 'c2' }),
    functionCall('refund', { orderId: 'o-1', amount: 250 }, { callId: 'c3' }),
    functionCall('refund', { orderId: 'o-2', amount: 900 }, { callId: 'c4' }),
  ],
  [assistantMessage('Refunded 250 on o-1; o-2 was not refunded.')],
]);
const agent = new Agent<AppContext>({
  name: 'support',
  instructions: 'Help with orders.',
  model,
  tools: [lookupOrder, refund, deleteOrder],
});

let result = await run(agent, 'Refund o-1 and o-2, delete o-1.', { context: { userId: 'user:42' } });

// Each interruption waits for a person. Their answer goes through respondToApproval(), which
// records it with who gave it and applies it to the run state.
for (const item of result.interruptions) {
  const approved = item.arguments?.includes('"o-1"') === true;
  console.log(
    `waiting: ${item.name} ${item.arguments} → ${approved ? 'approved' : 'rejected'} by user:ops-alice`,
  );
  await respondToApproval(
    result.state,
    item,
    approved
      ? { approved: true, approver: 'user:ops-alice' }
      : { approved: false, approver: 'user:ops-alice', reason: 'o-2 was already refunded' },
  );
}
result = await run(agent, result.state);
for (const item of result.newItems) {
  const raw = item.rawItem as { name?: string; callId?: string };
  if (item.type === 'tool_call_output_item')
    console.log(`${raw.name} ${raw.callId} → ${JSON.stringify(item.output)}`);
}
console.log(`model: ${result.finalOutput}`);

console.log('\naudit trail:');
for (const event of audit.events) {
  if (event.type === 'approval-response')
    console.log(
      `  ${event.tool} ${event.toolCallId}: ${event.approved ? 'approved' : 'rejected'} by ${event.approver}`,
    );
  if (event.type === 'decision')
    console.log(
      `  ${event.tool} ${event.toolCallId}: ${event.decision}${event.code ? ` ${event.code}` : ''}`,
    );
}
const decisions = audit.events.filter((event) => event.type === 'decision');
assert.deepEqual(
  decisions.map((event) => `${event.toolCallId} ${event.decision} ${event.code ?? ''}`.trim()).sort(),
  ['c1 allow', 'c2 deny DENIED_BY_RULE', 'c3 allow', 'c4 deny APPROVAL_DENIED'],
);
await tg.close();
