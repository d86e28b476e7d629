import { compileGlob } from '../_internal/glob.ts';
import type { CompiledRule } from './compile.ts';

// `toolgate policy check`'s findings (src/cli/policy.ts): rules that can never take part in a
// decision. Warnings only; the engine itself never depends on them.

/** Lint findings: rules that can never take part in a decision. */
export function lint(rules: readonly CompiledRule[], now: number): { rule: string; message: string }[] {
  const warnings: { rule: string; message: string }[] = [];
  const unconditionalDenies = rules.filter((rule) => rule.effect === 'deny' && isUnconditional(rule));
  const seen = new Map<string, string>();
  for (const rule of rules) {
    if (rule.expires !== undefined && rule.expires <= now)
      warnings.push({ rule: rule.id, message: `expired at ${new Date(rule.expires).toISOString()}` });
    const until = (rule.spec as { schedule?: { until?: unknown } }).schedule?.until;
    const untilMs =
      typeof until === 'number' ? until : typeof until === 'string' ? Date.parse(until) : Number.NaN;
    if (untilMs <= now)
      warnings.push({ rule: rule.id, message: `unreachable: its schedule ended at ${String(until)}` });
    const { id: _id, ...body } = rule.spec as Record<string, unknown>;
    const key = JSON.stringify(body);
    const twin = seen.get(key);
    if (twin !== undefined) warnings.push({ rule: rule.id, message: `duplicate of rule ${twin}` });
    else seen.set(key, rule.id);
    if (rule.effect === 'deny') continue;
    const shadow = unconditionalDenies.find((deny) =>
      rule.tools.every((tool) => deny.tools.some((pattern) => globCovers(pattern.source, tool.source))),
    );
    if (shadow !== undefined)
      warnings.push({
        rule: rule.id,
        message: `unreachable: shadowed by the unconditional deny rule ${shadow.id}`,
      });
  }
  return warnings;
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
