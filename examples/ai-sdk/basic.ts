// toolgate with the Vercel AI SDK 7: guard a tool set, show toolgate's denials as the SDK's own
// denied state, and route the person's answer to an approval request through toolgate, so it is
// recorded with who gave it. Runs offline with the SDK's mock model.
//
//   npm install toolgate ai zod
import assert from 'node:assert/strict';
import { generateText, isStepCount, type ModelMessage, tool } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { createGuard, memoryAudit, rules } from 'toolgate';
import { aiSdkApprover, guardTools, respondToApproval, toolApproval } from 'toolgate/ai-sdk';
import { z } from 'zod';

const policy = rules([
  { id: 'lookups', effect: 'allow', tool: 'lookupOrder' },
  {
    id: 'refunds',
    effect: 'ask',
    tool: 'refund',
    reason: 'refunds need a person',
    approval: { approvers: ['user:ops-*'] }, // only the ops team may approve
  },
  { id: 'no-deletes', effect: 'deny', tool: 'deleteOrder', reason: 'orders are never deleted by the agent' },
]);
const audit = memoryAudit();
// aiSdkApprover(): the guard's `ask` is answered by the person's answer in the AI SDK approval flow.
const tg = createGuard({ policy, audit, approver: aiSdkApprover() });

const tools = guardTools(
  {
    lookupOrder: tool({
      description: 'Looks up an order',
      inputSchema: z.object({ orderId: z.string() }),
      execute: async ({ orderId }) => ({ orderId, status: 'shipped', total: 250 }),
    }),
    refund: tool({
      description: 'Refunds an order',
      inputSchema: z.object({ orderId: z.string(), amount: z.number() }),
      execute: async ({ orderId, amount }) => `refunded ${amount} on ${orderId}`,
    }),
    deleteOrder: tool({
      description: 'Deletes an order',
      inputSchema: z.object({ orderId: z.string() }),
      execute: async () => 'deleted',
    }),
  },
  tg,
  { context: { agent: 'support-bot', principal: 'user:42' } }, // identity from the host, never the model
);

// In your app: `model: openai('gpt-5')` or any other provider. This one calls four tools, then
// answers in text.
const usage = {
  inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 1, text: 1, reasoning: undefined },
};
const call = (toolCallId: string, toolName: string, input: object) =>
  ({ type: 'tool-call', toolCallId, toolName, input: JSON.stringify(input) }) as const;
const model = new MockLanguageModelV4({
  doGenerate: [
    {
      content: [
        call('c1', 'lookupOrder', { orderId: 'o-1' }),
        call('c2', 'deleteOrder', { orderId: 'o-1' }),
        call('c3', 'refund', { orderId: 'o-1', amount: 250 }),
        call('c4', 'refund', { orderId: 'o-2', amount: 900 }),
      ],
      finishReason: { unified: 'tool-calls', raw: undefined },
      usage,
      warnings: [],
    },
    {
      content: [{ type: 'text', text: 'One refund done.' }],
      finishReason: { unified: 'stop', raw: undefined },
      usage,
      warnings: [],
    },
  ],
});

// toolApproval(tg): toolgate decides before the SDK runs a tool. Allow runs it, deny is the SDK's
// denied state, ask stops the run with an approval request for a person.
const settings = { model, tools, toolApproval: toolApproval(tg), stopWhen: isStepCount(3) };
const prompt = 'Refund orders o-1 and o-2, then delete o-1.';
const first = await generateText({ ...settings, prompt });
for (const part of first.content) {
  if (part.type === 'tool-result') console.log(`${part.toolName}: ran → ${JSON.stringify(part.output)}`);
  if (part.type === 'tool-approval-response' && !part.approved)
    console.log(`${part.toolCall.toolName}: denied → ${part.reason}`);
}

// The app shows each approval request to a person. Their answer goes through respondToApproval(),
// which records it with who gave it and builds the SDK's approval response.
const requests = first.content.filter((part) => part.type === 'tool-approval-request' && !part.isAutomatic);
assert.equal(requests.length, 2);
const answers = [
  { approved: true, approver: 'user:ops-alice' },
  { approved: false, approver: 'user:ops-alice', reason: 'o-2 was already refunded' },
];
const responses = [];
for (const [i, request] of requests.entries()) {
  if (request.type !== 'tool-approval-request') continue;
  console.log(
    `${request.toolCall.toolName} ${JSON.stringify(request.toolCall.input)}: waiting (${request.reason})`,
  );
  responses.push(await respondToApproval(tools, request, answers[i]!));
}

// The conversation continues with the answers: the approved refund runs, the rejected one never does.
const messages: ModelMessage[] = [
  { role: 'user', content: prompt },
  ...first.responseMessages,
  { role: 'tool', content: responses },
];
const second = await generateText({ ...settings, messages });
console.log(`model: ${second.text}`);

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
