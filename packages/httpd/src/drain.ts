import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { onEveryRequest } from './requests.ts';

/**
 * Closing a node:http server waits for every connection. `closeIdleConnections()` ends the
 * keep-alive ones between requests, but not a socket that connected and has not sent a request
 * yet — which browsers open ahead of need (Chromium's preconnect): shutdown then hangs until
 * node's headersTimeout notices it (~100 s seen). This tracks requests per socket so that, when
 * closing, every socket without a request in flight is destroyed at once and every other one as
 * soon as its response is done. Requests in flight still finish.
 */
export function drainOnClose(server: Server): { close(): Promise<void> } {
  const inFlight = new Map<Socket, number>();
  let closing = false;
  server.on('connection', (socket: Socket) => {
    inFlight.set(socket, 0);
    socket.once('close', () => inFlight.delete(socket));
  });
  // Requests carrying Expect come as 'checkContinue' on a server that handles it: in flight too.
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const left = (inFlight.get(socket) ?? 1) - 1;
      if (!inFlight.has(socket)) return;
      inFlight.set(socket, left);
      if (closing && left === 0) socket.destroy();
    });
  };
  onEveryRequest(server, onRequest);
  return {
    close() {
      closing = true;
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const [socket, n] of inFlight) if (n === 0) socket.destroy();
      });
    },
  };
}
