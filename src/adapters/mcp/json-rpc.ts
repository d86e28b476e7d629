import type { JsonObject } from '../../types.ts';
import type { JsonRpcId, JsonRpcMessage, McpCallToolResult } from './types.ts';

/** True for a JSON-RPC request (a method and an id). */
export function isRequest(message: unknown): message is JsonRpcMessage & { id: JsonRpcId; method: string } {
  return isMessage(message) && typeof message.method === 'string' && isId(message.id);
}

/** True for a JSON-RPC notification (a method and no id). */
export function isNotification(message: unknown): message is JsonRpcMessage & { method: string } {
  return isMessage(message) && typeof message.method === 'string' && !('id' in message);
}

/** True for a JSON-RPC response (result or error, with an id). */
export function isResponse(message: unknown): message is JsonRpcMessage & { id: JsonRpcId } {
  return (
    isMessage(message) &&
    !('method' in message) &&
    isId(message.id) &&
    ('result' in message || 'error' in message)
  );
}

function isMessage(message: unknown): message is JsonRpcMessage {
  return typeof message === 'object' && message !== null && !Array.isArray(message);
}

function isId(id: unknown): id is JsonRpcId {
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));
}

/** A key for maps of pending requests: `1` and `"1"` are different ids. */
export function idKey(id: JsonRpcId): string {
  return typeof id === 'number' ? `n:${id}` : `s:${id}`;
}

/** The params of a message as an object (missing or malformed params read as `{}`). */
export function paramsOf(message: JsonRpcMessage): JsonObject {
  const params = message.params;
  return typeof params === 'object' && params !== null && !Array.isArray(params) ? params : {};
}

/** A `CallToolResult` the model can read: `isError: true` with one text block. */
export function errorResult(text: string): McpCallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}
