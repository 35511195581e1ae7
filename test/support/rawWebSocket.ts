import crypto from 'node:crypto';
import net from 'node:net';

/** A WebSocket frame as the server sent it (servers never mask). */
export interface RawFrame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

export const OPCODE = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

/**
 * A WebSocket client written on a bare TCP socket, for tests of clients that misbehave where a
 * real client library would not let them: one that never reads, never answers pings, or sends a
 * fragmented message that never ends. It answers nothing by itself.
 */
export class RawWebSocket {
  readonly socket: net.Socket;
  readonly frames: RawFrame[] = [];
  /** Bytes of frames received (after the handshake). */
  received = 0;
  #buffer: Buffer = Buffer.alloc(0);
  #listeners = new Set<(frame: RawFrame) => void>();
  #ended = false;
  #endListeners = new Set<() => void>();

  private constructor(socket: net.Socket, rest: Buffer) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.#ended = true;
      for (const listener of this.#endListeners) listener();
    });
    if (rest.length > 0) this.#onData(rest);
  }

  /** Connects and completes the opening handshake (throws on anything but 101). */
  static open(port: number, path: string, options: { localAddress?: string } = {}): Promise<RawWebSocket> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port, ...(options.localAddress ? { localAddress: options.localAddress } : {}) });
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) return;
        socket.off('data', onData);
        socket.off('error', reject);
        const status = head.subarray(0, end).toString('latin1').split('\r\n')[0] ?? '';
        if (!/^HTTP\/1\.1 101 /.test(status)) {
          socket.destroy();
          reject(new Error(`handshake refused: ${status}`));
          return;
        }
        resolve(new RawWebSocket(socket, head.subarray(end + 4)));
      };
      socket.on('data', onData);
      socket.once('error', reject);
      socket.once('connect', () => {
        const key = crypto.randomBytes(16).toString('base64');
        socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      });
    });
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Writes one masked frame; resolves when it was handed to the kernel. */
  sendFrame(opcode: number, payload: Buffer | string, fin = true): Promise<void> {
    const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const mask = crypto.randomBytes(4);
    let header: Buffer;
    if (data.length < 126) {
      header = Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | data.length]);
    } else if (data.length < 65536) {
      header = Buffer.alloc(4);
      header[0] = (fin ? 0x80 : 0) | opcode;
      header[1] = 0x80 | 126;
      header.writeUInt16BE(data.length, 2);
    } else {
      header = Buffer.alloc(10);
      header[0] = (fin ? 0x80 : 0) | opcode;
      header[1] = 0x80 | 127;
      header.writeBigUInt64BE(BigInt(data.length), 2);
    }
    const masked = Buffer.alloc(data.length);
    for (let index = 0; index < data.length; index++) masked[index] = data[index]! ^ mask[index % 4]!;
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.write(Buffer.concat([header, mask, masked]), () => resolve());
    });
  }

  sendText(text: string): Promise<void> {
    return this.sendFrame(OPCODE.text, text);
  }

  /** Resolves with the first frame (already received or to come) that satisfies `predicate`. */
  waitForFrame(predicate: (frame: RawFrame) => boolean, timeoutMs: number): Promise<RawFrame | undefined> {
    const found = this.frames.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#listeners.delete(listener);
        resolve(undefined);
      }, timeoutMs);
      const listener = (frame: RawFrame): void => {
        if (!predicate(frame)) return;
        clearTimeout(timer);
        this.#listeners.delete(listener);
        resolve(frame);
      };
      this.#listeners.add(listener);
    });
  }

  /** The close frame's code and reason, once one arrived; undefined if none came within the time. */
  async waitForClose(timeoutMs: number): Promise<{ code: number; reason: string } | undefined> {
    const frame = await this.waitForFrame((candidate) => candidate.opcode === OPCODE.close, timeoutMs);
    if (!frame) return undefined;
    return { code: frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005, reason: frame.payload.subarray(2).toString('utf8') };
  }

  /** Resolves when the TCP connection is gone (or after timeoutMs, with false). */
  waitForEnd(timeoutMs: number): Promise<boolean> {
    if (this.#ended) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#endListeners.add(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  destroy(): void {
    this.socket.destroy();
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const frame = this.#nextFrame();
      if (!frame) return;
      this.frames.push(frame);
      for (const listener of [...this.#listeners]) listener(frame);
    }
  }

  #nextFrame(): RawFrame | undefined {
    const buffer = this.#buffer;
    if (buffer.length < 2) return undefined;
    let length = buffer[1]! & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (buffer.length < 4) return undefined;
      length = buffer.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (buffer.length < 10) return undefined;
      length = Number(buffer.readBigUInt64BE(2));
      offset = 10;
    }
    if (buffer.length < offset + length) return undefined;
    const frame = { fin: (buffer[0]! & 0x80) !== 0, opcode: buffer[0]! & 0x0f, payload: buffer.subarray(offset, offset + length) };
    this.#buffer = buffer.subarray(offset + length);
    this.received += offset + length;
    return frame;
  }
}
