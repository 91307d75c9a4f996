/** Whether a response head (flat name/value list) could be a trailers-only gRPC response. */
export function mayBeTrailersOnly(head) {
    for (let i = 0; i < head.length; i += 2)
        if (head[i].toLowerCase() === 'grpc-status')
            return true;
    return false;
}
/** The HTTP/2 response behind a compat response, or null over HTTP/1.1. */
export function http2Response(res) {
    return 'stream' in res && res.stream !== undefined ? res : null;
}
/** Sends the head, with any trailers folded in, as the whole response (one HEADERS frame, END_STREAM). */
export function respondTrailersOnly(res, status, head, trailers) {
    const headers = { ':status': status };
    const put = (name, value) => {
        const k = name.toLowerCase();
        const prev = headers[k];
        headers[k] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [String(prev), value];
    };
    for (let i = 0; i < head.length; i += 2)
        put(head[i], head[i + 1]);
    for (const [k, v] of Object.entries(trailers))
        put(k, v);
    res.stream.respond(headers, { endStream: true });
}
//# sourceMappingURL=grpc-head.js.map