import { escapePath, fill, parseTemplate, rawOrDecoded, replacePath, splitTarget, templatePath } from './paths.js';
import { Verdict } from './types.js';
/** The rewritten origin-form target for a template: the filled path, escaped, with the query of `forward`. */
export function rewriteTarget(t, captures, forward) {
    const q = forward.indexOf('?');
    const path = templatePath(t, captures);
    return q === -1 ? path : path + forward.slice(q);
}
export function rewrite(p) {
    const path = p.path;
    const template = path?.type === 'template' ? parseTemplate(path.value) : null;
    const prefix = p.forwardedPrefix === undefined ? null : parseTemplate(p.forwardedPrefix);
    return {
        run(ex) {
            if (p.hostname !== undefined)
                ex.setUpstreamHeader('host', p.hostname);
            if (template !== null)
                ex.setForwardPath(rewriteTarget(template, ex.captures, ex.forwardPath));
            else if (path !== undefined) {
                const [, query] = splitTarget(ex.forwardPath);
                ex.setForwardPath(`${replacePath(rawOrDecoded(ex, path), path)}${query}`);
            }
            if (prefix !== null)
                ex.setUpstreamHeader('x-forwarded-prefix', escapePath(fill(prefix, ex.captures)));
            return Verdict.Continue;
        },
    };
}
//# sourceMappingURL=rewrite.js.map