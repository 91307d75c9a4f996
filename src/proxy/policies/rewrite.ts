/**
 * Gateway API URLRewrite and ingress-nginx rewrite-target: the Host header and/or the path sent
 * upstream are replaced (the path whole, the prefix the route matched, or a template filled with
 * the route's Regex captures: nginx's `rewrite "(?i)<path>" <target> break;`); the query string is
 * kept, X-Forwarded-Host keeps the client's host. A template is split into literal text and capture
 * numbers once per table; a request joins them: a few string concatenations, no regular expression.
 * x-forwarded-prefix is the same kind of template, sent as X-Forwarded-Prefix.
 */
import type { Policy } from '../../model/types.js';
import { targetQuery } from '../request-target.js';
import { escapePath, fill, parseTemplate, rawOrDecoded, replacePath, templatePath, type Template } from './paths.js';
import { Verdict, type PolicyExchange, type RequestPolicy } from './types.js';

type Rewrite = Extract<Policy, { kind: 'rewrite' }>;

/** The rewritten origin-form target for a template: the filled path, escaped, with the query of `forward`. */
export function rewriteTarget(t: Template, captures: readonly string[] | null, forward: string): string {
  return templatePath(t, captures) + targetQuery(forward);
}

export function rewrite(p: Rewrite): RequestPolicy {
  const path = p.path;
  const template = path?.type === 'template' ? parseTemplate(path.value) : null;
  const prefix = p.forwardedPrefix === undefined ? null : parseTemplate(p.forwardedPrefix);
  return {
    run(ex: PolicyExchange): Verdict {
      if (p.hostname !== undefined) ex.setUpstreamHeader('host', p.hostname);
      if (template !== null) ex.setForwardPath(rewriteTarget(template, ex.captures, ex.forwardPath));
      else if (path !== undefined) {
        ex.setForwardPath(replacePath(rawOrDecoded(ex, path), path) + targetQuery(ex.forwardPath));
      }
      if (prefix !== null) ex.setUpstreamHeader('x-forwarded-prefix', escapePath(fill(prefix, ex.captures)));
      return Verdict.Continue;
    },
  };
}
