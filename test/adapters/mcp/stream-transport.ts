import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/**
 * An MCP client transport over a pair of streams (newline-delimited JSON-RPC), to drive an
 * in-process `runMcpProxy` with a real SDK client.
 */
export function streamPair(): { transport: Transport; input: PassThrough; output: PassThrough } {
  const input = new PassThrough(); // client → proxy
  const output = new PassThrough(); // proxy → client
  const transport: Transport = {
    async start() {
      createInterface({ input: output }).on('line', (line) => {
        if (line.trim() !== '') transport.onmessage?.(JSON.parse(line) as JSONRPCMessage);
      });
    },
    async send(message) {
      input.write(`${JSON.stringify(message)}\n`);
    },
    async close() {
      input.end();
      transport.onclose?.();
    },
  };
  return { transport, input, output };
}
