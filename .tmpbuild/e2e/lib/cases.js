/**
 * Request/response tables, as the Gateway API conformance suite writes its expectations: each
 * row a request and what must come back (status, which pod, what the pod saw, redirects,
 * response headers). `converge` retries a whole table until every row holds, as the suite's
 * AwaitConvergence does after a change, and fails naming the rows that never did.
 */
import assert from 'node:assert/strict';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { get } from './http.js';
import { sleep } from './load.js';
const tlsAgent = new HttpsAgent({ keepAlive: false, rejectUnauthorized: false });
function send(t, c) {
    if (t.tls !== true)
        return get(t.port, c.path, { ...(c.host === undefined ? {} : { host: c.host }), method: c.method ?? 'GET', headers: c.headers ?? {} });
    return new Promise((resolve, reject) => {
        const hostname = (c.host ?? '').replace(/:\d+$/, '');
        const req = httpsRequest({ host: '127.0.0.1', port: t.port, path: c.path, method: c.method ?? 'GET', agent: tlsAgent, servername: t.servername ?? hostname, headers: { ...(c.host === undefined ? {} : { host: c.host }), ...c.headers } }, (res) => {
            const chunks = [];
            res.on('data', (d) => chunks.push(d));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
            res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
    });
}
/** Header values as the conformance suite compares them: repeated values joined with ",". */
const joined = (v) => (v === undefined ? null : (Array.isArray(v) ? v : [v]).join(',').split(/\s*,\s*/).join(','));
/** What is wrong with the answer to `c`, or null. */
export async function mismatch(t, c) {
    const label = `${c.method ?? 'GET'} ${c.host ?? ''}${c.path}${c.headers ? ` ${JSON.stringify(c.headers)}` : ''}`;
    let r;
    try {
        r = await send(t, c);
    }
    catch (err) {
        return `${label}: ${err.message}`;
    }
    const want = c.status ?? 200;
    if (r.status !== want)
        return `${label}: status ${r.status}, want ${want} (${r.body.slice(0, 120)})`;
    const problems = [];
    let seen = null;
    try {
        seen = r.headers['x-pod'] !== undefined ? JSON.parse(r.body) : null;
    }
    catch {
        seen = null;
    }
    if (c.backend === null && seen !== null)
        problems.push(`answered by pod ${seen.pod}`);
    if (c.backend !== undefined && c.backend !== null && seen?.pod !== c.backend)
        problems.push(`pod ${seen?.pod ?? '(none)'}, want ${c.backend}`);
    if (seen !== null && want === 200) {
        const path = c.seenPath ?? c.path;
        if (seen.url !== path)
            problems.push(`pod saw ${seen.url}, want ${path}`);
        if (c.seenHost !== undefined && seen.headers?.host !== c.seenHost)
            problems.push(`pod saw host ${String(seen.headers?.host)}, want ${c.seenHost}`);
        for (const [k, v] of Object.entries(c.seenHeaders ?? {})) {
            const got = joined(seen.headers?.[k.toLowerCase()]);
            if (got !== v)
                problems.push(`pod saw ${k}: ${got}, want ${v}`);
        }
    }
    for (const [k, v] of Object.entries(c.responseHeaders ?? {})) {
        const got = joined(r.headers[k.toLowerCase()]);
        if (got !== v)
            problems.push(`response ${k}: ${got}, want ${v}`);
    }
    if (c.location !== undefined && r.headers.location !== c.location)
        problems.push(`location ${String(r.headers.location)}, want ${c.location}`);
    return problems.length === 0 ? null : `${label}: ${problems.join('; ')}`;
}
/** Every row's problems, in order. */
export async function mismatches(t, cases) {
    const out = [];
    for (const c of cases) {
        const m = await mismatch(t, c);
        if (m !== null)
            out.push(m);
    }
    return out;
}
/** Retries the table until every row holds twice in a row (within `ms`), then asserts. */
export async function converge(t, cases, ms = 10_000) {
    const deadline = Date.now() + ms;
    let good = 0;
    let last = [];
    while (Date.now() < deadline) {
        last = await mismatches(t, cases);
        good = last.length === 0 ? good + 1 : 0;
        if (good === 2)
            return;
        await sleep(50);
    }
    assert.deepEqual(last, [], `rows that did not hold within ${ms} ms`);
}
//# sourceMappingURL=cases.js.map