/** The table before the first rebuild: nothing routes, everything answers 404. */
export const EMPTY_TABLE = { routes: [], hostFallbacks: new Map(), defaultBackend: null, backends: new Map(), certs: new Map() };
//# sourceMappingURL=types.js.map