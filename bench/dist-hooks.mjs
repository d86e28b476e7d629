// Module hooks for the benchmarks: an import that resolves to src/**/*.ts is served from the built
// dist/**/*.js instead, so `npm run bench` measures the code users install (tsc output), while
// the benchmark files keep importing src for their types. Registered by bench/use-dist.mjs.
const src = new URL('../src/', import.meta.url).href;
const dist = new URL('../dist/', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  if (resolved.url.startsWith(src) && resolved.url.endsWith('.ts')) {
    return {
      url: `${dist}${resolved.url.slice(src.length, -'.ts'.length)}.js`,
      format: 'module',
      shortCircuit: true,
    };
  }
  return resolved;
}
