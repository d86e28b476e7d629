/**
 * Anchored glob for names: `*` matches any run of characters (including none and including `.`);
 * every other character matches itself, exact case. Patterns and names are compared after NFC.
 */
export interface CompiledGlob {
  readonly source: string;
  /** The literal text, when the pattern has no wildcard. */
  readonly exact?: string;
  test(name: string): boolean;
}

export function compileGlob(pattern: string): CompiledGlob {
  const source = pattern.normalize('NFC');
  if (!source.includes('*')) {
    return { source, exact: source, test: (name) => name === source };
  }
  const parts = source.split('*');
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  const middle = parts.slice(1, -1).filter((part) => part.length > 0);
  const minLength = parts.reduce((sum, part) => sum + part.length, 0);
  // Greedy left-to-right matching of the middle parts is correct for `*`-only globs and linear-time.
  return {
    source,
    test(name) {
      if (name.length < minLength || !name.startsWith(first) || !name.endsWith(last)) return false;
      let index = first.length;
      const end = name.length - last.length;
      for (const part of middle) {
        const found = name.indexOf(part, index);
        if (found === -1 || found + part.length > end) return false;
        index = found + part.length;
      }
      return index <= end;
    },
  };
}
