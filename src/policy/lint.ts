import { compileGlob } from '../_internal/glob.ts';
import type { CompiledRule } from './compile.ts';
import { parseInstant } from './schedule.ts';

// Which rules can take part in a decision: `toolgate policy check` reports the others, and
// `toolgate policy coverage` never counts them (src/cli/policy.ts). One analysis serves both; the
// engine itself never depends on it.

/** What the static analysis knows about a rule set at one instant. */
export interface Reachability {
  /** Rules that can never take part in a decision (by id), with why: expired, ended or shadowed. */
  readonly unreachable: ReadonlyMap<string, string>;
  /** The unconditional deny rule that denies every call of `tool`, if any (the first by id). */
  deniedBy(tool: string): CompiledRule | undefined;
}

/** Analyses which rules can take part in a decision at `now`. */
export function reachability(rules: readonly CompiledRule[], now: number): Reachability {
  const unconditionalDenies = rules
    .filter((rule) => rule.effect === 'deny' && isUnconditional(rule))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const unreachable = new Map<string, string>();
  for (const rule of rules) {
    if (rule.expires !== undefined && rule.expires <= now) {
      unreachable.set(rule.id, `expired at ${new Date(rule.expires).toISOString()}`);
      continue;
    }
    const until = scheduleEnd(rule);
    if (until !== undefined && until.ms <= now) {
      unreachable.set(rule.id, `unreachable: its schedule ended at ${until.text}`);
      continue;
    }
    if (rule.effect === 'deny') continue;
    const shadow = unconditionalDenies.find((deny) =>
      rule.tools.every((tool) => deny.tools.some((pattern) => globCovers(pattern.source, tool.source))),
    );
    if (shadow !== undefined)
      unreachable.set(rule.id, `unreachable: shadowed by the unconditional deny rule ${shadow.id}`);
  }
  return {
    unreachable,
    deniedBy: (tool) => unconditionalDenies.find((deny) => deny.tools.some((glob) => glob.test(tool))),
  };
}

/** Lint findings: rules that can never take part in a decision, and duplicates. */
export function lint(rules: readonly CompiledRule[], now: number): { rule: string; message: string }[] {
  const { unreachable } = reachability(rules, now);
  const warnings: { rule: string; message: string }[] = [];
  const seen = new Map<string, string>();
  for (const rule of rules) {
    const why = unreachable.get(rule.id);
    if (why !== undefined) warnings.push({ rule: rule.id, message: why });
    const { id: _id, ...body } = rule.spec as Record<string, unknown>;
    const key = JSON.stringify(body);
    const twin = seen.get(key);
    if (twin !== undefined) warnings.push({ rule: rule.id, message: `duplicate of rule ${twin}` });
    else seen.set(key, rule.id);
  }
  return warnings;
}

function scheduleEnd(rule: CompiledRule): { ms: number; text: string } | undefined {
  const until = (rule.spec as { schedule?: { until?: unknown } }).schedule?.until;
  let ms: number;
  try {
    ms = parseInstant(until, 'schedule.until');
  } catch {
    return undefined;
  }
  return { ms, text: String(until) };
}

function isUnconditional(rule: CompiledRule): boolean {
  return (
    rule.when === undefined &&
    rule.agent === undefined &&
    rule.principal === undefined &&
    rule.intent === undefined &&
    rule.schedule === undefined &&
    rule.outside === undefined &&
    rule.expires === undefined
  );
}

/** Whether glob `outer` matches every name glob `inner` matches (conservative: false when unsure). */
export function globCovers(outer: string, inner: string): boolean {
  if (outer === '*' || outer === inner) return true;
  if (!inner.includes('*')) return compileGlob(outer).test(inner);
  const stars = outer.split('*').length - 1;
  if (stars !== 1) return false;
  const innerPrefix = inner.slice(0, inner.indexOf('*'));
  const innerSuffix = inner.slice(inner.lastIndexOf('*') + 1);
  if (outer.endsWith('*')) return innerPrefix.startsWith(outer.slice(0, -1));
  if (outer.startsWith('*')) return innerSuffix.endsWith(outer.slice(1));
  const [head = '', tail = ''] = outer.split('*');
  return innerPrefix.startsWith(head) && innerSuffix.endsWith(tail);
}
