// toolgate with the Vercel AI SDK (v7): guard a tool set, let the SDK's own approval flow answer
// toolgate's `ask`, and show denials to the model. Runs offline with the SDK's mock model.
import { generateText, isStepCount, type ModelMessage, tool } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { createGuard, memoryAudit, rules } from 'toolgate';
import { aiSdkApprover, guardTools, toolApproval } from 'toolgate/ai-sdk';
import { z } from 'zod';

const policy = rules([
  { id: 'lookups', effect: 'allow', tool: 'lookupOrder' },
  { id: 'small-refunds', effect: 'allow', tool: 'refund', when: { 'args.amount': { lte: 100 } } },
  {
    id: 'large-refunds',
    effect: 'ask',
    tool: 'refund',
    when: { 'args.amount': { gt: 100 } },
    reason: 'refunds over 100 need a human',
  },
  { id: 'no-deletes', effect: 'deny', tool: 'deleteOrder', reason: 'orders are never deleted by the agent' },
]);
const audit = memoryAudit();
// aiSdkApprover(): an `ask` is answered by the user's answer in the AI SDK approval flow.
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

// A scripted model: step 1 calls three tools, step 2 answers in text.
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
      ],
      finishReason: { unified: 'tool-calls', raw: undefined },
      usage,
      warnings: [],
    },
    {
      content: [{ type: 'text', text: 'Refund done.' }],
      finishReason: { unified: 'stop', raw: undefined },
      usage,
      warnings: [],
    },
  ],
});

const settings = { model, tools, toolApproval: toolApproval(tg), stopWhen: isStepCount(3) };
const first = await generateText({ ...settings, prompt: 'Refund order o-1 and delete it.' });
for (const part of first.content) {
  if (part.type === 'tool-result') console.log(`${part.toolName} → ${JSON.stringify(part.output)}`);
  if (part.type === 'tool-approval-request')
    console.log(`${part.toolCall.toolName} → waiting for the user (${part.reason})`);
}

// The app shows the approval request to the user, who approves; the conversation continues.
const request = first.content.find((part) => part.type === 'tool-approval-request' && !part.isAutomatic);
if (request?.type !== 'tool-approval-request') throw new Error('expected an approval request');
console.log(`user approves ${request.toolCall.toolName}: ${JSON.stringify(request.toolCall.input)}`);
const messages: ModelMessage[] = [
  { role: 'user', content: 'Refund order o-1 and delete it.' },
  ...first.responseMessages,
  {
    role: 'tool',
    content: [{ type: 'tool-approval-response', approvalId: request.approvalId, approved: true }],
  },
];
const second = await generateText({ ...settings, messages });
console.log(`model: ${second.text}`);

console.log('\naudit trail:');
for (const event of audit.events) {
  if (event.type === 'decision')
    console.log(
      `  ${event.tool}: ${event.decision}${event.code ? ` ${event.code}` : ''} (policy: ${event.policyDecision})`,
    );
}
await tg.close();
