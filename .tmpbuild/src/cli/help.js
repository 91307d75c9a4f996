/** `--help` for `portico` and its subcommands, generated from the flag table so it cannot drift. */
import { FLAGS } from '../config.js';
import { DEFAULT_ADMIN_URL } from './command.js';
/** Lines are at most this wide; the flag column is FLAG_COLUMN wide. */
export const HELP_WIDTH = 100;
const FLAG_COLUMN = 46;
/**
 * Fills `text` into lines of at most `width`, breaking at spaces; a word longer than a line (a
 * CIDR or cipher list) breaks after its commas, or else after its colons.
 */
export function wrap(text, width) {
    // [what joins it to the piece before, piece]: a long word's pieces join with nothing
    const split = (word) => word.split(word.includes(',') ? /(?<=,)/ : /(?<=:)(?!:)/);
    const pieces = text.split(' ').flatMap((word) => (word.length <= width ? [[' ', word]] : split(word).map((p, i) => [i === 0 ? ' ' : '', p])));
    const lines = [];
    let line = '';
    for (const [join, piece] of pieces) {
        if (line === '')
            line = piece;
        else if (line.length + join.length + piece.length <= width)
            line += join + piece;
        else {
            lines.push(line);
            line = piece;
        }
    }
    if (line !== '')
        lines.push(line);
    return lines;
}
function defaultOf(def) {
    if (def.default !== '')
        return ` (default: ${def.default})`;
    return def.unset !== undefined ? ` (default: ${def.unset})` : '';
}
function row(left, text) {
    const [first = '', ...rest] = wrap(text, HELP_WIDTH - FLAG_COLUMN);
    const head = left.length < FLAG_COLUMN ? [left.padEnd(FLAG_COLUMN) + first] : [left, ' '.repeat(FLAG_COLUMN) + first];
    return [...head, ...rest.map((l) => ' '.repeat(FLAG_COLUMN) + l)];
}
const SUBCOMMAND_HELP = {
    status: 'Prints the Gateway API status a running Portico computes (its /debug/gateways): each GatewayClass, Gateway and listener, and each route\'s parents, with their conditions. In Kubernetes mode the leader also writes it to the objects.',
    routes: 'Prints the routing table of a running Portico (its /debug/routes), one row per routing decision, and its diagnostics.',
    backends: 'Prints the backends of a running Portico (its /debug/backends): every endpoint with its state and request and error counts.',
};
export function helpText(topic = 'portico') {
    if (topic !== 'portico') {
        return [
            `Usage: portico ${topic} [--admin-url URL]`,
            '',
            ...wrap(SUBCOMMAND_HELP[topic], HELP_WIDTH),
            '',
            ...wrap('The admin port answers /debug/* only to loopback peers by default (--debug-endpoints=local): on Kubernetes, run kubectl port-forward to the pod\'s admin port first.', HELP_WIDTH),
            '',
            'Flags:',
            ...row('  --admin-url URL', `The admin listener of the running instance (default: ${DEFAULT_ADMIN_URL})`),
            ...row('  --help', 'Print this help'),
        ].join('\n');
    }
    const lines = [
        'Usage: portico [flags]',
        '       portico routes|backends|status [--admin-url URL]   print the views of a running instance',
        '',
        'Kubernetes Ingress controller and reverse proxy. Standalone mode: portico --manifests DIR',
        '',
        'Flags:',
    ];
    for (const [name, def] of Object.entries(FLAGS)) {
        const arg = def.kind === 'bool' ? '[=false]' : ` ${def.arg ?? (def.choices ? def.choices.join('|') : def.kind.toUpperCase())}`;
        lines.push(...row(`  --${name}${arg}`, def.help + defaultOf(def)));
    }
    lines.push(...row('  --dry-run', 'Check the flags and print the configuration as JSON; with --manifests, also read the manifests and print their diagnostics on stderr (exit 1 if there are any)'));
    lines.push(...row('  --help, --version', 'Print this help, or the version'));
    return lines.join('\n');
}
//# sourceMappingURL=help.js.map