const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses a JOSE header or claims set: UTF-8 (invalid sequences refused), JSON, an object, and no
 * member name twice at any depth (RFC 7515 §5.2 leaves duplicates to the parser, and parsers
 * disagree on which one wins: refusing them leaves nothing to disagree on). `undefined` when not.
 */
export function parseJsonObject(bytes: Uint8Array): Record<string, unknown> | undefined {
  let text: string;
  let value: unknown;
  try {
    text = decoder.decode(bytes);
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return hasDuplicateKeys(text) ? undefined : (value as Record<string, unknown>);
}

/** Whether valid JSON `text` names a member twice in one object. */
export function hasDuplicateKeys(text: string): boolean {
  // Each open object keeps its member names; arrays are `null` entries.
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] !== null;
    } else if (c === 0x22 /* " */) {
      const start = i;
      for (i += 1; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i += 1;
        else if (d === 0x22) break;
      }
      const names = stack[stack.length - 1];
      if (expectKey && names) {
        const name = JSON.parse(text.slice(start, i + 1)) as string;
        if (names.has(name)) return true;
        names.add(name);
        expectKey = false;
      }
    }
  }
  return false;
}
