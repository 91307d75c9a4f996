export const LINGER = { totalMs: 30_000, idleMs: 5_000 };
/**
 * Makes the close that follows `req`'s answer a lingering one, when the client may still be
 * sending its body (HTTP/1 only; a request whose body has arrived closes at once, as before).
 */
export function lingerOnClose(req, times = LINGER) {
    if (req.httpVersionMajor >= 2 || req.complete)
        return;
    const socket = req.socket;
    // Node's HTTP server calls destroySoon() once the last answer of a closing connection is written
    socket.destroySoon = () => {
        if (socket.destroyed)
            return;
        const close = () => {
            clearTimeout(total);
            socket.destroy();
        };
        const total = setTimeout(close, times.totalMs);
        total.unref();
        socket.setTimeout(times.idleMs, close);
        socket.once('end', close);
        socket.once('close', () => clearTimeout(total));
        socket.end();
        // the rest of the body is read and dropped (the parser keeps reading while the request flows)
        req.resume();
    };
}
//# sourceMappingURL=linger.js.map