import { PassThrough, type Readable } from 'node:stream';
import { type McpProxyOptions, runMcpProxy } from '../../../src/adapters/mcp/index.ts';
import type { Guard, OnDeny } from '../../../src/index.ts';

/** A JSON-RPC message as a raw client reads it. */
export interface RawMessage {
  id?: unknown;
  method?: string;
  params?: Record<string, unknown>;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

/** What a proxy wrote to its client, line by line, and ways to wait for it. */
export interface RawReader {
  /** Every line, as written (blank ones dropped). */
  readonly lines: string[];
  /** The lines read as JSON. */
  messages(): RawMessage[];
  /** Resolves once `check` holds (polling every 20 ms), or fails after 10 s. */
  until(check: () => boolean): Promise<void>;
  /** The first message with this id, once it came (or fails after 10 s). */
  answer(id: number | string): Promise<RawMessage>;
}

/** Collects the newline-delimited lines of `stream` (a line split across chunks is joined first). */
export function readLines(stream: Readable): RawReader {
  const lines: string[] = [];
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts.filter(Boolean));
  });
  const messages = () => lines.map((line) => JSON.parse(line) as RawMessage);
  const until = async (check: () => boolean) => {
    for (let waited = 0; !check(); waited += 20) {
      if (waited > 10_000) throw new Error(`timed out; received ${JSON.stringify(lines)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const find = (id: number | string) => messages().find((message) => message.id === id);
  return {
    lines,
    messages,
    until,
    answer: async (id) => {
      await until(() => find(id) !== undefined);
      return find(id)!;
    },
  };
}

/** A raw client's line writer: one JSON-RPC message a line. */
export interface RawWriter {
  send(message: object): unknown;
}

/** `runMcpProxy` in this process over in-memory streams, spoken to in raw JSON-RPC lines. */
export function inProcessProxy(
  tg: Guard<OnDeny>,
  options: Omit<McpProxyOptions, 'input' | 'output'>,
): RawReader &
  RawWriter & {
    /** The client's side: what the proxy reads (for lines that are not JSON). */
    readonly input: PassThrough;
    /** The proxy's exit code (`runMcpProxy`'s promise). */
    readonly done: Promise<number>;
    /** Ends the client's input and waits for the proxy to finish. */
    close(): Promise<void>;
  } {
  const input = new PassThrough();
  const output = new PassThrough();
  const reader = readLines(output);
  const done = runMcpProxy(tg, { log: () => undefined, ...options, input, output });
  return {
    ...reader,
    input,
    done,
    send: (message) => input.write(`${JSON.stringify(message)}\n`),
    close: async () => {
      input.end();
      await done;
    },
  };
}

/** The `initialize` request of a raw client (id 0). */
export const INITIALIZE = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

/** The notification that ends the handshake. */
export const INITIALIZED = { jsonrpc: '2.0', method: 'notifications/initialized' };

/** The MCP handshake in raw lines: `initialize`, its answer, then `notifications/initialized`. */
export async function initialize(proxy: RawReader & RawWriter): Promise<void> {
  proxy.send(INITIALIZE);
  await proxy.answer(0);
  proxy.send(INITIALIZED);
}
