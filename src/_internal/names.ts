/**
 * Characters refused in tool names: controls (Cc), format characters (Cf: zero-width, bidi
 * overrides, BOM), separators and whitespace (Z*, including NBSP), unassigned and surrogates.
 */
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Z}\p{Cn}\p{Cs}\s]/u;

/** Returns why `name` is not an acceptable tool name, or undefined when it is. */
export function toolNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'a tool name must be a string';
  if (name.length === 0) return 'a tool name must not be empty';
  if (name.length > 256) return 'a tool name must be at most 256 characters';
  if (FORBIDDEN.test(name))
    return 'a tool name must not contain control, format (zero-width, bidi) or whitespace characters';
  if (name.normalize('NFC') !== name) return 'a tool name must be in Unicode NFC';
  return undefined;
}
