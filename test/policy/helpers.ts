import type { JsonObject, ToolContext, ToolRequest } from '../../src/types.ts';

/** A frozen request for policy tests (no guard involved). */
export function request(
  tool: string,
  args: JsonObject = {},
  context: ToolContext = {},
  now = Date.UTC(2026, 0, 5, 10, 0),
  info: { risk?: string; tags?: string[] } = {},
): ToolRequest {
  return Object.freeze({
    callId: 'c1',
    depth: 0,
    tool: Object.freeze({ name: tool, ...info }),
    args: deepFreeze(structuredClone(args)),
    argsHash: 'x',
    context: deepFreeze(structuredClone(context)),
    now,
  }) as ToolRequest;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
}
