/**
 * The first key that appears twice in one object of a JSON text, or undefined. `JSON.parse` keeps
 * the last of duplicates silently, so `{"effect":"deny","effect":"allow"}` would read as an allow
 * that a reviewer reads as a deny; a policy file must say one thing. Only for text `JSON.parse`
 * accepted (the scan relies on it being valid). Keys compare as `JSON.parse` decodes them.
 */
export function duplicateJsonKey(text: string): string | undefined {
  // One set of keys per open object; arrays push undefined.
  const open: (Set<string> | undefined)[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const char = text.charCodeAt(i);
    if (char === 0x22) {
      // A string: find its end (a quote not escaped), then decide whether it is a key.
      let end = i + 1;
      while (end < n) {
        const c = text.charCodeAt(end);
        if (c === 0x5c) end += 2;
        else if (c === 0x22) break;
        else end += 1;
      }
      const raw = text.slice(i, end + 1);
      i = end + 1;
      let next = i;
      while (next < n && isSpace(text.charCodeAt(next))) next += 1;
      const keys = open[open.length - 1];
      if (keys !== undefined && text.charCodeAt(next) === 0x3a) {
        const key = JSON.parse(raw) as string;
        if (keys.has(key)) return key;
        keys.add(key);
      }
      continue;
    }
    if (char === 0x7b) open.push(new Set());
    else if (char === 0x5b) open.push(undefined);
    else if (char === 0x7d || char === 0x5d) open.pop();
    i += 1;
  }
  return undefined;
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

/**
 * Whether a JSON text nests objects and arrays deeper than `max` (strings skipped). Run before
 * `JSON.parse`, which would otherwise build millions of levels of a 10 MiB document (seconds
 * and hundreds of MB) only for the document check to refuse it past 64.
 */
export function jsonNestedDeeper(text: string, max: number): boolean {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const char = text.charCodeAt(i);
    if (char === 0x22) {
      i += 1;
      while (i < n && text.charCodeAt(i) !== 0x22) i += text.charCodeAt(i) === 0x5c ? 2 : 1;
    } else if (char === 0x7b || char === 0x5b) {
      depth += 1;
      if (depth > max) return true;
    } else if ((char === 0x7d || char === 0x5d) && depth > 0) depth -= 1;
  }
  return false;
}
