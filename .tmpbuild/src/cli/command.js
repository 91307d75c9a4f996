/** The command line: `portico routes|backends|status [--admin-url URL]`, else `portico [flags]` (src/config.ts). */
import { ConfigError, parseArgs } from '../config.js';
export const DEFAULT_ADMIN_URL = 'http://127.0.0.1:10254';
const SUBCOMMANDS = ['routes', 'backends', 'status'];
/** `portico routes|backends [--admin-url URL]`: read views from a running instance. */
function parseSubcommand(kind, argv) {
    let adminUrl = DEFAULT_ADMIN_URL;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === '--help' || arg === '-h')
            return { kind: 'help', topic: kind };
        if (arg === '--admin-url' && argv[i + 1] !== undefined)
            adminUrl = argv[++i];
        else if (arg.startsWith('--admin-url='))
            adminUrl = arg.slice('--admin-url='.length);
        else
            throw new ConfigError(`unexpected argument ${JSON.stringify(arg)} for portico ${kind} (see portico ${kind} --help)`);
    }
    const url = URL.canParse(adminUrl) ? new URL(adminUrl) : null;
    if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/' || url.search !== '' || url.username !== '') {
        throw new ConfigError(`invalid value ${JSON.stringify(adminUrl)} for --admin-url: expected http://host:port`);
    }
    return { kind, adminUrl: url.origin };
}
/** Parses argv (without node and script). Throws ConfigError with a one-line message. */
export function parseCommandLine(argv, env = process.env) {
    const sub = SUBCOMMANDS.find((c) => c === argv[0]);
    if (sub !== undefined)
        return parseSubcommand(sub, argv.slice(1));
    const cmd = parseArgs(argv, env);
    return cmd.kind === 'help' ? { kind: 'help', topic: 'portico' } : cmd;
}
//# sourceMappingURL=command.js.map