import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const childServer = join(here, 'servers', 'demo-server.mjs');
const runProxy = join(here, 'servers', 'run-proxy.ts');

/**
 * An MCP client → `toolgate mcp-proxy` → the demo server, all real processes over stdio. The
 * caller closes the client. `elicit` answers the proxy's approval forms.
 */
export async function proxyClient(
  policyFile: string,
  flags: string[],
  options: { env?: Record<string, string>; elicit?: (message: string) => boolean } = {},
): Promise<{ client: Client; stderr: () => string }> {
  const stderr: string[] = [];
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [
      '--import',
      'tsx',
      runProxy,
      '--policy',
      policyFile,
      '--name',
      'demo',
      ...flags,
      '--',
      process.execPath,
      childServer,
    ],
    env: { ...(process.env as Record<string, string>), ...options.env },
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
  const client = new Client(
    { name: 'proxy-test', version: '1.0.0' },
    options.elicit === undefined ? {} : { capabilities: { elicitation: {} } },
  );
  const elicit = options.elicit;
  if (elicit !== undefined) {
    client.setRequestHandler(ElicitRequestSchema, (request) => ({
      action: 'accept',
      content: { approve: elicit(String(request.params.message)) },
    }));
  }
  await client.connect(transport);
  return { client, stderr: () => stderr.join('') };
}
