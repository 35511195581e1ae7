import { execFileSync } from 'node:child_process';

/** The UDP ports process `pid` has bound on `ip` (from `ss -uanp`, iproute2; the process's own sockets only when run as root). */
export function udpPortsOf(pid: number, ip: string): number[] {
  const table = execFileSync('ss', ['-H', '-u', '-a', '-n', '-p'], { encoding: 'utf8' });
  const ports: number[] = [];
  for (const line of table.split('\n')) {
    const local = line.trim().split(/\s+/)[3] ?? '';
    if (!line.includes(`pid=${pid},`) || local.slice(0, local.lastIndexOf(':')) !== ip) continue;
    ports.push(Number(local.slice(local.lastIndexOf(':') + 1)));
  }
  return ports;
}
