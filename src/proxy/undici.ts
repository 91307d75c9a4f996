/**
 * undici, required on first use: only gRPC backends, external auth and mirror-target URLs need
 * it, and loading it costs every process about 3 MiB of heap and 5 MiB of RSS (its fetch,
 * WebSocket and llhttp modules, their source text kept; docs/performance.md, "Memory"). Import
 * only its types elsewhere (src/lazy-modules.test.ts checks a start-up does not load it).
 */
import { createRequire } from 'node:module';

type Undici = typeof import('undici');

let undici: Undici | null = null;

/** The undici module, loaded the first time it is asked for. */
export const loadUndici = (): Undici => (undici ??= createRequire(import.meta.url)('undici') as Undici);
