/**
 * Regular expressions from users (regex paths, header and query matches) run on RE2 semantics
 * with a linear-time engine (re2js, a port of RE2/Go's regexp): a user's pattern can never stall
 * the event loop, whatever the request. A pattern RE2 cannot express (backreferences,
 * lookaround) is refused when the table is built, never run on a backtracking engine.
 */
import { RE2JS } from 're2js';

/** How much of the input a pattern must match: from the start (nginx `~`), all of it, or anywhere (PCRE's unanchored search). */
export type Anchor = 'start' | 'full' | 'any';

export interface Pattern {
  readonly source: string;
  /** The capture groups ($0 is the whole match) when the pattern matches, else null. */
  exec(input: string): string[] | null;
  /** Whether the pattern matches (no captures: cheaper). */
  test(input: string): boolean;
}

/** Checks a pattern; returns RE2's message for one it cannot compile, else null. */
export function patternProblem(source: string): string | null {
  try {
    RE2JS.compile(source);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Compiles a pattern already checked with {@link patternProblem}. */
export function compilePattern(source: string, anchor: Anchor, ignoreCase = false): Pattern {
  const re = RE2JS.compile(source, ignoreCase ? RE2JS.CASE_INSENSITIVE : 0);
  const groups = re.groupCount();
  const run = (input: string): ReturnType<RE2JS['matcher']> | null => {
    const m = re.matcher(input);
    return (anchor === 'full' ? m.matches() : anchor === 'any' ? m.find() : m.lookingAt()) ? m : null;
  };
  return {
    source,
    exec(input) {
      const m = run(input);
      if (m === null) return null;
      const out: string[] = [];
      for (let i = 0; i <= groups; i++) out.push(m.group(i) ?? '');
      return out;
    },
    test: (input) => run(input) !== null,
  };
}
