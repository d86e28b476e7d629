// The suite's tools as OpenAI Agents function tools built and guarded by `guardedTool`.
import type { FunctionTool } from '@openai/agents';
import { type GuardToolOptions, guardedTool } from '../../src/adapters/openai-agents/index.ts';
import type { Harness } from './harness.ts';

export function agentsGuardedTools(h: Harness, options: GuardToolOptions = {}): FunctionTool[] {
  return h.tools.map(
    (t) =>
      guardedTool(
        {
          name: t.name,
          description: t.description,
          parameters: t.schema as never,
          execute: (input, _context, details) => t.execute(input as never, { signal: details?.signal }),
        },
        h.tg,
        options,
      ) as unknown as FunctionTool,
  );
}
