import { hashJson } from '../_internal/canonical.ts';
import { parseDuration } from '../_internal/duration.ts';
import { readAnswer } from '../approval/messages.ts';
import type { ApprovalAnswer, ApprovalQueue, PendingApproval } from '../approval/queue.ts';
import { approverProblem, normalizeRequirements } from '../approval/requirements.ts';
import type { RememberOptions } from '../approval/types.ts';
import type { JsonObject } from '../types.ts';
import type { SignedIn } from './accounts.ts';
import { HttpError } from './http.ts';
import { checkSchema } from './page/json-schema.ts';

/** What the page shows of one pending approval. */
export interface InboxItem {
  readonly id: string;
  readonly callId: string;
  readonly tool: string;
  readonly risk?: string;
  readonly args: unknown;
  readonly argsHash: string;
  /** The args shown are redacted (they differ from the ones the call holds): editing is off. */
  readonly argsRedacted: boolean;
  readonly context: Record<string, unknown>;
  readonly reason: string;
  readonly rules: readonly string[];
  readonly expiresAt: number;
  readonly quorum: number;
  readonly approvedBy: readonly string[];
  readonly approvers?: readonly string[];
  readonly separationOfDuties: boolean;
  readonly policyVersion?: string;
  readonly inputSchema?: unknown;
  /** Whether this account may answer, and if not, why. */
  readonly answer: { readonly allowed: boolean; readonly why?: string };
  readonly canEdit: boolean;
  readonly canRemember: boolean;
}

/** Durations offered for "approve and remember"; longer grants are issued by host code, not a click. */
export const REMEMBER_CHOICES: readonly string[] = ['15m', '1h', '8h', '24h'];

const CONTEXT_FIELDS = ['agent', 'principal', 'intent', 'session'] as const;

/** Why `account` may not answer `entry` (console rules on top of the library's), or undefined. */
export function answerProblem(
  account: SignedIn,
  entry: PendingApproval,
  approving: boolean,
): string | undefined {
  if (account.role === 'viewer') return 'a viewer cannot answer approvals';
  const name = account.name.normalize('NFC');
  const { principal, agent } = entry.request.context;
  if (name === principal?.normalize('NFC') || name === agent?.normalize('NFC'))
    return 'you asked for this call; someone else must answer it';
  const requirements = normalizeRequirements(entry.request.requirements, 0);
  if (typeof requirements === 'string') return requirements;
  // A denial ends the call: only accounts the rule's approvers globs name may give one.
  const who = approverProblem(requirements, account.name, approving ? principal : undefined);
  if (who !== undefined) return who;
  if (!approving) return undefined;
  if (entry.request.approvedBy?.includes(name)) return 'you have already approved this call';
  return undefined;
}

/** The page's view of a pending approval, for `account`. */
export function inboxItem(entry: PendingApproval, account: SignedIn): InboxItem {
  const { request } = entry;
  const requirements = normalizeRequirements(request.requirements, 0);
  const quorum = typeof requirements === 'string' ? 1 : requirements.quorum;
  const context: Record<string, unknown> = {};
  for (const field of CONTEXT_FIELDS) {
    if (typeof request.context[field] === 'string') context[field] = request.context[field];
  }
  // Identity (when on) puts the credential id in the context; nothing else of it is shown.
  const credentialId = (request.context as Record<string, unknown>).credentialId;
  if (typeof credentialId === 'string') context.credentialId = credentialId;
  if (request.context.attributes !== undefined) context.attributes = request.context.attributes;
  const argsRedacted = hashJson(request.args) !== request.argsHash;
  const problem = answerProblem(account, entry, true) ?? answerProblem(account, entry, false);
  const approvers = request.requirements?.approvers;
  const item: { -readonly [K in keyof InboxItem]: InboxItem[K] } = {
    id: entry.id,
    callId: request.callId,
    tool: request.tool,
    args: request.args,
    argsHash: request.argsHash,
    argsRedacted,
    context,
    reason: request.reason,
    rules: request.rules,
    expiresAt: request.expiresAt,
    quorum,
    approvedBy: request.approvedBy ?? [],
    separationOfDuties: request.requirements?.separationOfDuties === true,
    answer: problem === undefined ? { allowed: true } : { allowed: false, why: problem },
    // `editable: false`: the tool's schema transforms these args, so the guard would refuse an edit.
    canEdit: quorum === 1 && !argsRedacted && request.editable !== false,
    canRemember: quorum === 1,
  };
  if (request.risk !== undefined) item.risk = request.risk;
  if (approvers !== undefined) item.approvers = typeof approvers === 'string' ? [approvers] : approvers;
  if (request.policyVersion !== undefined) item.policyVersion = request.policyVersion;
  if (request.inputSchema !== undefined) item.inputSchema = request.inputSchema;
  return item;
}

/** Turns a page's approve body into the library answer, checking it first (400 / 422). */
export function approvalAnswer(
  account: SignedIn,
  entry: PendingApproval,
  body: Record<string, unknown>,
): { answer: ApprovalAnswer; details: JsonObject } {
  for (const key of Object.keys(body)) {
    if (key !== 'args' && key !== 'remember') throw new HttpError(400, `unexpected field ${key}`);
  }
  const answer: Extract<ApprovalAnswer, { approved: true }> = { approved: true, approver: account.name };
  const details: JsonObject = {};
  const item = inboxItem(entry, account);
  if (body.args !== undefined) {
    if (!item.canEdit)
      throw new HttpError(
        400,
        item.argsRedacted
          ? 'these arguments were redacted for display; they cannot be edited here'
          : entry.request.editable === false
            ? "the tool's input schema transforms these arguments, so an edit would not run as approved; approve or deny them as they are"
            : 'arguments cannot be edited when approval needs a quorum',
      );
    const args = body.args;
    if (typeof args !== 'object' || args === null || Array.isArray(args))
      throw new HttpError(400, 'edited arguments must be a JSON object');
    // Read as the guard reads an answer (depth and size caps, finite numbers), before anything walks them.
    const readable = readAnswer({ requestId: entry.id, approved: true, approver: account.name, args });
    if (typeof readable === 'string')
      throw new HttpError(400, `the edited arguments ${readable.replace(/^the answer /, '')}`);
    const issues =
      entry.request.inputSchema === undefined ? [] : checkSchema(entry.request.inputSchema, args);
    if (issues.length > 0)
      throw new HttpError(
        422,
        `the edited arguments do not fit the tool's schema: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`,
      );
    const editedHash = hashJson(args);
    if (editedHash !== entry.request.argsHash) {
      answer.args = args as JsonObject;
      details.editedArgsHash = editedHash;
    }
  }
  if (body.remember !== undefined) {
    if (!item.canRemember) throw new HttpError(400, 'an approval that needs a quorum cannot be remembered');
    answer.remember = rememberOf(body.remember);
    details.remember = answer.remember as unknown as JsonObject;
  }
  return { answer, details };
}

function rememberOf(value: unknown): RememberOptions {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new HttpError(400, 'remember must be an object');
  const raw = value as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (key !== 'for' && key !== 'scope') throw new HttpError(400, `remember has an unexpected field ${key}`);
  }
  if (typeof raw.for !== 'string' || !REMEMBER_CHOICES.includes(raw.for))
    throw new HttpError(400, `remember.for must be one of ${REMEMBER_CHOICES.join(', ')}`);
  parseDuration(raw.for, 'remember.for');
  const remember: RememberOptions = { for: raw.for };
  if (raw.scope !== undefined) {
    if (typeof raw.scope !== 'object' || raw.scope === null || Array.isArray(raw.scope))
      throw new HttpError(400, 'remember.scope must be an object');
    const scope: JsonObject = {};
    for (const [key, mode] of Object.entries(raw.scope as Record<string, unknown>)) {
      if (!['agent', 'principal', 'intent', 'args'].includes(key))
        throw new HttpError(400, `remember.scope has an unexpected field ${key}`);
      if (mode !== 'same' && mode !== 'any')
        throw new HttpError(400, `remember.scope.${key} must be same or any`);
      scope[key] = mode;
    }
    remember.scope = scope;
  }
  return remember;
}

/** Maps a `resolve()` refusal to an HTTP status: gone (404), already answered (409), not allowed (403). */
export function resolveError(error: unknown): HttpError {
  const message = String((error as Error)?.message ?? error).replace(/^toolgate: /, '');
  if (/no pending approval/.test(message))
    return new HttpError(404, 'this request is no longer pending (answered, timed out or cancelled)');
  if (/already answered/.test(message)) return new HttpError(409, 'someone else answered this request first');
  if (/invalid answer/.test(message)) return new HttpError(400, message);
  return new HttpError(403, message);
}

/** Looks up a pending approval (404 when gone). */
export async function pendingOr404(queue: ApprovalQueue, id: string): Promise<PendingApproval> {
  const entry = await queue.get(id);
  if (entry === undefined)
    throw new HttpError(404, 'this request is no longer pending (answered, timed out or cancelled)');
  return entry;
}
