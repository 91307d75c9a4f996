/**
 * A refused route (an annotation that restricts access or moves traffic, which Portico cannot
 * honour): 503 naming what could not be honoured, before anything else runs. Never served open.
 */
import { errorBody } from '../errors.js';
import { Verdict } from './types.js';
export function refuse(because, invalid = [], message) {
    const reasons = [
        ...(because.length > 0 ? [`its Ingress uses ${because.join(', ')}, which Portico cannot honour (see the UnsupportedAnnotation diagnostic)`] : []),
        ...(invalid.length > 0 ? [`its Ingress's ${invalid.join(', ')} ${invalid.length > 1 ? 'have invalid values' : 'has an invalid value'} (see the InvalidAnnotation diagnostic)`] : []),
    ];
    const body = errorBody(503, `this route is not served: ${message ?? reasons.join('; and ')}`);
    return {
        run(ex) {
            ex.answer(503, body, 'text/plain; charset=utf-8', 'refused');
            return Verdict.Answered;
        },
    };
}
//# sourceMappingURL=refuse.js.map