import { userInfo } from 'node:os';
import { createInterface, type Interface } from 'node:readline/promises';
import { parseDuration } from '../_internal/duration.ts';
import { INVISIBLE_CHARACTERS, identityProblem } from '../_internal/names.ts';
import { ConfigurationError } from '../errors.ts';
import type { JsonObject } from '../types.ts';
import type { ApprovalProvider, ApprovalRequest, ApprovalResponse } from './types.ts';

/** Options of `terminalApprover`. */
export interface TerminalApproverOptions {
  /** Where answers are read. @default process.stdin */
  input?: NodeJS.ReadableStream;
  /** Where prompts are written. @default process.stdout */
  output?: NodeJS.WritableStream;
  /** Who answers, recorded as the approver (an identity: no invisible characters or outer spaces). @default `terminal:<os user>` */
  approver?: string;
  /** @default 'terminal' */
  name?: string;
  /** Longest args text shown, in characters. @default 4000 */
  maxArgsChars?: number;
}

/**
 * Asks at the terminal (readline): shows the tool, the (redacted) arguments, the reason and the
 * context, then takes `a` approve, `d` deny (with a reason), `e` edit the arguments as JSON, or `r`
 * approve and remember for a duration. Requests are asked one at a time. Control characters in
 * anything shown are escaped, so arguments cannot rewrite the prompt. If the input closes, the
 * pending request denies (`APPROVAL_ERROR`).
 *
 * @example
 * const tg = createGuard({ policy, approver: terminalApprover() });
 */
export function terminalApprover(options: TerminalApproverOptions = {}): ApprovalProvider {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const approver = options.approver ?? `terminal:${safeUser()}`;
  const invalid = identityProblem(approver, 'terminalApprover(): approver');
  if (invalid !== undefined) throw new ConfigurationError(invalid);
  const maxArgsChars = options.maxArgsChars ?? 4000;
  let rl: Interface | undefined;
  let closed = false;
  let queue: Promise<unknown> = Promise.resolve();

  const open = (): Interface => {
    if (closed) throw new Error('the terminal input is closed');
    if (rl === undefined) {
      rl = createInterface({ input, output, terminal: (input as { isTTY?: boolean }).isTTY === true });
      rl.once('close', () => {
        closed = true;
        rl = undefined;
      });
    }
    return rl;
  };

  const ask = async (request: ApprovalRequest, signal: AbortSignal): Promise<ApprovalResponse> => {
    signal.throwIfAborted();
    const line = open();
    const closedPromise = new Promise<never>((_, reject) =>
      line.once('close', () => reject(new Error('the terminal input closed before an answer'))),
    );
    closedPromise.catch(() => {});
    const question = (text: string) => Promise.race([line.question(text, { signal }), closedPromise]);
    output.write(render(request, maxArgsChars));
    for (;;) {
      const choice = (await question('[a]pprove  [d]eny  [e]dit args  [r]emember  > ')).trim().toLowerCase();
      if (['a', 'y', 'yes', 'approve'].includes(choice))
        return { requestId: request.id, approved: true, approver };
      if (['d', 'n', 'no', 'deny'].includes(choice)) {
        const reason = (await question('reason: ')).trim();
        return {
          requestId: request.id,
          approved: false,
          approver,
          reason: reason || 'denied at the terminal',
        };
      }
      if (['e', 'edit'].includes(choice)) {
        const text = await question('edited args (JSON on one line): ');
        let args: unknown;
        try {
          args = JSON.parse(text);
        } catch {
          output.write('  not valid JSON; try again\n');
          continue;
        }
        if (typeof args !== 'object' || args === null || Array.isArray(args)) {
          output.write('  args must be a JSON object; try again\n');
          continue;
        }
        return { requestId: request.id, approved: true, approver, args: args as JsonObject };
      }
      if (['r', 'remember'].includes(choice)) {
        const duration = (await question('remember for (e.g. 30m, 1h): ')).trim();
        try {
          if (parseDuration(duration, 'remember') <= 0) throw new Error('zero');
        } catch {
          output.write('  not a duration; try again\n');
          continue;
        }
        return { requestId: request.id, approved: true, approver, remember: { for: duration } };
      }
      output.write('  answer a, d, e or r\n');
    }
  };

  return {
    name: options.name ?? 'terminal',
    request(request, { signal }) {
      // One prompt at a time: a second request waits for the first to be answered.
      const answer = queue.then(() => ask(request, signal));
      queue = answer.catch(() => {});
      return answer;
    },
    close() {
      rl?.close();
    },
  };
}

function render(request: ApprovalRequest, maxArgsChars: number): string {
  const context = Object.entries(request.context)
    .filter(([key]) => key !== 'attributes')
    .map(([key, value]) => `${key}=${clean(String(value))}`)
    .join(' ');
  let args = JSON.stringify(request.args, null, 2) ?? '{}';
  if (args.length > maxArgsChars)
    args = `${args.slice(0, maxArgsChars)}\n… (${args.length - maxArgsChars} more characters)`;
  const seconds = Math.max(0, Math.round((request.expiresAt - Date.now()) / 1000));
  const lines = [
    '',
    '── toolgate: approval needed ─────────────────────────────',
    ` request  ${clean(request.id)}`,
    ` tool     ${clean(request.tool)}`,
    ` reason   ${clean(request.reason)}`,
  ];
  if (context) lines.push(` context  ${context}`);
  lines.push(` expires  ${new Date(request.expiresAt).toISOString()} (in ${seconds}s)`);
  const quorum = request.requirements?.quorum;
  if (quorum !== undefined && quorum > 1) {
    const by = request.approvedBy ?? [];
    lines.push(
      ` quorum   ${by.length} of ${quorum}${by.length > 0 ? ` (approved by ${by.map(clean).join(', ')})` : ''}`,
    );
  }
  lines.push(
    ' args',
    ...clean(args)
      .split('\n')
      .map((line) => `   ${line}`),
    '',
  );
  return `${lines.join('\n')}\n`;
}

/** Escapes control and format characters so nothing shown can move the cursor or recolor the prompt. */
function clean(text: string): string {
  return text.replace(INVISIBLE_CHARACTERS, (char) => (char === '\n' ? '\n' : escaped(char.codePointAt(0)!)));
}

/** `\u202e`, or `\u{e0100}` past the first plane. */
function escaped(code: number): string {
  const hex = code.toString(16);
  return code > 0xffff ? `\\u{${hex}}` : `\\u${hex.padStart(4, '0')}`;
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
