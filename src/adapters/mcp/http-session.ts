import type { ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import type { ToolContext } from '../../types.ts';
import { idKey, isResponse } from './json-rpc.ts';
import type { JsonRpcId, JsonRpcMessage } from './types.ts';

// One session of the Streamable HTTP proxy (http-listener.ts): its caller, its renewable
// credential, the requests waiting for the server's answers, and its event stream.

/** Who a bearer credential names, once verified. */
export interface HttpCaller {
  readonly agent: string;
  readonly principal: string;
}

/** The header that names a session. */
export const SESSION_HEADER = 'mcp-session-id';

interface Pending {
  readonly id: JsonRpcId;
  resolve(message: JsonRpcMessage): void;
}

/** One MCP session: its caller, its credential (renewable), its server process behind the stdio proxy. */
export class Session {
  readonly input: PassThrough = new PassThrough();
  readonly pending: Map<string, Pending> = new Map();
  private readonly queued: string[] = [];
  private stream: ServerResponse | undefined;
  private idle: NodeJS.Timeout | undefined;
  context: ToolContext;
  closed = false;
  /** When it started (epoch ms). */
  readonly startedAt: number = Date.now();
  /** Hears, once, that the session ended and why. */
  onEnd: ((reason: string) => void) | undefined;

  constructor(
    readonly id: string,
    readonly caller: HttpCaller,
    token: string,
    private readonly maxQueued: number,
  ) {
    this.context = { credential: token };
  }

  /** A line from the proxy to the client: the answer to a waiting POST, or for the event stream. */
  fromServer(line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      return;
    }
    if (isResponse(message)) {
      const waiting = this.pending.get(idKey(message.id));
      if (waiting !== undefined) {
        this.pending.delete(idKey(message.id));
        waiting.resolve(message);
        return;
      }
    }
    const event = `event: message\ndata: ${line}\n\n`;
    if (this.stream !== undefined && !this.stream.writableEnded) this.stream.write(event);
    else if (this.queued.length < this.maxQueued) this.queued.push(event);
  }

  /** Restarts the idle clock; `onIdle` runs when it runs out. */
  touch(idleMs: number, onIdle: () => void): void {
    if (this.idle !== undefined) clearTimeout(this.idle);
    this.idle = setTimeout(onIdle, idleMs);
    this.idle.unref();
  }

  openStream(response: ServerResponse): boolean {
    if (this.stream !== undefined && !this.stream.writableEnded) return false;
    response.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      [SESSION_HEADER]: this.id,
    });
    response.flushHeaders();
    this.stream = response;
    for (const event of this.queued.splice(0)) response.write(event);
    response.on('close', () => {
      if (this.stream === response) this.stream = undefined;
    });
    return true;
  }

  end(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    if (this.idle !== undefined) clearTimeout(this.idle);
    this.input.end();
    for (const waiting of this.pending.values()) {
      waiting.resolve({
        jsonrpc: '2.0',
        id: waiting.id,
        error: { code: -32603, message: `toolgate: ${reason}` },
      });
    }
    this.pending.clear();
    this.stream?.end();
    this.onEnd?.(reason);
  }
}
