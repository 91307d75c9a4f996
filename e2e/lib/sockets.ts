/** Listening sockets as the kernel lists them (/proc/net/tcp) and which process holds each (/proc/PID/fd). */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** The inodes of the sockets listening on `host`:`port` (/proc/net/tcp: little-endian IPv4 address, hex port, state 0A). */
export function listeningInodes(host: string, port: number): string[] {
  const local = `${host.split('.').reverse().map((b) => Number(b).toString(16).toUpperCase().padStart(2, '0')).join('')}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[1] === local && f[3] === '0A')
    .map((f) => f[9] as string);
}

/** How many of `inodes` process `pid` has open. */
export function ownedBy(pid: number, inodes: readonly string[]): number {
  const want = new Set(inodes.map((i) => `socket:[${i}]`));
  return readdirSync(`/proc/${pid}/fd`).filter((fd) => {
    try {
      return want.has(readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      // closed meanwhile
      return false;
    }
  }).length;
}
