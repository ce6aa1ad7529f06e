import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { type BodyRate, SocketBody } from './socket-body.ts';

/**
 * Large bodies read straight from the socket into reused memory, node:http never seeing them.
 *
 * Why: node:http's parser reads the socket itself and hands every body chunk to JavaScript as a
 * new Buffer (node_http_parser.cc, on_body: a copy per socket read), and V8 frees such external
 * memory only once ~64 MiB more has piled up: 186–205 MiB peak RSS for one large upload, or a
 * forced collection every few MiB (which needs --expose-gc for the whole process). The one read
 * path in Node that allocates nothing per read is a socket reading into a buffer of its own
 * (net.Socket's `onread: { buffer, callback }`; the handle's useUserBuffer).
 *
 * How: every connection of the server reads that way. Bytes go to node:http's parser as they
 * came (`socket.emit('data')`, its path for a socket it does not consume), in one buffer shared
 * by all connections — the parser copies what it keeps before it returns. When a request's head
 * is parsed and its handler takes the body (takeBody(), called synchronously from the 'request'
 * listener), the parser is told the message has no body: llhttp's on_headers_complete result 2
 * ("assume absence of body … return HPE_PAUSED_UPGRADE"), which Node turns back into an
 * ordinary return after the head. The connection then hands the next Content-Length bytes to
 * the SocketBody, from a buffer of its own, and gives the parser what follows (keep-alive,
 * pipelining). Everything else — small and Transfer-Encoding: chunked bodies, errors,
 * timeouts, the answer — stays node:http's.
 *
 * It relies on Node 24 internals (the project pins Node 24), checked when a connection opens
 * (one missing → that connection is left to node:http as it is): net.Socket's
 * kBuffer/kBufferCb/kBufferGen slots (what `onread` sets; there is no public way to set them on
 * a socket a server accepted; the generator is asked for the next buffer after every read), the
 * handle's `_consumed` flag (node:http then reads through 'data' instead of consuming the handle
 * in C++) and its readStart (wrapped, so nothing resumes reading into a buffer still in use),
 * and the parser's `onIncoming` / `execute`. body-takeover.test.ts fails if any stops meaning
 * that.
 */

/** Bytes per socket read (libuv's suggested size, and node:http's). */
export const READ_BYTES = 64 * 1024;
/** The buffer every connection reads into while no body of its own holds it. */
const SHARED = Buffer.allocUnsafeSlow(READ_BYTES);
/** Connection buffers kept for the next large body. */
const POOL_MAX = 16;
const pool: Buffer[] = [];

interface Parser {
  socket: Socket | null;
  execute(d: Buffer): number | Error;
  onIncoming: ((req: IncomingMessage, keepAlive: boolean) => number) | null;
}

interface Handle {
  isStreamBase?: boolean;
  _consumed?: boolean;
  reading?: boolean;
  readStart(): number;
  useUserBuffer?(b: Buffer): void;
}

const kTakeable = Symbol('chute.takeable');
type Takeable = IncomingMessage & { [kTakeable]?: Connection };

export interface TakeoverOptions {
  /** Bodies announced at least this large may be taken. */
  minBytes: number;
  rate: BodyRate;
}

/** The socket's own symbol of that description (Node's internal slots), if there is one. */
function slot(socket: Socket, description: string): symbol | undefined {
  return Object.getOwnPropertySymbols(socket).find((s) => s.description === description);
}

class Connection {
  readonly socket: Socket;
  readonly handle: Handle;
  readonly #readStart: () => number;
  parser: Parser | undefined;
  /** The body being received (its bytes are still to come). */
  body: SocketBody | undefined;
  /** A body all of whose bytes came but whose sink still uses the last of them. */
  #finishing: SocketBody | undefined;
  /** Taken by the handler during the parse of its head; set up once execute() returns. */
  taking: SocketBody | undefined;
  /** Where the head of the request being taken ended, in the bytes given to execute(). */
  headEnd = -1;
  /** This connection's own buffer, while a body of its holds bytes. */
  own: Buffer | undefined;
  /** Bytes for the parser that could not be given yet (node:http paused the socket). */
  #stash: Buffer | undefined;
  #closed = false;
  /** Inside feed(): a body letting go of its bytes is noticed by the loop, not by released(). */
  #feeding = false;
  readonly rate: BodyRate;

  constructor(socket: Socket, handle: Handle, rate: BodyRate) {
    this.socket = socket;
    this.handle = handle;
    this.rate = rate;
    const start = handle.readStart;
    this.#readStart = () => start.call(handle);
    // Nobody starts reading while bytes in this connection's buffer are still wanted: node:http
    // resumes the socket on its own occasions (a message complete, a drain). What waited is
    // picked up right after (released() reads again when nothing holds it).
    handle.readStart = () => {
      if (!this.held) return this.#readStart();
      handle.reading = false;
      queueMicrotask(() => this.released());
      return 0;
    };
  }

  get held(): boolean {
    return this.#stash !== undefined || this.body?.held === true || this.#finishing?.held === true;
  }

  /**
   * The buffer the next read goes into, asked right after each read. Only here does the
   * connection let go of its own buffer: until this returns, the handle still reads into it.
   */
  next(): Buffer {
    if (this.own && !this.held && !this.body) {
      if (pool.length < POOL_MAX) pool.push(this.own);
      this.own = undefined;
    }
    return this.own ?? SHARED;
  }

  /** One socket read, into `buf`; false stops reading (the bytes are held). */
  onRead(nread: number, buf: Buffer): boolean {
    this.feed(buf.subarray(0, nread));
    return !this.held;
  }

  feed(view: Buffer): void {
    const outer = this.#feeding;
    this.#feeding = true;
    try {
      this.#feed(view);
    } finally {
      this.#feeding = outer;
    }
  }

  #feed(view: Buffer): void {
    while (view.length > 0 && !this.#closed) {
      const body = this.body;
      if (body) {
        if (body.held) {
          // Only after a body ended inside this read: the rest waits for the parser.
          this.#keep(view);
          return;
        }
        const n = Math.min(body.left, view.length);
        const part = this.#stable(view.subarray(0, n));
        view = view.subarray(n);
        if (body.left === n) {
          this.body = undefined;
          this.#finishing = body;
        }
        body.offer(part);
        if (body.held) {
          if (view.length > 0) this.#keep(view);
          return;
        }
        continue;
      }
      if (this.#finishing?.held) {
        this.#keep(view);
        return;
      }
      this.#finishing = undefined;
      if ((this.socket as Socket & { _paused?: boolean })._paused) {
        // node:http stopped reading (answers are queued behind a slow reader): it resumes us.
        this.#keep(view);
        return;
      }
      this.headEnd = -1;
      this.socket.emit('data', view);
      const taken = this.taking;
      this.taking = undefined;
      if (!taken || this.headEnd < 0 || this.#closed) return;
      this.body = taken;
      view = view.subarray(this.headEnd);
    }
  }

  /** `view` in memory no other connection reads into. */
  #stable(view: Buffer): Buffer {
    if (view.buffer !== SHARED.buffer) return view;
    this.own ??= pool.pop() ?? Buffer.allocUnsafeSlow(READ_BYTES);
    // The connection's own buffer only ever holds the bytes of the read being handled.
    const at = view.byteOffset;
    this.own.set(view, at);
    return this.own.subarray(at, at + view.length);
  }

  #keep(view: Buffer): void {
    this.#stash = this.#stable(view);
  }

  /** A body let go of its bytes: carry on with what waited, then read again. */
  released(): void {
    if (this.#closed || this.#feeding) return;
    const stash = this.#stash;
    if (stash && !this.body?.held && !this.#finishing?.held) {
      this.#stash = undefined;
      this.feed(stash);
    }
    const paused = (this.socket as Socket & { _paused?: boolean })._paused;
    if (!this.held && !paused && this.handle.reading === false && !this.socket.destroyed) {
      this.handle.reading = true;
      this.#readStart();
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const gone = new Error('request closed before its body ended');
    this.body?.abort(gone);
    this.#finishing?.abort(gone);
    this.taking?.abort(gone);
    this.#stash = undefined;
    // A sink may still hold part of the buffer (a write in flight): then it is not reused.
    const inUse = this.body?.held === true || this.#finishing?.held === true;
    if (this.own && !inUse && pool.length < POOL_MAX) pool.push(this.own);
    this.own = undefined;
    this.body = undefined;
    this.#finishing = undefined;
  }
}

const connections = new WeakMap<Socket, Connection>();

/**
 * The parser's execute, for every parser the takeover touched (parsers are pooled and shared
 * with node:http's client): notes where the head of a taken request ended.
 */
function execute(this: Parser, d: Buffer): number | Error {
  const proto = Object.getPrototypeOf(this) as Parser;
  const r = proto.execute.call(this, d);
  const c = this.socket ? connections.get(this.socket) : undefined;
  if (c?.taking && typeof r === 'number') c.headEnd = r;
  return r;
}

/** Whether node:http may hand this request's body over: one plain Content-Length, large. */
function takeable(req: IncomingMessage, minBytes: number): boolean {
  if ((req as IncomingMessage & { upgrade?: boolean }).upgrade || req.httpVersionMajor !== 1) return false;
  if (req.method !== 'PUT' && req.method !== 'POST') return false;
  if (req.headers['transfer-encoding'] !== undefined) return false;
  let lengths = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2)
    if (req.rawHeaders[i]!.toLowerCase() === 'content-length') lengths++;
  const cl = req.headers['content-length'];
  return lengths === 1 && cl !== undefined && /^\d{1,15}$/.test(cl) && Number(cl) >= minBytes;
}

/**
 * Sets `server` up so that handlers may take large bodies (takeBody). Call before listening;
 * its 'connection' listeners go around node:http's own.
 */
export function enableBodyTakeover(server: Server, opts: TakeoverOptions): void {
  server.prependListener('connection', (socket: Socket) => {
    const handle = (socket as Socket & { _handle?: Handle })._handle;
    const kBuffer = slot(socket, 'kBuffer');
    const kBufferCb = slot(socket, 'kBufferCb');
    const kBufferGen = slot(socket, 'kBufferGen');
    if (!handle?.isStreamBase || handle._consumed || typeof handle.useUserBuffer !== 'function') return;
    if (!kBuffer || !kBufferCb || !kBufferGen) return;
    const c = new Connection(socket, handle, opts.rate);
    // node:http leaves a handle marked consumed to 'data' events.
    handle._consumed = true;
    const s = socket as unknown as Record<symbol, unknown>;
    s[kBuffer] = SHARED;
    s[kBufferCb] = (nread: number, buf: Buffer) => c.onRead(nread, buf);
    s[kBufferGen] = () => c.next();
    handle.useUserBuffer(SHARED);
    connections.set(socket, c);
    socket.once('close', () => c.close());
  });
  server.on('connection', (socket: Socket) => {
    const c = connections.get(socket);
    const parser = (socket as Socket & { parser?: Parser }).parser;
    if (!c) return;
    if (!parser || typeof parser.onIncoming !== 'function') {
      connections.delete(socket);
      return;
    }
    c.parser = parser;
    parser.execute = execute;
    const onIncoming = parser.onIncoming;
    parser.onIncoming = (req, keepAlive) => {
      const t = req as Takeable;
      if (takeable(req, opts.minBytes)) t[kTakeable] = c;
      const r = onIncoming(req, keepAlive);
      delete t[kTakeable];
      // The handler took the body: the parser treats the message as ending with its head.
      return r === 0 && c.taking ? 2 : r;
    };
    socket.once('close', () => {
      // The parser goes back to node:http's pool (shared with its client): as it was.
      delete (parser as Partial<Parser>).execute;
    });
  });
}

/**
 * The body of `req`, read from the socket (a SocketBody) — if the connection allows it and the
 * request was announced large with a plain Content-Length. Must be called synchronously from
 * the server's 'request' (or 'checkContinue') listener; undefined when node:http keeps it.
 */
export function takeBody(req: IncomingMessage, res: ServerResponse): SocketBody | undefined {
  const c = (req as Takeable)[kTakeable];
  if (!c || c.taking) return undefined;
  const body = new SocketBody({
    length: Number(req.headers['content-length']),
    socket: c.socket,
    res,
    expectContinue: /100-continue/i.test(String(req.headers.expect ?? '')),
    rate: c.rate,
    released: () => c.released(),
  });
  c.taking = body;
  return body;
}
