/**
 * An HTTP hop in front of a real test server (s3rver) that records every request and can hold one
 * matching a predicate forever, so a test can kill an uploader at a known point: parts before the held
 * one acknowledged, the held one never. Bytes pass through unchanged (s3rver checks no signatures).
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type ProxiedRequest = { method: string; url: URL; headers: http.IncomingHttpHeaders; status?: number };

export class StallingProxy extends EventEmitter {
  readonly requests: ProxiedRequest[] = [];
  readonly #server: http.Server;
  readonly #target: URL;
  #stallWhen?: (request: ProxiedRequest) => boolean;

  private constructor(target: string) {
    super();
    this.#target = new URL(target);
    this.#server = http.createServer((incoming, outgoing) => this.#forward(incoming, outgoing));
  }

  static async start(target: string): Promise<StallingProxy> {
    const proxy = new StallingProxy(target);
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Holds the first request that matches (its body is never forwarded) and emits 'stalled'. */
  stallNext(predicate: (request: ProxiedRequest) => boolean): void {
    this.#stallWhen = predicate;
  }

  /** Parts (PUT with partNumber) the store answered 200. */
  acknowledgedParts(): number[] {
    return this.requests.filter((r) => r.method === 'PUT' && r.url.searchParams.has('partNumber') && r.status === 200).map((r) => Number(r.url.searchParams.get('partNumber')));
  }

  count(method: string, query: string): number {
    return this.requests.filter((r) => r.method === method && r.url.searchParams.has(query)).length;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  #forward(incoming: http.IncomingMessage, outgoing: http.ServerResponse): void {
    const record: ProxiedRequest = { method: incoming.method ?? 'GET', url: new URL(incoming.url ?? '/', this.endpoint), headers: incoming.headers };
    this.requests.push(record);
    if (this.#stallWhen?.(record)) {
      this.#stallWhen = undefined;
      this.emit('stalled', record);
      return;
    }
    const upstream = http.request(
      { host: this.#target.hostname, port: this.#target.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (answer) => {
        record.status = answer.statusCode;
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    upstream.on('error', () => outgoing.destroy());
    incoming.pipe(upstream);
  }
}
