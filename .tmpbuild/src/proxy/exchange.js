import { performance } from 'node:perf_hooks';
import { Readable, Transform } from 'node:stream';
import { classify, errorBody, NO_ENDPOINTS } from './errors.js';
import { cookieValue } from './sticky.js';
import { clientIpOf, connectionListed, forwardHeaders, requestLength } from './headers.js';
import { Verdict } from './policies/index.js';
import { keepsBody, REPLAY_LIMIT, shouldRetry } from './policies/retry.js';
import { ERROR_PAGE_404, errorHeaders, errorPath } from './policies/error-pages.js';
import { endpointKey } from './pools.js';
import { http2Response, mayBeTrailersOnly, respondTrailersOnly } from './grpc-head.js';
import { lingerOnClose } from './linger.js';
import { nextRequestId } from './request-id.js';
/** Failures that count against an endpoint's health (passive health checks). */
const UNHEALTHY = new Set(['connect_refused', 'connect_timeout', 'connect_error', 'reset', 'timeout', 'protocol']);
/** Response headers never forwarded: hop-by-hop, and `server` (we add our own). */
const DROP_RESPONSE = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'server']);
export const TEXT = 'text/plain; charset=utf-8';
/** The statuses nginx's add_header (without `always`) adds headers to. */
const ADD_HEADER_STATUSES = new Set([200, 201, 204, 206, 301, 302, 303, 304, 307, 308]);
export { NOT_FOUND_PAGE } from './errors.js';
/** A discarded answer (a retried status, an intercepted error) is drained for connection reuse up to this size and time, else its connection is closed. */
const DRAIN_LIMIT = 64 * 1024;
const DRAIN_MS = 1000;
/** What a discarded answer leads to. */
var Next;
(function (Next) {
    Next[Next["None"] = 0] = "None";
    Next[Next["Retry"] = 1] = "Retry";
    Next[Next["ErrorPage"] = 2] = "ErrorPage";
})(Next || (Next = {}));
/** Sends a short local answer (404 page, redirect, 4xx/5xx with its cause); type '' sends no Content-Type. */
function reply(res, status, body, type, extra = []) {
    if (res.headersSent) {
        res.destroy();
        return;
    }
    const length = ['content-length', String(Buffer.byteLength(body)), 'server', 'portico'];
    res.writeHead(status, type === '' ? [...length, ...extra] : ['content-type', type, ...length, ...extra]);
    res.end(body);
}
/** Sends a local answer whose head (content-type included) the route's response edits already saw. */
function replyEdited(res, status, body, headers) {
    if (res.headersSent) {
        res.destroy();
        return;
    }
    drop(headers, 'content-length');
    headers.push('content-length', String(Buffer.byteLength(body)));
    try {
        res.writeHead(status, headers);
    }
    catch {
        res.writeHead(status, ['content-type', 'text/plain; charset=utf-8', 'content-length', String(Buffer.byteLength(body)), 'server', 'portico']);
    }
    res.end(body);
}
/** HTTP/1.1 frames a body with Content-Length or Transfer-Encoding; HTTP/2 has one unless the headers ended the stream. */
export function requestHasBody(req) {
    const cl = req.headers['content-length'];
    if (cl !== undefined)
        return cl !== '0';
    if (req.httpVersionMajor >= 2)
        return req.stream?.endAfterHeaders === false;
    return req.headers['transfer-encoding'] !== undefined;
}
/** Applies a response header edit to a flat name/value list: remove, set (replacing), add (appending with ","). */
function applyEdit(list, e) {
    const drop = new Set([...e.remove, ...e.set.map(([n]) => n)]);
    if (drop.size > 0)
        for (let i = list.length - 2; i >= 0; i -= 2)
            if (drop.has(list[i].toLowerCase()))
                list.splice(i, 2);
    for (const [n, v] of e.set)
        list.push(n, v);
    for (const [n, v] of e.add) {
        let found = -1;
        for (let i = 0; i < list.length; i += 2)
            if (list[i].toLowerCase() === n)
                found = i;
        if (found === -1)
            list.push(n, v);
        else
            list[found + 1] = `${list[found + 1]},${v}`;
    }
}
/** Picks one of a route's backends by weight (one backend: no arithmetic). */
function choose(t) {
    const list = t.backends;
    if (list.length === 1)
        return list[0].weight > 0 ? list[0] : undefined;
    if (t.totalWeight <= 0)
        return undefined;
    let r = Math.random() * t.totalWeight;
    for (const b of list) {
        r -= b.weight;
        if (r < 0)
            return b;
    }
    return list[list.length - 1];
}
const EXCHANGE = Symbol('portico.exchange');
/** `close` of a response: one shared listener instead of a closure per request. */
function onResponseClose() {
    this[EXCHANGE]?.onClientClose();
}
/** The Content-Length of a raw header list, or -1 (chunked, or read to the connection's end). */
function declaredLength(raw) {
    for (let i = 0; i < raw.length; i += 2) {
        const n = raw[i];
        if (n.length === 14 && String(n).toLowerCase() === 'content-length')
            return Number(String(raw[i + 1]));
    }
    return -1;
}
/** Removes every header named `lower` from a flat list. */
function drop(h, lower, prefix = false) {
    let found = false;
    for (let i = h.length - 2; i >= 0; i -= 2) {
        const n = h[i].toLowerCase();
        if (prefix ? n.startsWith(lower) : n === lower) {
            h.splice(i, 2);
            found = true;
        }
    }
    return found;
}
/**
 * One client request and its upstream attempts. Implements the upstream handler
 * (onConnect/onHeaders/onData/onComplete/onError) so the response is streamed without promises.
 */
export class Exchange {
    req;
    res;
    opts;
    upgrade;
    target = null;
    /** The decoded, normalised path the request was matched with. */
    path = '/';
    /** Origin-form target as received: what the upstream request line carries. */
    forwardPath = '/';
    /** The authority the request was routed by. */
    host = undefined;
    /** Capture groups of a Regex route that matched (set by the router). */
    captures = null;
    choice = undefined;
    /** The canary's labels when the canary was chosen: what the request is recorded under. */
    canaryLabels = null;
    /** Set-Cookie of a new sticky session (replaced when a retry picks again). */
    affinityCookie = null;
    step = 0;
    query_ = null;
    endpoint;
    attempt = 0;
    bytes = 0;
    upstreamStatus = 0;
    upstreamStart = 0;
    upstreamMs = 0;
    start = performance.now();
    startTime = Date.now();
    abortUpstream = null;
    resumeUpstream = null;
    requestId_ = '';
    cause = '';
    done = false;
    headers = null;
    clientIp_ = '';
    /** The target as received, once a rewrite replaced it. */
    original = null;
    /** The client's headers as edited by policies (null: as received). */
    input = null;
    /** Headers policies set (value) or remove (null) on the upstream request, in order; headers they add to the response. */
    upstreamEdits = null;
    responseExtra = null;
    /** Gateway API response header edits (PolicyExchange.editResponse). */
    responseEdits = null;
    /** Response headers only for nginx's add_header statuses (2xx and redirects). */
    responseIfOk = null;
    /** Set when Portico itself aborts the upstream request and answers on its own. */
    abandoned = false;
    body = null;
    /** The request body kept for a replay (null: not kept, or over the limit), and whether it is whole. */
    replay = null;
    replayDone = false;
    /** The response was ended with its last body chunk. */
    ended = false;
    /** What the answer being discarded leads to, its bytes so far and the drain timer. */
    next = Next.None;
    discarded = 0;
    drainTimer = null;
    /** The status an error page replaces (0: the request is not an error page's). */
    errorCode = 0;
    /** The route's backend when the default-backend annotation's serves the request instead. */
    primary = undefined;
    watching = false;
    /** A gRPC head held back over HTTP/2 until the body shows whether it is trailers-only (grpc-head.ts). */
    heldHead = null;
    /** What policies asked to run once the exchange is over (PolicyExchange.onDone). */
    doneFns = null;
    constructor(req, res, opts, 
    /** For an upgrade request: the client socket and the bytes that followed its head. */
    upgrade) {
        this.req = req;
        this.res = res;
        this.opts = opts;
        this.upgrade = upgrade;
    }
    // --- what policies and the router see -------------------------------------------------
    get listenerPort() {
        return this.opts.listenerPort;
    }
    get scheme() {
        return this.opts.scheme;
    }
    get method() {
        return this.req.method ?? 'GET';
    }
    header(name) {
        const input = this.input;
        if (input === null) {
            const v = this.req.headers[name];
            return Array.isArray(v) ? v.join(', ') : v;
        }
        let out;
        for (let i = 0; i < input.length; i += 2) {
            if (input[i].toLowerCase() === name)
                out = out === undefined ? input[i + 1] : `${out}, ${input[i + 1]}`;
        }
        return out;
    }
    query(name) {
        if (this.query_ === null) {
            const q = this.forwardPath.indexOf('?');
            this.query_ = new URLSearchParams(q === -1 ? '' : this.forwardPath.slice(q + 1));
        }
        return this.query_.get(name) ?? undefined;
    }
    get clientIp() {
        return (this.clientIp_ ||= clientIpOf(this.req, this.opts.forward.trust));
    }
    get requestUri() {
        return this.original ?? this.forwardPath;
    }
    get requestId() {
        if (this.requestId_ === '') {
            const v = this.header('x-request-id');
            // the first value, as forwardHeaders takes it
            this.requestId_ = v === undefined || v === '' ? nextRequestId() : v.split(', ')[0];
        }
        return this.requestId_;
    }
    get names() {
        return this.target;
    }
    get tlsSocket() {
        const s = (this.req.stream?.session?.socket ?? this.req.socket);
        return s.encrypted === true ? s : null;
    }
    get servername() {
        const name = this.tlsSocket?.servername;
        return typeof name === 'string' ? name : undefined;
    }
    cookie(name) {
        return cookieValue(this.header('cookie'), name);
    }
    setAffinityCookie(setCookie) {
        this.affinityCookie = setCookie;
    }
    /** What the request is recorded under: the route, or its canary. */
    get recorded() {
        return this.canaryLabels ?? this.target;
    }
    setForwardPath(target) {
        this.original ??= this.forwardPath;
        this.forwardPath = target;
        this.query_ = null;
    }
    setRequestHeader(name, value, onlyExisting = false) {
        const input = (this.input ??= [...this.req.rawHeaders]);
        if (!drop(input, name.toLowerCase()) && onlyExisting)
            return;
        input.push(name, value);
    }
    removeRequestHeader(name, prefix = false) {
        drop((this.input ??= [...this.req.rawHeaders]), name.toLowerCase(), prefix);
    }
    editResponse(edit) {
        (this.responseEdits ??= []).push(edit);
    }
    setUpstreamHeader(name, value) {
        (this.upstreamEdits ??= []).push(name, value);
    }
    removeUpstreamHeader(name) {
        (this.upstreamEdits ??= []).push(name, null);
    }
    addResponseHeader(name, value, always = true) {
        if (always)
            (this.responseExtra ??= []).push(name, value);
        else
            (this.responseIfOk ??= []).push(name, value);
    }
    answer(status, body, type, cause, headers = []) {
        this.local(status, body, type, cause, headers);
    }
    closeAfter() {
        if (this.req.httpVersionMajor < 2) {
            this.res.shouldKeepAlive = false;
            lingerOnClose(this.req);
        }
    }
    /** Runs the route's policies from where they stopped; then sends the request on. */
    runPolicies() {
        const ps = this.target.policies;
        while (this.step < ps.length) {
            const v = ps[this.step++].run(this);
            if (v !== Verdict.Continue)
                return;
        }
        this.send(undefined);
    }
    resume() {
        if (!this.done)
            this.runPolicies();
    }
    onDone(fn) {
        if (this.doneFns === null) {
            this.doneFns = [];
            // a tunnel lives on the client socket past its 101; everything else ends with its response:
            // its last byte handed to the connection ('finish', before the client can read it and send
            // another request), or the exchange cut short ('close')
            const up = this.upgrade;
            const gone = up !== null ? up.socket.destroyed : this.res.closed || this.res.destroyed || this.res.writableFinished;
            const run = () => this.runDone();
            if (gone)
                queueMicrotask(run);
            else if (up !== null)
                up.socket.once('close', run);
            else
                this.res.once('finish', run).once('close', run);
        }
        this.doneFns.push(fn);
    }
    runDone() {
        const fns = this.doneFns;
        if (fns === null || fns.length === 0)
            return;
        this.doneFns = [];
        for (const fn of fns) {
            try {
                fn();
            }
            catch {
                // a policy's clean-up must never break the exchange
            }
        }
    }
    // --- forwarding --------------------------------------------------------------------------
    /** The client's going away aborts the upstream request: listened for once per exchange. */
    watchClient() {
        if (this.watching)
            return;
        this.watching = true;
        this.res[EXCHANGE] = this;
        this.res.on('close', onResponseClose);
    }
    /**
     * Picks a backend, then an endpoint (avoiding the one that just failed), and dispatches to it.
     * A route whose backends have no endpoint goes to its default-backend annotation's Service.
     */
    send(avoid) {
        const target = this.target;
        let bt = this.choice;
        if (bt === undefined) {
            bt = choose(target);
            const c = target.canary;
            if (c !== null && bt !== undefined && c.rule(this, bt, c.target)) {
                bt = c.target;
                this.canaryLabels = c.labels;
            }
            this.choice = bt;
        }
        if (bt !== undefined && bt.backend.id === '') {
            // a Gateway API backendRef that is invalid: its share of the traffic answers 500, as the spec requires
            this.local(500, errorBody(500, 'the route\'s backend reference is invalid (see the route\'s ResolvedRefs condition)'), TEXT, 'invalid_backend');
            return;
        }
        if (this.requestTimer === null && target.settings.requestTimeout !== undefined)
            this.armRequestTimeout(target.settings.requestTimeout);
        let ep = bt === undefined ? undefined : bt.pick === null ? this.opts.balancer.pick(bt.backend.id, bt.slot.endpoints, avoid) : bt.pick.pick(this, avoid);
        const empty = target.errors?.whenEmpty;
        if (ep === undefined && empty != null && this.attempt === 0 && this.upgrade === null) {
            const alt = this.opts.balancer.pick(empty.backend.id, empty.slot.endpoints);
            if (alt !== undefined) {
                // ingress-nginx sends the request itself there, with the error headers but no X-Original-URI
                this.primary = bt;
                this.choice = bt = empty;
                ep = alt;
                const h = this.errorHeaders(503, false);
                for (let i = 0; i < h.length; i += 2)
                    this.setUpstreamHeader(h[i], h[i + 1]);
            }
        }
        if (bt === undefined || ep === undefined) {
            this.recordFailure(NO_ENDPOINTS);
            this.fail(NO_ENDPOINTS);
            return;
        }
        this.endpoint = ep;
        this.attempt++;
        const req = this.req;
        const up = this.upgrade;
        const protocol = bt.backend.protocol;
        if (this.headers === null) {
            const f = forwardHeaders(req, this.host, this.opts.forward, up !== null, up === null && (protocol === 'GRPC' || protocol === 'GRPCS'), target.settings.upstreamVhost, this.input ?? req.rawHeaders, this.requestId_);
            this.headers = f.headers;
            this.requestId_ = f.requestId;
            this.clientIp_ = f.clientIp;
            const edits = this.upstreamEdits;
            if (edits !== null) {
                for (let i = 0; i < edits.length; i += 2) {
                    const name = edits[i];
                    drop(this.headers, name.toLowerCase());
                    if (edits[i + 1] !== null)
                        this.headers.push(name, edits[i + 1]);
                }
            }
            this.watchClient();
            if (requestHasBody(req)) {
                this.body = this.watchBody(target);
                // 100 Continue only now, once nothing refuses the request (checkContinue listeners)
                if (req.httpVersionMajor === 1 && req.httpVersionMinor === 1 && /^100-continue$/i.test(req.headers.expect ?? ''))
                    this.res.writeContinue();
            }
        }
        else if (this.body !== null && this.body.readableDidRead) {
            // a retry after the body was read: only with the whole body kept (shouldRetry checked it)
            this.body = Readable.from([Buffer.concat(this.replay ?? [])], { objectMode: false });
        }
        this.upstreamStart = performance.now();
        const read = target.settings.readTimeout ?? this.opts.readTimeout;
        this.opts.pools.get(up === null ? bt.dispatch : bt.upgrade, ep.ip, ep.port).dispatch({
            path: this.forwardPath,
            method: req.method ?? 'GET',
            headers: this.headers,
            body: this.body,
            headersTimeout: read,
            bodyTimeout: read,
            upgrade: up === null ? undefined : (req.headers.upgrade ?? ''),
        }, this);
    }
    /** ingress-nginx's error headers for this request, of the route's own backend. */
    errorHeaders(code, originalUri) {
        const t = this.target;
        const b = this.primary ?? (this.choice === t.errors?.whenEmpty ? undefined : this.choice) ?? t.backends[0];
        return errorHeaders(code, originalUri, this, t.route.source, b?.backend);
    }
    /**
     * Serves an error page: the first error backend with endpoints answers `GET /` (HEAD for HEAD;
     * the original query kept, as nginx's `rewrite (.*) / break`) with the error headers, and its
     * answer (status included) is the client's. No error backend has endpoints: the built-in 404.
     */
    errorPage(e, code) {
        this.errorCode = code;
        this.abortUpstream = null;
        this.watchClient();
        let bt;
        let ep;
        for (const b of e.backends) {
            ep = this.opts.balancer.pick(b.backend.id, b.slot.endpoints);
            if (ep !== undefined) {
                bt = b;
                break;
            }
        }
        if (bt === undefined || ep === undefined) {
            this.local(404, ERROR_PAGE_404, 'text/html; charset=utf-8', 'error_page');
            return;
        }
        const f = forwardHeaders(this.req, this.host, this.opts.forward, false, false, undefined, this.input ?? this.req.rawHeaders, this.requestId);
        const headers = f.headers;
        const h = this.errorHeaders(code, true);
        for (let i = 0; i < h.length; i += 2) {
            drop(headers, h[i]);
            headers.push(h[i], h[i + 1]);
        }
        this.endpoint = ep;
        this.choice = bt;
        this.attempt++;
        const read = this.target?.settings.readTimeout ?? this.opts.readTimeout;
        this.upstreamStart = performance.now();
        this.opts.pools.get(bt.dispatch, ep.ip, ep.port).dispatch({ path: errorPath(this.requestUri), method: this.req.method === 'HEAD' ? 'HEAD' : 'GET', headers, body: null, headersTimeout: read, bodyTimeout: read }, this);
    }
    /**
     * The pod agreed to the upgrade: its 101 goes to the client, then the two sockets are spliced.
     * The tunnel holds no reference to the table, so table swaps never touch it.
     */
    onUpgrade(rawHeaders, upstream, rest) {
        const up = this.upgrade;
        const client = up.socket;
        this.upstreamStatus = 101;
        this.upstreamMs = performance.now() - this.upstreamStart;
        const ep = this.endpoint;
        this.opts.stats.success(endpointKey(ep.ip, ep.port));
        this.res.detachSocket(client);
        if (client.destroyed) {
            upstream.destroy();
            this.finish(499);
            return;
        }
        let head = 'HTTP/1.1 101 Switching Protocols\r\n';
        for (let i = 0; i < rawHeaders.length; i += 2)
            head += `${rawHeaders[i]}: ${rawHeaders[i + 1]}\r\n`;
        client.write(`${head}\r\n`);
        if (rest.length > 0)
            client.write(rest);
        if (up.head.length > 0)
            upstream.write(up.head);
        upstream.setNoDelay(true);
        client.setNoDelay(true);
        upstream.on('error', () => client.destroy());
        upstream.on('close', () => client.destroy());
        client.on('close', () => {
            this.opts.tunnels.delete(client);
            upstream.destroy();
        });
        // idle in both directions: the client socket sees every byte either way (reads and writes)
        const idle = this.opts.limits.upgradeIdleTimeout || (this.target?.settings.readTimeout ?? this.opts.readTimeout);
        client.setTimeout(idle, () => {
            client.destroy();
            upstream.destroy();
        });
        this.opts.tunnels.add(client);
        upstream.pipe(client);
        client.pipe(upstream);
        upstream.resume();
        this.finish(101);
    }
    /**
     * Guards a request body: a stall longer than the client body timeout is a 408 when the client
     * stopped sending, a 504 when the pod stopped reading (the proxy-send-timeout case); a chunked
     * body over the size limit is a 413. When the route may retry the request after it reached a
     * pod, a body of at most {@link REPLAY_LIMIT} bytes is kept for a replay. Returns what the
     * upstream client should read.
     */
    watchBody(target) {
        const req = this.req;
        const lim = this.opts.limits;
        const stall = Math.min(lim.clientBodyTimeout, target.settings.sendTimeout ?? lim.sendTimeout);
        req.setTimeout(stall, () => {
            if (req.complete || this.done)
                return;
            const upstreamStalled = req.readableFlowing === false || req.readableLength > 0;
            this.abandon();
            if (upstreamStalled)
                this.fail(classify({ code: 'PORTICO_SEND_TIMEOUT' }));
            else {
                this.res.shouldKeepAlive = false;
                this.local(408, errorBody(408, 'the request body did not arrive in time'), TEXT, 'client_timeout');
            }
        });
        req.once('end', () => req.setTimeout(0));
        const declared = req.headers['content-length'];
        const limit = declared !== undefined ? 0 : (target.settings.bodySize ?? lim.bodySize);
        const keep = this.upgrade === null && keepsBody(target.retry, this.method) && (declared === undefined || Number(declared) <= REPLAY_LIMIT);
        if (limit <= 0 && !keep)
            return req; // Node's parser delivers exactly the declared length
        let seen = 0;
        if (keep)
            this.replay = [];
        const counted = new Transform({
            transform: (chunk, _enc, cb) => {
                seen += chunk.length;
                if (limit > 0 && seen > limit) {
                    this.abandon();
                    this.res.shouldKeepAlive = false;
                    lingerOnClose(this.req);
                    this.local(413, errorBody(413, `the request body is larger than ${limit} bytes`), TEXT, 'body_too_large');
                    cb(new Error('request body too large'));
                    return;
                }
                if (this.replay !== null) {
                    if (seen <= REPLAY_LIMIT)
                        this.replay.push(chunk);
                    else
                        this.replay = null;
                }
                cb(null, chunk);
            },
            flush: (cb) => {
                this.replayDone = this.replay !== null;
                cb();
            },
        });
        req.pipe(counted);
        return counted;
    }
    requestTimer = null;
    /** The whole request's deadline (Gateway API timeouts.request): 504 when it passes before the response is complete. */
    armRequestTimeout(ms) {
        this.requestTimer = setTimeout(() => {
            if (this.done)
                return;
            this.abandon();
            this.fail(classify({ code: 'PORTICO_REQUEST_TIMEOUT' }));
        }, ms - (performance.now() - this.start));
        this.requestTimer.unref();
    }
    /** Aborts the upstream request without answering its error: the caller answers. */
    abandon() {
        this.abandoned = true;
        this.abortUpstream?.();
    }
    onClientClose() {
        if (this.done)
            return;
        this.cause = 'client_abort';
        this.next = Next.None;
        this.stopDrain();
        this.abortUpstream?.();
    }
    stopDrain() {
        if (this.drainTimer === null)
            return;
        clearTimeout(this.drainTimer);
        this.drainTimer = null;
    }
    // --- upstream handler ----------------------------------------------------------------
    onConnect(abort) {
        this.abortUpstream = abort;
        if (this.res.destroyed)
            abort();
    }
    /** Whether the body can be sent again: none, not read yet, or kept whole. */
    replayable() {
        return this.body === null || !this.body.readableDidRead || this.replayDone;
    }
    onHeaders(status, rawHeaders, resume) {
        if (status < 200)
            return true; // 1xx informational: the final response follows
        this.upstreamStatus = status;
        this.upstreamMs = performance.now() - this.upstreamStart;
        this.resumeUpstream = resume;
        const pick = this.choice.pick;
        if (pick !== null && pick.observe !== undefined)
            pick.observe(this.endpoint, this.upstreamMs);
        const t = this.target;
        if (this.errorCode === 0 && this.upgrade === null) {
            // proxy_next_upstream http_xxx, then proxy_intercept_errors: the answer is discarded
            const r = t.retry;
            const retry = r.statuses !== null &&
                r.statuses.has(status) &&
                shouldRetry(r, { cause: 'status', sent: true, method: this.method, attempts: this.attempt, elapsed: performance.now() - this.start, replayable: this.replayable(), endpoints: this.choice?.slot.endpoints.length ?? 0 });
            const e = t.errors;
            if (retry || (e !== null && e.intercept && e.codes.has(status))) {
                this.next = retry ? Next.Retry : Next.ErrorPage;
                this.discarded = 0;
                const length = declaredLength(rawHeaders);
                if (length >= 0 && length <= DRAIN_LIMIT) {
                    // small enough to read to its end: the connection stays reusable
                    this.drainTimer = setTimeout(() => this.abortUpstream?.(), DRAIN_MS);
                    this.drainTimer.unref();
                }
                else {
                    this.abortUpstream?.();
                }
                return true;
            }
        }
        const out = [];
        let listed = null;
        for (let i = 0; i < rawHeaders.length; i += 2) {
            const n = rawHeaders[i];
            const v = rawHeaders[i + 1];
            // strings from Portico's HTTP/1.1 client, Buffers from undici (gRPC)
            const name = typeof n === 'string' ? n : n.toString('latin1');
            const lower = name.toLowerCase();
            const value = typeof v === 'string' ? v : v.toString('latin1');
            if (lower === 'connection')
                listed = connectionListed(value);
            if (DROP_RESPONSE.has(lower))
                continue;
            out.push(name, value);
        }
        if (listed !== null) {
            for (let i = out.length - 2; i >= 0; i -= 2)
                if (listed.has(out[i].toLowerCase()))
                    out.splice(i, 2);
        }
        out.push('server', 'portico');
        if (this.affinityCookie !== null)
            out.push('set-cookie', this.affinityCookie);
        if (this.responseExtra !== null)
            out.push(...this.responseExtra);
        if (this.responseEdits !== null)
            for (const e of this.responseEdits)
                applyEdit(out, e);
        if (this.responseIfOk !== null && ADD_HEADER_STATUSES.has(status))
            out.push(...this.responseIfOk);
        if (this.opts.hsts !== null)
            out.push('strict-transport-security', this.opts.hsts);
        try {
            this.applyDirectives(status, out, true);
        }
        catch {
            return this.cannotForward();
        }
        if (this.req.httpVersionMajor === 2 && mayBeTrailersOnly(out)) {
            this.heldHead = { status, head: out };
            return true;
        }
        return this.writeHead(status, out);
    }
    writeHead(status, out) {
        try {
            this.res.writeHead(status, out);
        }
        catch {
            return this.cannotForward();
        }
        return true;
    }
    /** A head the client side cannot carry: Portico answers 502 itself (the abort must not read as the client's). */
    cannotForward() {
        this.abandon();
        const f = classify({ code: 'UND_ERR_RESPONSE_STATUS_CODE' });
        this.recordFailure(f);
        this.fail(f);
        return false;
    }
    /** The route's header-directive response edits (an error page's answer gets only the server's and global ones). */
    applyDirectives(status, headers, proxied) {
        const t = this.target;
        if (t === null)
            return;
        const r = this.errorCode === 0 ? t.response : t.outer;
        if (r !== null)
            r.edit(status, headers, this, proxied);
    }
    onData(chunk, last) {
        if (this.next !== Next.None) {
            this.discarded += chunk.length;
            if (this.discarded > DRAIN_LIMIT)
                this.abortUpstream?.();
            return true;
        }
        this.bytes += chunk.length;
        if (this.heldHead !== null) {
            const h = this.heldHead;
            this.heldHead = null;
            if (!this.writeHead(h.status, h.head))
                return false;
        }
        if (last === true) {
            // head and body in one write
            this.ended = true;
            this.res.end(chunk);
            return true;
        }
        if (this.res.write(chunk))
            return true;
        this.res.once('drain', this.resumeUpstream);
        return false;
    }
    /** Trailers come as a flat raw array over HTTP/1.1 and as an object over HTTP/2 (gRPC's grpc-status lives here). */
    onComplete(rawTrailers) {
        if (this.next !== Next.None) {
            // the discarded answer was read to its end: the pod answered, and the connection is reusable
            const ep = this.endpoint;
            this.opts.stats.success(endpointKey(ep.ip, ep.port));
            this.proceed();
            return;
        }
        // An object, because HTTP/2's compat response only takes that form.
        const trailers = {};
        let any = false;
        if (Array.isArray(rawTrailers)) {
            for (let i = 0; i < rawTrailers.length; i += 2) {
                trailers[String(rawTrailers[i]).toLowerCase()] = String(rawTrailers[i + 1]);
                any = true;
            }
        }
        else if (rawTrailers) {
            for (const [k, v] of Object.entries(rawTrailers)) {
                if (k.charCodeAt(0) === 58)
                    continue;
                trailers[k] = Array.isArray(v) ? v.join(', ') : String(v);
                any = true;
            }
        }
        const held = this.heldHead;
        const h2 = held === null ? null : http2Response(this.res);
        if (held !== null && h2 !== null) {
            this.heldHead = null;
            try {
                respondTrailersOnly(h2, held.status, held.head, trailers);
            }
            catch {
                h2.stream.close();
            }
        }
        else {
            if (any) {
                try {
                    this.res.addTrailers(trailers);
                }
                catch {
                    // a trailer the client side cannot carry is dropped, not fatal
                }
            }
            if (!this.ended)
                this.res.end();
        }
        const ep = this.endpoint;
        this.opts.stats.success(endpointKey(ep.ip, ep.port));
        this.finish(this.upstreamStatus);
    }
    /** A discarded answer is done with (read to its end, or its connection closed): retry, or serve the error page. */
    proceed() {
        const next = this.next;
        this.next = Next.None;
        this.stopDrain();
        this.abortUpstream = null;
        if (this.done || this.cause === 'client_abort')
            return;
        const t = this.target;
        if (next === Next.Retry) {
            this.opts.metrics?.retry(this.recorded);
            this.send(this.endpoint);
        }
        else if (t.errors !== null) {
            this.errorPage(t.errors, this.upstreamStatus);
        }
    }
    onError(err) {
        if (this.next !== Next.None) {
            // the discarded answer's connection closed (or was closed): the decision stands
            this.proceed();
            return;
        }
        if (this.done || this.abandoned)
            return;
        const f = classify(err);
        if (this.cause === 'client_abort') {
            this.finish(499);
            return;
        }
        const t = this.target;
        const retry = t !== null &&
            this.errorCode === 0 &&
            !this.res.headersSent &&
            shouldRetry(t.retry, { cause: f.cause, sent: !f.neverSent, method: this.method, attempts: this.attempt, elapsed: performance.now() - this.start, replayable: this.replayable(), endpoints: this.choice?.slot.endpoints.length ?? 0 });
        this.recordFailure(f);
        if (retry) {
            this.opts.metrics?.retry(this.recorded);
            this.abortUpstream = null;
            this.send(this.endpoint);
            return;
        }
        this.fail(f);
    }
    // --- answers --------------------------------------------------------------------------
    /** Answers an upstream failure: an error status if nothing was sent yet, else a cut connection. */
    recordFailure(f) {
        this.opts.metrics?.upstreamError(this.recorded, f.cause);
        const ep = this.endpoint;
        if (ep !== undefined && UNHEALTHY.has(f.cause) && this.opts.stats.failure(endpointKey(ep.ip, ep.port), f.cause)) {
            this.opts.metrics?.ejection(this.recorded);
        }
    }
    fail(f) {
        this.cause = f.cause;
        if (this.res.headersSent) {
            this.res.destroy();
            this.upgrade?.socket.destroy();
            this.finish(this.upstreamStatus);
            return;
        }
        // error_page applies to Portico's own 502/503/504 too (nginx's), whatever disable-proxy-intercept-errors says
        const e = this.target?.errors;
        if (e != null && this.errorCode === 0 && this.upgrade === null && e.codes.has(f.status)) {
            this.errorPage(e, f.status);
            return;
        }
        this.local(f.status, errorBody(f.status, f.text), TEXT, f.cause);
    }
    /** Answers locally (404 page, redirect, 400, 5xx). */
    local(status, body, type, cause, extra = []) {
        this.cause = cause;
        if (this.requestId_ === '')
            this.requestId_ = this.req.headers['x-request-id'] ?? nextRequestId();
        this.bytes = Buffer.byteLength(body);
        const more = this.responseExtra === null ? [...extra] : [...extra, ...this.responseExtra];
        if (this.affinityCookie !== null)
            more.push('set-cookie', this.affinityCookie);
        if (this.responseEdits !== null)
            for (const e of this.responseEdits)
                applyEdit(more, e);
        if (this.responseIfOk !== null && ADD_HEADER_STATUSES.has(status))
            more.push(...this.responseIfOk);
        const headers = this.opts.hsts === null ? more : [...more, 'strict-transport-security', this.opts.hsts];
        if (this.target !== null && (this.errorCode === 0 ? this.target.response : this.target.outer) !== null) {
            const h = [...(type === '' ? [] : ['content-type', type]), 'server', 'portico', ...headers];
            try {
                this.applyDirectives(status, h, false);
                replyEdited(this.res, status, body, h);
            }
            catch {
                // never reached by the edits Portico compiles; Portico's own answer goes without them
                reply(this.res, status, body, type, headers);
            }
        }
        else
            reply(this.res, status, body, type, headers);
        this.finish(status);
    }
    finish(status) {
        if (this.done)
            return;
        this.done = true;
        this.stopDrain();
        if (this.requestTimer !== null)
            clearTimeout(this.requestTimer);
        const req = this.req;
        const t = this.recorded;
        const durationMs = performance.now() - this.start;
        // a walk over the request's headers: only when something records it
        const log = this.target?.settings.accessLog === false ? null : this.opts.accessLog;
        const length = this.opts.metrics || log ? requestLength(req) : 0;
        this.opts.metrics?.request(t, {
            method: req.method ?? '',
            status,
            durationSec: durationMs / 1000,
            upstreamSec: this.upstreamStatus === 0 ? -1 : this.upstreamMs / 1000,
            requestBytes: length,
            responseBytes: this.bytes,
        });
        if (log === null)
            return;
        const ep = this.endpoint;
        log(req, t, {
            remote: this.clientIp_,
            time: this.startTime,
            status,
            bytes: this.bytes,
            requestLength: length,
            durationMs,
            upstream: ep === undefined ? '' : `${ep.ip}:${ep.port}`,
            upstreamStatus: this.upstreamStatus,
            upstreamMs: this.upstreamMs,
            requestId: this.requestId_,
            cause: this.cause,
        });
    }
}
//# sourceMappingURL=exchange.js.map