// MCP adapter overhead: one tools/call from an SDK client to an McpServer over an in-memory
// transport, unguarded vs. guarded with guardMcpServer (pin check, pinned input schema, rules()
// policy, memory audit); plus the cost of pinning one tool definition.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { guardMcpServer, toolPin } from '../src/adapters/mcp/index.ts';
import { createGuard, memoryAudit, rules } from '../src/index.ts';
import { type BenchRow, time } from './harness.ts';

function server(): McpServer {
  const mcp = new McpServer({ name: 'bench', version: '1.0.0' });
  mcp.registerTool(
    'lookup',
    {
      description: 'Look up an order',
      inputSchema: { orderId: z.string(), verbose: z.boolean().optional() },
    },
    async ({ orderId }) => ({ content: [{ type: 'text', text: `order ${orderId}: shipped` }] }),
  );
  return mcp;
}

async function connected(guarded: boolean): Promise<Client> {
  const mcp = server();
  if (guarded) {
    const tg = createGuard({
      policy: rules([{ id: 'lookup', effect: 'allow', tool: 'bench.lookup' }]),
      audit: memoryAudit({ limit: 1000 }),
    });
    guardMcpServer(mcp, tg, { server: 'bench' });
  }
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await mcp.connect(serverSide);
  await client.connect(clientSide);
  return client;
}

export default async function mcp(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const plain = await connected(false);
  const guarded = await connected(true);
  const params = { name: 'lookup', arguments: { orderId: 'o-1' } };
  const check = await guarded.callTool(params);
  if (check.isError) throw new Error('guarded MCP call did not allow');
  rows.push(await time('mcp.tools-call.in-memory.bare', () => plain.callTool(params)));
  rows.push(await time('mcp.tools-call.in-memory.guarded', () => guarded.callTool(params)));
  const { tools } = await plain.listTools();
  const tool = tools[0]!;
  rows.push(await time('mcp.tool-pin', () => toolPin(tool as never)));
  await plain.close();
  await guarded.close();
  return rows;
}
