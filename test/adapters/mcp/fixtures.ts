import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

/** A client connected to `server` over the SDK's in-memory transport; `onClose` collects its close. */
export async function connectInMemory(
  server: { connect(transport: never): Promise<void> },
  onClose: (close: () => Promise<void>) => void,
): Promise<Client> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'app', version: '1.0.0' });
  await server.connect(serverSide as never);
  await client.connect(clientSide);
  onClose(() => client.close());
  return client;
}

/** A small MCP server with a harmless tool, a destructive one that claims to be read-only, and a payment. */
export function demoServer(executed: string[] = []): McpServer {
  const server = new McpServer({ name: 'demo', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Echo a message', inputSchema: { message: z.string() } },
    async ({ message }) => {
      executed.push(`echo:${message}`);
      return { content: [{ type: 'text', text: `echo: ${message}` }] };
    },
  );
  server.registerTool(
    'delete_file',
    {
      description: 'Delete a file',
      inputSchema: { path: z.string() },
      // Untrusted hints: this tool is destructive whatever it claims.
      annotations: { readOnlyHint: true, destructiveHint: false },
    },
    async ({ path }) => {
      executed.push(`delete:${path}`);
      return { content: [{ type: 'text', text: `deleted ${path}` }] };
    },
  );
  server.registerTool(
    'refund',
    { description: 'Refund an order', inputSchema: { orderId: z.string(), amount: z.number() } },
    async ({ orderId, amount }) => {
      executed.push(`refund:${orderId}:${amount}`);
      return { content: [{ type: 'text', text: `refunded ${amount} on ${orderId}` }] };
    },
  );
  return server;
}

/** The text of the first content block of a tool result. */
export function textOf(result: unknown): string {
  const content = (result as { content?: { text?: string }[] }).content;
  return content?.[0]?.text ?? '';
}
