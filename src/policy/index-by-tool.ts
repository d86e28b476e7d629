import { toolNameProblem } from '../_internal/names.ts';
import { type CompiledRule, compareIds } from './compile.ts';

const CACHE_LIMIT = 4096;
const EMPTY: readonly CompiledRule[] = Object.freeze([]);

/**
 * Finds the rules whose tool pattern matches a name without looking at rules for other tools:
 * exact names in a map, `prefix*` and `*suffix` patterns in maps keyed by their literal part (probed
 * once per distinct literal length), and only the remaining patterns tested one by one. Results are
 * cached per tool name (bounded), so a steady workload does no matching at all.
 */
export class ToolIndex {
  private readonly exact = new Map<string, CompiledRule[]>();
  private readonly prefix = new Map<string, CompiledRule[]>();
  private readonly suffix = new Map<string, CompiledRule[]>();
  private readonly prefixLengths: number[];
  private readonly suffixLengths: number[];
  private readonly general: { test(name: string): boolean; rule: CompiledRule }[] = [];
  private readonly cache = new Map<string, readonly CompiledRule[]>();

  constructor(rules: readonly CompiledRule[]) {
    const prefixLengths = new Set<number>();
    const suffixLengths = new Set<number>();
    for (const rule of rules) {
      for (const glob of rule.tools) {
        const source = glob.source;
        const stars = source.split('*').length - 1;
        if (glob.exact !== undefined) add(this.exact, glob.exact, rule);
        else if (stars === 1 && source.endsWith('*')) {
          add(this.prefix, source.slice(0, -1), rule);
          prefixLengths.add(source.length - 1);
        } else if (stars === 1 && source.startsWith('*')) {
          add(this.suffix, source.slice(1), rule);
          suffixLengths.add(source.length - 1);
        } else this.general.push({ test: (name) => glob.test(name), rule });
      }
    }
    this.prefixLengths = [...prefixLengths].sort((a, b) => a - b);
    this.suffixLengths = [...suffixLengths].sort((a, b) => a - b);
  }

  /** Candidate rules for a tool name, sorted by id; `undefined` when the name is not acceptable. */
  lookup(name: string): readonly CompiledRule[] | undefined {
    const cached = this.cache.get(name);
    if (cached !== undefined) return cached;
    if (toolNameProblem(name) !== undefined) return undefined;
    const found = new Set<CompiledRule>(this.exact.get(name));
    for (const length of this.prefixLengths) {
      if (length > name.length) break;
      for (const rule of this.prefix.get(name.slice(0, length)) ?? EMPTY) found.add(rule);
    }
    for (const length of this.suffixLengths) {
      if (length > name.length) break;
      for (const rule of this.suffix.get(name.slice(name.length - length)) ?? EMPTY) found.add(rule);
    }
    for (const entry of this.general) if (entry.test(name)) found.add(entry.rule);
    const result =
      found.size === 0 ? EMPTY : Object.freeze([...found].sort((a, b) => compareIds(a.id, b.id)));
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(name, result);
    return result;
  }
}

function add(map: Map<string, CompiledRule[]>, key: string, rule: CompiledRule): void {
  const bucket = map.get(key);
  if (bucket === undefined) map.set(key, [rule]);
  else if (!bucket.includes(rule)) bucket.push(rule);
}
