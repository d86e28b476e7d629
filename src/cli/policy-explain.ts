import { toolNameProblem } from '../_internal/names.ts';
import type { RuleStatus } from '../policy/rules.ts';
import { statusOf } from '../policy/rules.ts';
import { decide, loadPolicyFile, makeRequest, parseJsonFlag } from './policy-input.ts';

/** A status `toolgate policy explain` prints for a rule. */
export type ExplainStatus = Exclude<RuleStatus, { error: string }> | 'error';

/**
 * Every status `toolgate policy explain` can print for a rule, with its meaning: the one list,
 * checked against the engine's statuses by the type and against docs/policies.md by a test.
 */
export const EXPLAIN_STATUSES: Readonly<Record<ExplainStatus, string>> = Object.freeze({
  applies: 'the rule applies to this call',
  'tool-mismatch': 'the rule is for other tools (listed with `--json` only)',
  'target-mismatch': 'the rule is for another agent, principal or intent',
  expired: 'the rule expired (its `expires` is past)',
  'outside-schedule': "the call is outside the rule's `schedule`",
  'inside-outside-window': "the call is inside the window the rule's `outside` excludes",
  'condition-false': "the rule's `when` conditions do not hold",
  'condition-indeterminate':
    'a condition could not be established (a value is missing or of another type): an allow rule does not apply',
  error: 'evaluating the rule failed; the message follows',
});

/** The tool's risk and tags as it would be registered (`--risk high --tags db,prod`). */
function toolInfo(flags: Record<string, string>): { risk?: string; tags?: string[] } {
  const info: { risk?: string; tags?: string[] } = {};
  if (flags.risk !== undefined) info.risk = flags.risk;
  if (flags.tags !== undefined)
    info.tags = flags.tags
      .split(',')
      .map((tag) => tag.trim())
      .filter((tag) => tag !== '');
  return info;
}

/** `toolgate policy explain`: the decision for one call and the status of every candidate rule. */
export async function explain(
  positional: string[],
  flags: Record<string, string>,
  json: boolean,
): Promise<number> {
  const { engine, rules } = await loadPolicyFile(positional[0]);
  const request = makeRequest(
    flags.tool,
    parseJsonFlag(flags.args, 'args'),
    parseJsonFlag(flags.context, 'context'),
    flags.now,
    toolInfo(flags),
  );
  const decision = decide(engine, request);
  const nameProblem = toolNameProblem(request.tool.name);
  const trace = rules.map((rule): { rule: string; effect: string; status: ExplainStatus; error?: string } => {
    if (nameProblem !== undefined || !rule.tools.some((glob) => glob.test(request.tool.name)))
      return { rule: rule.id, effect: rule.effect, status: 'tool-mismatch' };
    try {
      return { rule: rule.id, effect: rule.effect, status: statusOf(rule, request) };
    } catch (error) {
      return { rule: rule.id, effect: rule.effect, status: 'error', error: (error as Error).message };
    }
  });
  if (json) {
    console.log(JSON.stringify({ decision, trace }));
    return 0;
  }
  const code = decision.type === 'deny' ? ` (${decision.code})` : '';
  console.log(`decision: ${decision.type}${code}`);
  console.log(`rules:    ${decision.rules.length === 0 ? '(none)' : decision.rules.join(', ')}`);
  if (decision.reason !== undefined) console.log(`reason:   ${decision.reason}`);
  if (decision.type !== 'deny' && decision.obligations !== undefined)
    console.log(`obligations: ${JSON.stringify(decision.obligations)}`);
  if (decision.type === 'ask' && decision.approval !== undefined)
    console.log(`approval: ${JSON.stringify(decision.approval)}`);
  if (decision.type !== 'deny' && decision.limits !== undefined)
    console.log(`limits:   ${JSON.stringify(decision.limits)}`);
  console.log('candidate rules:');
  for (const entry of trace) {
    if (entry.status === 'tool-mismatch') continue;
    console.log(
      `  ${entry.rule} (${entry.effect}): ${entry.status}${entry.error === undefined ? '' : `: ${entry.error}`}`,
    );
  }
  return 0;
}
