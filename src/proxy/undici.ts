/**
 * undici, required on first use: only gRPC backends and external auth need it, and loading it
 * costs every process about 3 MiB of heap (its fetch, WebSocket and llhttp modules, their source
 * text kept; docs/performance.md, "Memory").
 */
import { createRequire } from 'node:module';

type Undici = typeof import('undici');

let undici: Undici | null = null;

/** The undici module, loaded the first time it is asked for. */
export const loadUndici = (): Undici => (undici ??= createRequire(import.meta.url)('undici') as Undici);
