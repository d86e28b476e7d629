import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The rules that keep the layers of src/ apart (docs/architecture.md), checked on the import
// graph of the TypeScript sources. Type-only imports count: a cycle of types is still a cycle.

const root = resolve(import.meta.dirname, '..');
const src = join(root, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Every module of src/ (as a path relative to src/) with what it imports. */
const graph = new Map<string, { local: string[]; packages: string[] }>();
for (const file of sources(src)) {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const specifiers = importedFiles.map((entry) => entry.fileName);
  graph.set(relative(src, file), {
    local: specifiers
      .filter((specifier) => specifier.startsWith('.'))
      .map((specifier) => relative(src, resolve(dirname(file), specifier))),
    packages: specifiers.filter((specifier) => !specifier.startsWith('.')),
  });
}

/** The strongly connected components with more than one module (Tarjan): the import cycles. */
function cycles(): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (module: string): void => {
    index.set(module, next);
    low.set(module, next);
    next += 1;
    stack.push(module);
    onStack.add(module);
    for (const target of graph.get(module)?.local ?? []) {
      if (!graph.has(target)) continue;
      if (!index.has(target)) {
        visit(target);
        low.set(module, Math.min(low.get(module)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(module, Math.min(low.get(module)!, index.get(target)!));
      }
    }
    if (low.get(module) === index.get(module)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== module);
      if (component.length > 1 || graph.get(module)?.local.includes(module)) found.push(component.sort());
    }
  };
  for (const module of graph.keys()) if (!index.has(module)) visit(module);
  return found;
}

const top = (module: string) => module.split('/')[0]!;
/** Modules at the edge: framework adapters, backends, the CLI, and test helpers. */
const EDGES = new Set(['adapters', 'backends', 'cli', 'testing']);
/** What the core may import from npm (the runtime dependencies); everything else is Node's. */
const CORE_PACKAGES = new Set(['zod', 'eventemitter3', 'nanoid', 'ms']);
/** Subpaths whose own heavy dependency is an optional peer, imported only by that subpath. */
const SUBPATH_PACKAGES: Record<string, readonly string[]> = {
  'policy/scopes/sql.ts': ['node-sql-parser'],
  // Imported when a YAML policy file is loaded, and only then.
  'policy/load-yaml.ts': ['yaml'],
};
/** Modules that decide (policy, limits, state); recording is reached only around them. */
const DECIDING = new Set(['policy', 'limits', 'store']);

describe('the layers of src/ (docs/architecture.md)', () => {
  it('found the sources', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.has('core/pipeline.ts')).toBe(true);
  });

  it('has no import cycles, type imports included', () => {
    expect(cycles()).toEqual([]);
  });

  it('the core never imports an adapter, a backend, the CLI or test helpers', () => {
    const crossings: string[] = [];
    for (const [module, { local }] of graph) {
      if (EDGES.has(top(module))) continue;
      for (const target of local) if (EDGES.has(top(target))) crossings.push(`${module} -> ${target}`);
    }
    expect(crossings).toEqual([]);
  });

  it('shipped code never imports the test helpers (toolgate/testing)', () => {
    const crossings: string[] = [];
    for (const [module, { local }] of graph) {
      if (top(module) === 'testing') continue;
      for (const target of local) if (top(target) === 'testing') crossings.push(`${module} -> ${target}`);
    }
    expect(crossings).toEqual([]);
  });

  it('the core imports no framework or backend package, only its runtime dependencies and Node', () => {
    const imports: string[] = [];
    for (const [module, { packages }] of graph) {
      if (EDGES.has(top(module))) continue;
      const allowed = SUBPATH_PACKAGES[module] ?? [];
      for (const name of packages) {
        if (name.startsWith('node:') || CORE_PACKAGES.has(name) || allowed.includes(name)) continue;
        imports.push(`${module} -> ${name}`);
      }
    }
    expect(imports).toEqual([]);
  });

  it('deciding never depends on recording: policy, limits and the stores never import audit', () => {
    const crossings: string[] = [];
    for (const [module, { local }] of graph) {
      if (!DECIDING.has(top(module))) continue;
      for (const target of local) if (top(target) === 'audit') crossings.push(`${module} -> ${target}`);
    }
    expect(crossings).toEqual([]);
  });

  it('the core reaches identity only through the identity option’s contract (types, never code)', () => {
    const crossings: string[] = [];
    for (const [module, { local }] of graph) {
      if (top(module) !== 'core') continue;
      if (!local.some((target) => top(target) === 'identity')) continue;
      const text = readFileSync(join(src, module), 'utf8');
      for (const match of text.matchAll(/^import (type )?[^;]*from '([^']+)';/gm))
        if (match[2]!.includes('/identity/') && match[1] === undefined)
          crossings.push(`${module} -> ${match[2]}`);
    }
    expect(crossings).toEqual([]);
  });

  it('nothing exported from an entry point comes from _internal', () => {
    const entries = ['index.ts', 'testing/index.ts', 'sql/index.ts', 'adapters/mcp/index.ts'];
    for (const dir of ['adapters', 'backends'])
      for (const name of readdirSync(join(src, dir)))
        if (!name.startsWith('_')) entries.push(`${dir}/${name}/index.ts`);
    const leaks: string[] = [];
    for (const entry of entries) {
      const text = readFileSync(join(src, entry), 'utf8');
      for (const match of text.matchAll(/export[^;]*from '([^']+)'/g))
        if (match[1]!.includes('_internal')) leaks.push(`${entry} -> ${match[1]}`);
    }
    expect(leaks).toEqual([]);
  });
});
