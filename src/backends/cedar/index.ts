/**
 * `toolgate/cedar`: use Cedar policies as a toolgate policy engine. Needs the optional peer
 * dependency `@cedar-policy/cedar-wasm`.
 */
import { preparsePolicySet, statefulIsAuthorized } from '@cedar-policy/cedar-wasm/nodejs';
import { sha256Hex } from '../../_internal/canonical.ts';
import { ConfigurationError } from '../../errors.ts';
import { deny } from '../../policy/evaluate.ts';
import type { PolicyEngine } from '../../policy/types.ts';
import type { Decision, ToolRequest } from '../../types.ts';

/** A Cedar entity reference. */
export interface CedarEntityUid {
  type: string;
  id: string;
}

/** What one tool call becomes in Cedar. */
export interface CedarRequest {
  principal: CedarEntityUid;
  action: CedarEntityUid;
  resource: CedarEntityUid;
  context: Record<string, unknown>;
}

/** Options of `cedarEngine`. */
export interface CedarEngineOptions {
  /** Cedar policy text, or policies by id (the ids then name the deciding rules). */
  policies: string | Readonly<Record<string, string>>;
  /** Cedar entities (JSON form), or a function of the request returning them. @default [] */
  entities?: readonly unknown[] | ((request: ToolRequest) => readonly unknown[]);
  /** Maps a call to principal / action / resource / context. Default: see `defaultCedarRequest`. */
  map?: (request: ToolRequest) => CedarRequest;
}

/**
 * The default mapping: principal `Agent::"<context.agent>"` (`Unknown::"unknown"` without an agent),
 * action `Action::"<tool name>"`, resource `Tool::"<tool name>"`, and context
 * `{ args, tool: { name, risk?, tags? }, principal?, intent?, session?, attributes? }`.
 */
export function defaultCedarRequest(request: ToolRequest): CedarRequest {
  const context: Record<string, unknown> = { args: request.args, tool: toolInfo(request) };
  const { agent, principal, intent, session, attributes } = request.context;
  if (principal !== undefined) context.principal = principal;
  if (intent !== undefined) context.intent = intent;
  if (session !== undefined) context.session = session;
  if (attributes !== undefined) context.attributes = attributes;
  return {
    principal: agent === undefined ? { type: 'Unknown', id: 'unknown' } : { type: 'Agent', id: agent },
    action: { type: 'Action', id: request.tool.name },
    resource: { type: 'Tool', id: request.tool.name },
    context,
  };
}

function toolInfo(request: ToolRequest): Record<string, unknown> {
  const info: Record<string, unknown> = { name: request.tool.name };
  if (request.tool.risk !== undefined) info.risk = request.tool.risk;
  if (request.tool.tags !== undefined) info.tags = request.tool.tags;
  return info;
}

let nextId = 0;

/**
 * A policy engine backed by Cedar (`@cedar-policy/cedar-wasm`), with the policy set parsed once.
 * Decisions: Cedar allow → allow (rules: the determining policies); a `forbid` → deny
 * `DENIED_BY_RULE`; no `permit` → deny `NO_MATCHING_RULE`. Stricter than Cedar on errors: any
 * policy evaluation error (which Cedar would skip) or request error denies with `POLICY_ERROR`.
 * Argument values that Cedar would read as entity or extension escapes (`__entity`, `__extn`,
 * `__expr` keys) are refused, so a model cannot forge entity references.
 *
 * @example
 * import { cedarEngine } from 'toolgate/cedar';
 * const policy = cedarEngine({ policies: {
 *   'refund-small': 'permit(principal, action == Action::"payments.refund", resource) when { context.args.amount <= 100 };',
 * } });
 */
export function cedarEngine(options: CedarEngineOptions): PolicyEngine & { readonly version: string } {
  if (typeof options !== 'object' || options === null)
    throw new ConfigurationError('cedarEngine() takes { policies, entities?, map? }');
  const { policies, entities = [], map = defaultCedarRequest } = options;
  if (typeof policies !== 'string' && (typeof policies !== 'object' || policies === null))
    throw new ConfigurationError('cedarEngine(): policies must be Cedar text or a record of policies by id');
  if (typeof map !== 'function') throw new ConfigurationError('cedarEngine(): map must be a function');
  if (typeof entities !== 'function' && !Array.isArray(entities))
    throw new ConfigurationError('cedarEngine(): entities must be a list or a function');
  const staticPolicies = typeof policies === 'string' ? policies : { ...policies };
  const id = `toolgate-cedar-${process.pid}-${nextId++}`;
  const parsed = preparsePolicySet(id, { staticPolicies } as never);
  if (parsed.type !== 'success')
    throw new ConfigurationError(
      `cedarEngine(): the policies do not parse: ${parsed.errors.map((e) => e.message).join('; ')}`,
    );
  const version = sha256Hex(
    typeof staticPolicies === 'string'
      ? staticPolicies
      : JSON.stringify(Object.entries(staticPolicies).sort()),
  );

  return Object.freeze({
    name: 'cedar',
    version,
    evaluate(request: ToolRequest): Decision {
      const call = map(request);
      const refused = findEscape(call.context, 0);
      if (refused !== undefined)
        return deny('POLICY_ERROR', `the request cannot be given to Cedar: ${refused}`, [], version);
      const answer = statefulIsAuthorized({
        principal: call.principal,
        action: call.action,
        resource: call.resource,
        context: call.context,
        preparsedPolicySetId: id,
        entities: (typeof entities === 'function' ? entities(request) : entities) as never,
      } as never);
      if (answer.type !== 'success') {
        return deny(
          'POLICY_ERROR',
          `Cedar could not evaluate the request: ${answer.errors
            .map((e) => e.message)
            .join('; ')
            .slice(0, 500)}`,
          [],
          version,
        );
      }
      const { decision, diagnostics } = answer.response;
      if (diagnostics.errors.length > 0) {
        const ids = [...new Set(diagnostics.errors.map((e) => e.policyId))].sort();
        return deny(
          'POLICY_ERROR',
          `Cedar policy ${diagnostics.errors[0]!.policyId} failed: ${diagnostics.errors[0]!.error.message}`,
          ids,
          version,
        );
      }
      const rules = Object.freeze([...diagnostics.reason].sort());
      if (decision === 'allow')
        return Object.freeze({
          type: 'allow',
          rules,
          reason: `permitted by ${rules.join(', ')}`,
          policyVersion: version,
        });
      if (rules.length > 0) return deny('DENIED_BY_RULE', `forbidden by ${rules.join(', ')}`, rules, version);
      return deny('NO_MATCHING_RULE', 'no Cedar policy permits this call', [], version);
    },
  });
}

function findEscape(value: unknown, depth: number): string | undefined {
  if (depth > 64) return 'nested too deeply';
  if (typeof value === 'number' && !Number.isInteger(value)) return 'Cedar has no fractional numbers';
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = findEscape(item, depth + 1);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  for (const [key, child] of Object.entries(value)) {
    if (key === '__entity' || key === '__extn' || key === '__expr')
      return `the key ${key} is reserved by Cedar`;
    const problem = findEscape(child, depth + 1);
    if (problem !== undefined) return problem;
  }
  return undefined;
}
