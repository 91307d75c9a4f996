/**
 * A route that answers Portico's 404 page: the unmatched paths of a host whose Ingress has CORS,
 * so the 404 carries its CORS headers as ingress-nginx's does (model `notFound`). Runs last.
 */
import { NOT_FOUND_PAGE } from '../errors.js';
import { Verdict, type PolicyExchange, type RequestPolicy } from './types.js';

export const notFound: RequestPolicy = {
  run(ex: PolicyExchange): Verdict {
    ex.answer(404, NOT_FOUND_PAGE, 'text/html; charset=utf-8', '');
    return Verdict.Answered;
  },
};
