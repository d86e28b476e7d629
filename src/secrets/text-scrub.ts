import { unescapedViews } from './escapes.ts';
import { joinedLines, lineBreaks } from './line-breaks.ts';
import { type Match, type Pattern, PatternSet, WINDOW } from './text-search.ts';
import { escapedParts, sourceSpan } from './unescaped.ts';

// Searching texts for the scrubber: every pattern of every remembered value, in the text, in its
// decoded views and across its line breaks, each occurrence replaced by its owner's marker.

const MAX_PASSES = 4;
/**
 * What a text becomes when replacing keeps producing new occurrences (only contrived values do),
 * and what a value whose `toJSON` throws becomes: withheld, since what it would write is unknown.
 */
export const FALLBACK = '[secret:scrubbed]';

/** What a value of secret `name` is replaced by. */
export function marker(name: string): string {
  return `[secret:${name}]`;
}

/** The patterns of the values a scrubber remembers, and the search for them in texts. */
export interface TextScrub {
  /** Adds a value's patterns (each owned by its secret's name); `spaced`: the value has a space. */
  add(patterns: readonly Pattern<string>[], spaced: boolean): void;
  /** Forgets patterns added before. */
  delete(patterns: readonly Pattern<string>[]): void;
  /** Whether a pattern occurs in `text` as it is (no decoded view, no line joined). */
  includesPattern(text: string): boolean;
  /** Whether a remembered value occurs in `text`, in any form the search knows. */
  occurs(text: string): boolean;
  /** `text` with every occurrence replaced by its marker (`FALLBACK` when that never ends). */
  replace(text: string): string;
}

/** An empty set of patterns and the search for them. */
export function textScrub(): TextScrub {
  const patterns = new PatternSet<string>();
  // The longest form ever added (it is not lowered when values are forgotten: only searched wider).
  let longest = 0;
  // Whether a value with a space was ever added (form encoding's `+` is then read as one too).
  let spaced = false;

  // Every occurrence, in the text, in its decoded views and across its line breaks (mapped back
  // onto the text).
  const find = (text: string): Match<string>[] => {
    const starts: number[] = [];
    const matches = patterns.find(text, starts);
    const views = unescapedViews(text, { plus: spaced });
    const regions = brokenRegions(text, starts);
    if (views.length === 0 && regions.length === 0) return matches;
    for (const view of views) {
      const parts = escapedParts(view, longest);
      for (let k = 0; k < parts.length; k += 2) {
        const offset = parts[k]!;
        for (const match of patterns.find(view.text.slice(offset, parts[k + 1]))) {
          const [start, end] = sourceSpan(view, offset + match.start, offset + match.end);
          matches.push({ start, end, owner: match.owner });
        }
      }
    }
    for (let k = 0; k < regions.length; k += 2) {
      const offset = regions[k]!;
      const view = joinedLines(text.slice(offset, regions[k + 1]))!;
      for (const match of patterns.find(view.text)) {
        const [start, end] = sourceSpan(view, match.start, match.end);
        matches.push({ start: offset + start, end: offset + end, owner: match.owner });
      }
    }
    return matches.sort((a, b) => a.start - b.start || b.end - a.end);
  };
  const occurs = (text: string): boolean => {
    const starts: number[] = [];
    if (patterns.test(text, starts)) return true;
    for (const view of unescapedViews(text, { plus: spaced })) {
      const parts = escapedParts(view, longest);
      for (let k = 0; k < parts.length; k += 2)
        if (patterns.test(view.text.slice(parts[k], parts[k + 1]))) return true;
    }
    const regions = brokenRegions(text, starts);
    for (let k = 0; k < regions.length; k += 2)
      if (patterns.test(joinedLines(text.slice(regions[k], regions[k + 1]))!.text)) return true;
    return false;
  };

  /**
   * The parts of `text` around the line breaks a pattern could run across, as `[start, end)`
   * pairs: a pattern there starts with a window before the break (`starts`, from the scan of the
   * text) or with one across it. Most texts have no such break, and cost one look at each.
   */
  const brokenRegions = (text: string, starts: readonly number[]): number[] => {
    const breaks = lineBreaks(text);
    if (breaks.length === 0) return breaks;
    const regions: number[] = [];
    let s = 0;
    for (let k = 0; k < breaks.length; k += 2) {
      const at = breaks[k]!;
      const after = breaks[k + 1]!;
      while (s < starts.length && starts[s]! <= at - longest) s += 1;
      const across =
        (s < starts.length && starts[s]! + WINDOW <= at) || patterns.startsAcross(text, at, after);
      if (!across) continue;
      const start = Math.max(0, at - longest + 1);
      const end = Math.min(text.length, after + 2 * longest);
      if (regions.length > 0 && start <= regions[regions.length - 1]!) regions[regions.length - 1] = end;
      else regions.push(start, end);
    }
    return regions;
  };

  const replace = (input: string): string => {
    let text = input;
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      const matches = find(text);
      if (matches.length === 0) return text;
      let out = '';
      let at = 0;
      for (let i = 0; i < matches.length; ) {
        // Overlapping occurrences (of one or several secrets) become one span with every name.
        let end = matches[i]!.end;
        const names: string[] = [matches[i]!.owner];
        const start = matches[i]!.start;
        let j = i + 1;
        for (; j < matches.length && matches[j]!.start < end; j++) {
          end = Math.max(end, matches[j]!.end);
          if (!names.includes(matches[j]!.owner)) names.push(matches[j]!.owner);
        }
        out += text.slice(at, start) + names.map(marker).join('');
        at = end;
        i = j;
      }
      text = out + text.slice(at);
    }
    return occurs(text) ? FALLBACK : text;
  };

  return {
    add(added, space) {
      for (const pattern of added) {
        patterns.add(pattern);
        longest = Math.max(longest, pattern.text.length);
      }
      if (space) spaced = true;
    },
    delete(removed) {
      for (const pattern of removed) patterns.delete(pattern);
    },
    includesPattern: (text) => patterns.test(text),
    occurs,
    replace,
  };
}
