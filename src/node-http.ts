/**
 * `node:http` for Portico's ES modules, through `require`, never an ES module import of it (a
 * test keeps it so). On Node 22.4+ (the image's Node 24) `http` has lazy getters for `WebSocket`,
 * `CloseEvent` and `MessageEvent`, and the ES module facade of a builtin reads every export once
 * when it is first imported: that loads Node's internal undici (its fetch, WebSocket and llhttp),
 * which Portico never uses: 2.4 MiB of heap, 1.8 MiB of external memory and 13 MiB of RSS in a
 * bare process, 2–3 MiB of RSS at 10,000 Ingresses after the start-up collection
 * (docs/performance.md, "Memory"). Type-only imports of it are fine: they are erased.
 */
import { createRequire } from 'node:module';

export const http = createRequire(import.meta.url)('node:http') as typeof import('node:http');
export const { STATUS_CODES, createServer, request } = http;
