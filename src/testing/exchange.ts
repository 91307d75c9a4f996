/**
 * A fake PolicyExchange for unit tests: the request comes from the overrides, and what policies
 * do with it is recorded (answers, upstream headers, client header edits, response edits, resumes).
 * src/testing/ is for tests only: no other module may import it (a wall), and the npm package
 * leaves it out.
 */
import type { IncomingMessage } from 'node:http';
import { dropHeader } from '../proxy/headers.js';
import type { PolicyExchange, ResponseEdit } from '../proxy/policies/types.js';
import { targetPath } from '../proxy/request-target.js';

/** One answer a policy gave. */
export interface Answer {
  readonly status: number;
  readonly body: string;
  readonly type: string;
  readonly cause: string;
  readonly headers: readonly string[];
}

/** The fake, with what was done to it. */
export interface FakeExchange extends PolicyExchange {
  /** Every answer, in order. */
  readonly answers: Answer[];
  /** The last answer, or null. */
  readonly answered: Answer | null;
  /** Upstream headers set (name, value) or removed (name, null), in order. */
  readonly upstream: (string | null)[];
  /** The client's headers as policies left them: a flat name/value list. */
  readonly headers: string[];
  /** editResponse calls, in order. */
  readonly responseEdits: ResponseEdit[];
  /** addResponseHeader calls: name, value, in order. */
  readonly added: string[];
  /** What onDone was given. */
  readonly done: (() => void)[];
  resumed: number;
  closed: boolean;
}

/** The request: its headers (a flat list with names as sent, or a record), method and target; any exchange field beside. */
export type FakeRequest = Partial<PolicyExchange> & {
  readonly headers?: readonly string[] | Readonly<Record<string, string>> | undefined;
  readonly method?: string | undefined;
  /** The origin-form target: forwardPath and requestUri; `path` is its part before `?`. */
  readonly target?: string | undefined;
};

/** A fake exchange: http, host a.test, client 192.0.2.1, target `/` unless overridden. */
export function fakeExchange(o: FakeRequest = {}): FakeExchange {
  const { headers: given, method, target, ...fields } = o;
  const headers = given === undefined ? [] : Array.isArray(given) ? [...(given as readonly string[])] : Object.entries(given).flat();
  const forwardPath = o.forwardPath ?? target ?? '/';
  const scheme = o.scheme ?? 'http';
  const record: Record<string, string> = {};
  for (let i = 0; i < headers.length; i += 2) {
    const n = (headers[i] as string).toLowerCase();
    record[n] = record[n] === undefined ? (headers[i + 1] as string) : `${record[n]}${n === 'cookie' ? '; ' : ', '}${headers[i + 1] as string}`;
  }
  const listenerPort = o.listenerPort ?? (scheme === 'https' ? 443 : 80);
  const req = { method: method ?? 'GET', url: forwardPath, headers: record, rawHeaders: [...headers], socket: { localPort: listenerPort } } as unknown as IncomingMessage;
  const ex: FakeExchange = {
    req,
    scheme,
    listenerPort,
    path: targetPath(forwardPath),
    forwardPath,
    requestUri: forwardPath,
    requestId: 'r',
    captures: null,
    host: 'a.test',
    clientIp: '192.0.2.1',
    servername: undefined,
    tlsSocket: null,
    names: null,
    answers: [],
    get answered() {
      return ex.answers[ex.answers.length - 1] ?? null;
    },
    upstream: [],
    headers,
    responseEdits: [],
    added: [],
    done: [],
    resumed: 0,
    closed: false,
    header(name) {
      const vs: string[] = [];
      for (let i = 0; i < headers.length; i += 2) if ((headers[i] as string).toLowerCase() === name) vs.push(headers[i + 1] as string);
      return vs.length === 0 ? undefined : vs.join(name === 'cookie' ? '; ' : ', ');
    },
    setRequestHeader(name, value, onlyExisting = false) {
      if (dropHeader(headers, name.toLowerCase()) || !onlyExisting) headers.push(name, value);
    },
    removeRequestHeader(name, prefix = false) {
      dropHeader(headers, name.toLowerCase(), prefix);
    },
    setForwardPath(t) {
      (ex as { forwardPath: string }).forwardPath = t;
    },
    setUpstreamHeader(name, value) {
      ex.upstream.push(name, value);
    },
    removeUpstreamHeader(name) {
      ex.upstream.push(name, null);
    },
    editResponse(e) {
      ex.responseEdits.push(e);
    },
    addResponseHeader(name, value) {
      ex.added.push(name, value);
    },
    closeAfter() {
      ex.closed = true;
    },
    answer(status, body, type, cause, h = []) {
      ex.answers.push({ status, body, type, cause, headers: h });
    },
    resume() {
      ex.resumed++;
    },
    onDone(fn) {
      ex.done.push(fn);
    },
  };
  return Object.assign(ex, fields);
}
