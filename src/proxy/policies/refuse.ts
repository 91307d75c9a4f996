/**
 * A refused route (an annotation that restricts access or moves traffic, which Portico cannot
 * honour): 503 naming what could not be honoured, before anything else runs. Never served open.
 */
import { errorBody } from '../errors.js';
import { Verdict, type PolicyExchange, type RequestPolicy } from './types.js';

export function refuse(because: readonly string[], message?: string): RequestPolicy {
  const body = errorBody(503, `this route is not served: ${message ?? `its Ingress uses ${because.join(', ')}, which Portico cannot honour (see the UnsupportedAnnotation diagnostic)`}`);
  return {
    run(ex: PolicyExchange): Verdict {
      ex.answer(503, body, 'text/plain; charset=utf-8', 'refused');
      return Verdict.Answered;
    },
  };
}
