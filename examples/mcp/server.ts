// A guarded MCP server with a human in the loop: refunds over 100 ask an approver.
// `tsx examples/mcp/server.ts` runs a scripted client against it in memory;
// `tsx examples/mcp/server.ts --stdio` serves it over stdio for a real MCP client.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { callbackApprover, consoleAudit, createGuard, memoryAudit, rules } from 'toolgate';
import { guardMcpServer } from 'toolgate/mcp';
import { z } from 'zod';

const stdio = process.argv.includes('--stdio');
const audit = memoryAudit();
const server = new McpServer({ name: 'payments', version: '1.0.0' });
server.registerTool(
  'refund',
  { description: 'Refund an order', inputSchema: { orderId: z.string(), amount: z.number() } },
  async ({ orderId, amount }) => ({ content: [{ type: 'text', text: `refunded ${amount} on ${orderId}` }] }),
);

const tg = createGuard({
  policy: rules([
    { id: 'refunds', effect: 'ask', tool: 'payments.refund', reason: 'refunds need a finance lead' },
  ]),
  // In production this is a person (Slack, a web UI…); here a rule of thumb answers.
  approver: callbackApprover((request) =>
    Number(request.args.amount) <= 100
      ? { requestId: request.id, approved: true, approver: 'finance:lead' }
      : {
          requestId: request.id,
          approved: false,
          approver: 'finance:lead',
          reason: 'over 100 needs a ticket',
        },
  ),
  // On stdio, audit to stderr (stdout carries the protocol); in the scripted run, keep it in memory.
  audit: stdio ? consoleAudit({ log: (line) => process.stderr.write(`${line}\n`) }) : audit,
});
guardMcpServer(server, tg, {
  server: 'payments',
  // Identity comes from the host (e.g. the transport's authInfo), never from the model.
  context: (call) => ({ agent: 'payments-mcp', ...(call.sessionId ? { session: call.sessionId } : {}) }),
});

if (stdio) {
  await server.connect(new StdioServerTransport());
} else {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'example-client', version: '1.0.0' });
  await server.connect(serverSide);
  await client.connect(clientSide);
  for (const amount of [40, 400]) {
    const result = await client.callTool({ name: 'refund', arguments: { orderId: 'o-7', amount } });
    const text = (result.content as { text?: string }[])[0]?.text;
    console.log(`refund ${amount}: ${result.isError ? 'ERROR' : 'ok'} ${text}`);
  }
  console.log('\naudit trail:');
  for (const event of audit.events) console.log(`  ${event.type.padEnd(18)} ${event.tool}`);
  await client.close();
}
