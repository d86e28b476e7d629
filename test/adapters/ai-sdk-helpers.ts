/** Mock-model helpers for the AI SDK adapter tests (shapes of `ai` 7 / LanguageModelV4). */
import type { LanguageModelV4GenerateResult, LanguageModelV4StreamPart } from '@ai-sdk/provider';
import { convertArrayToReadableStream, MockLanguageModelV4 } from 'ai/test';

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 5, text: 5, reasoning: undefined },
};

export function toolCallResult(
  toolName: string,
  input: unknown,
  toolCallId = 'call-1',
): LanguageModelV4GenerateResult {
  return {
    content: [{ type: 'tool-call', toolCallId, toolName, input: JSON.stringify(input) }],
    finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
    usage,
    warnings: [],
  };
}

export function textResult(text: string): LanguageModelV4GenerateResult {
  return {
    content: [{ type: 'text', text }],
    finishReason: { unified: 'stop', raw: 'stop' },
    usage,
    warnings: [],
  };
}

/** A model that calls `toolName` once, then answers with text. */
export function scriptedModel(toolName: string, input: unknown, toolCallId = 'call-1') {
  return new MockLanguageModelV4({
    doGenerate: [toolCallResult(toolName, input, toolCallId), textResult('done')],
  });
}

export function streamingModel(toolName: string, input: unknown, toolCallId = 'call-1') {
  const first: LanguageModelV4StreamPart[] = [
    { type: 'stream-start', warnings: [] },
    { type: 'tool-call', toolCallId, toolName, input: JSON.stringify(input) },
    { type: 'finish', finishReason: { unified: 'tool-calls', raw: 'tool_calls' }, usage },
  ];
  const second: LanguageModelV4StreamPart[] = [
    { type: 'stream-start', warnings: [] },
    { type: 'text-start', id: 't1' },
    { type: 'text-delta', id: 't1', delta: 'done' },
    { type: 'text-end', id: 't1' },
    { type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage },
  ];
  return new MockLanguageModelV4({
    doStream: [
      { stream: convertArrayToReadableStream(first) },
      { stream: convertArrayToReadableStream(second) },
    ],
  });
}

/** The tool result the model was shown in the prompt of its second call, as text. */
export function toolResultSeen(
  prompt: readonly { role: string; content: unknown }[] | undefined,
): string | undefined {
  const message = prompt?.findLast((m) => m.role === 'tool');
  if (message === undefined || !Array.isArray(message.content)) return undefined;
  return JSON.stringify(message.content.map((part: { output?: unknown }) => part.output));
}

/** A model that calls several tools in one step, then answers with text. */
export function multiCallModel(calls: readonly { toolName: string; input: unknown; toolCallId: string }[]) {
  const first: LanguageModelV4GenerateResult = {
    content: calls.map((call) => ({
      type: 'tool-call' as const,
      toolCallId: call.toolCallId,
      toolName: call.toolName,
      input: JSON.stringify(call.input),
    })),
    finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
    usage,
    warnings: [],
  };
  return new MockLanguageModelV4({ doGenerate: [first, textResult('done')] });
}
