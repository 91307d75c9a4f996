/** What a route's upstream settings mean for the connection to its pods. Pure. */
import { isIP } from 'node:net';
/**
 * With `proxy-ssl-server-name: on`: `proxy-ssl-name`, else the host of `upstream-vhost`, else the
 * ExternalName; never an IP address (RFC 6066 names hosts only).
 */
export function sniOf(limits, backend) {
    if (limits.sslServerName !== true)
        return undefined;
    const vhost = limits.upstreamVhost?.replace(/:\d+$/, '');
    const name = limits.sslName ?? vhost ?? backend.externalName;
    return name === undefined || name.startsWith('[') || isIP(name) !== 0 ? undefined : name;
}
//# sourceMappingURL=upstream.js.map