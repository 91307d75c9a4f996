/**
 * Regular expressions from users (regex paths, header and query matches) run on RE2 semantics
 * with a linear-time engine (re2js, a port of RE2/Go's regexp): a user's pattern can never stall
 * the event loop, whatever the request. A pattern RE2 cannot express (backreferences,
 * lookaround) is refused when the table is built, never run on a backtracking engine.
 */
import { RE2JS, RE2Set } from 're2js';
/** Checks a pattern; returns RE2's message for one it cannot compile, else null. */
export function patternProblem(source) {
    try {
        RE2JS.compile(source);
        return null;
    }
    catch (err) {
        return err.message;
    }
}
/**
 * Compiles a pattern already checked with {@link patternProblem}. Matching goes to the RE2 program
 * directly (`matchWithGroup` on the string, offsets in UTF-16 units): one engine run gives every
 * capture, where a Matcher runs once to match and again for the groups, and allocates more.
 */
export function compilePattern(source, anchor, ignoreCase = false) {
    const re = RE2JS.compile(source, ignoreCase ? RE2JS.CASE_INSENSITIVE : 0).re2();
    const groups = re.numberOfCapturingGroups();
    const flag = anchor === 'full' ? RE2Set.ANCHOR_BOTH : anchor === 'search' ? RE2Set.UNANCHORED : RE2Set.ANCHOR_START;
    return {
        source,
        exec(input) {
            const r = re.matchWithGroup(input, 0, input.length, flag, groups + 1);
            if (r[0] !== true)
                return null;
            const at = r[1];
            const out = [];
            for (let i = 0; i <= groups; i++) {
                const start = at[2 * i] ?? -1;
                out.push(start < 0 ? '' : input.substring(start, at[2 * i + 1]));
            }
            return out;
        },
        test: (input) => re.matchWithGroup(input, 0, input.length, flag, 0)[0] === true,
    };
}
//# sourceMappingURL=regex.js.map