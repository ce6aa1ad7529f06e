import type { IncomingMessage, Server, ServerOptions } from 'node:http';
import { onEveryRequest } from './requests.ts';

/**
 * Limits that free a socket held by a client too slow to be honest (slowloris: headers or a body
 * trickled a byte at a time, or a connection opened and left idle), so a few hundred such
 * clients cannot take every file descriptor. Node's own defaults leave that open: no socket idle
 * timeout (`server.timeout` 0), 60 s for headers checked only every 30 s, and a server that turns
 * `requestTimeout` off for large uploads (the store) lets a body trickle forever.
 */
export interface SlowClientLimits {
  /** The whole header block must arrive within this (Node: `headersTimeout`), ms. */
  headersMs: number;
  /**
   * The whole request, body included, must arrive within this (Node: `requestTimeout`), ms;
   * 0 for none — a store taking multi-gigabyte bodies relies on the minimum rate instead.
   */
  requestMs: number;
  /** A socket with no bytes in either direction for this long is closed, ms. */
  idleMs: number;
  /**
   * While the server is reading a body, at least this many bytes per second must arrive,
   * averaged over each `rateWindowMs` (or what is left of the body, if less); 0 for no minimum.
   */
  minBytesPerSec: number;
  rateWindowMs: number;
  /** How often Node checks the header and request deadlines, ms (Node: 30 s). */
  checkEveryMs: number;
}

/**
 * The defaults: 20 s for headers (a browser sends them in one packet), and 500 bytes/s over
 * 20 s windows for bodies (Apache's mod_reqtimeout: `body=20,MinRate=500`) — a 4 kbit/s link
 * passes, a byte every few seconds does not. The idle timeout also runs while a handler works
 * without writing, so it is two minutes: above the gateway's longest wait (a complete joining
 * another instance's, ≤ 60 s) and the store's longest silent step (concatenating the parts of a
 * multipart upload, ~1 GB/s).
 */
export const SLOW_CLIENT_DEFAULTS: SlowClientLimits = {
  headersMs: 20_000,
  requestMs: 0,
  idleMs: 120_000,
  minBytesPerSec: 500,
  rateWindowMs: 20_000,
  checkEveryMs: 1000,
};

/**
 * The limits Node enforces itself, for `http.createServer(options)`: the checking interval can
 * only be given there. Node refuses a headersTimeout above a non-zero requestTimeout.
 */
export function slowClientOptions(limits: Partial<SlowClientLimits> = {}): ServerOptions {
  const l = { ...SLOW_CLIENT_DEFAULTS, ...limits };
  return {
    headersTimeout: l.requestMs > 0 ? Math.min(l.headersMs, l.requestMs) : l.headersMs,
    requestTimeout: l.requestMs,
    connectionsCheckingInterval: l.checkEveryMs,
  };
}

/**
 * The rest, on a server built with `slowClientOptions`: the idle timeout and the minimum body
 * rate. (On any other server it also sets the header and request deadlines, checked at Node's
 * own interval.)
 */
export function guardSlowClients(server: Server, limits: Partial<SlowClientLimits> = {}): void {
  const l = { ...SLOW_CLIENT_DEFAULTS, ...limits };
  const o = slowClientOptions(l);
  server.headersTimeout = o.headersTimeout!;
  server.requestTimeout = o.requestTimeout!;
  // With no 'timeout' listener on the server, Node destroys a socket idle for this long.
  server.timeout = l.idleMs;
  if (l.minBytesPerSec > 0) {
    onEveryRequest(server, (req: IncomingMessage) => watchBodyRate(req, l));
  }
}

/**
 * Cuts a request whose body arrives slower than the minimum rate. Only windows in which the
 * server wanted bytes all along count: a window in which the handler had not started reading
 * (authenticating, or holding back `100 Continue`), or paused or resumed the body (backpressure:
 * the disk is behind), is not judged, so a slow server never blames its client. A handler
 * reading through 'readable' (async iteration) is never in flowing mode and is not judged.
 */
function watchBodyRate(req: IncomingMessage, l: SlowClientLimits): void {
  const socket = req.socket;
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  // A request with no body (GET, Content-Length: 0) has nothing to watch.
  const chunked = req.headers['transfer-encoding'] !== undefined;
  if (req.complete || declared === 0 || (Number.isNaN(declared) && !chunked)) return;
  const perWindow = (l.minBytesPerSec * l.rateWindowMs) / 1000;
  let received = 0;
  let mark = socket.bytesRead;
  let held = false;
  const onFlowChange = () => {
    held = true;
  };
  const timer = setInterval(() => {
    if (req.complete || socket.destroyed) return stop();
    const now = socket.bytesRead;
    const judged = !held && req.readableFlowing === true;
    held = false;
    if (judged) {
      const left = Number.isNaN(declared) ? perWindow : declared - received;
      if (now - mark < Math.min(perWindow, Math.max(1, left))) {
        stop();
        socket.destroy();
        return;
      }
    }
    received += now - mark;
    mark = now;
  }, l.rateWindowMs);
  timer.unref();
  req.on('pause', onFlowChange);
  req.on('resume', onFlowChange);
  const stop = () => {
    clearInterval(timer);
    req.off('pause', onFlowChange);
    req.off('resume', onFlowChange);
  };
  req.once('end', stop);
  req.once('close', stop);
}
