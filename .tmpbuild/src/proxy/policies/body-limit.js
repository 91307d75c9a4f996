/**
 * proxy-body-size / --proxy-body-size: a request declaring a larger body gets 413 at once, before
 * any byte of it is read (and without a 100 Continue); the connection is closed. A chunked body is
 * counted as it streams (handler.ts).
 */
import { errorBody } from '../errors.js';
import { Verdict } from './types.js';
export function bodyLimit(limit) {
    return {
        run(ex) {
            const declared = ex.req.headers['content-length'];
            if (declared === undefined || !(Number(declared) > limit))
                return Verdict.Continue;
            ex.closeAfter();
            ex.answer(413, errorBody(413, `the request body is larger than ${limit} bytes`), 'text/plain; charset=utf-8', 'body_too_large');
            return Verdict.Answered;
        },
    };
}
//# sourceMappingURL=body-limit.js.map