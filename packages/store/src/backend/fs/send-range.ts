import { read as fsRead } from 'node:fs';

const SEND_BUFFERS = 4;
/**
 * 256 KiB each: a GET of 1 GiB from the page cache ran as fast as with 1 MiB buffers
 * (1.1–1.3 GB/s either way) and the process's peak RSS was ~3 MiB lower.
 */
const SEND_BUFFER_BYTES = 256 * 1024;

/**
 * fd → writable, bytes [start, end]: pread into one of SEND_BUFFERS reused buffers, write
 * it, and reuse the buffer once the write callback says the socket is done with it. Reads run
 * ahead of the socket by at most the pool; 'drain' is awaited when the writable asks. Nothing is
 * allocated per chunk, so memory stays flat and no garbage piles up for the GC.
 */
export function sendRange(
  fd: number,
  dest: NodeJS.WritableStream & { destroyed?: boolean },
  start: number,
  end: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const free: Buffer[] = Array.from({ length: SEND_BUFFERS }, () =>
      Buffer.allocUnsafeSlow(SEND_BUFFER_BYTES),
    );
    let pos = start;
    let reading = false;
    let waitingDrain = false;
    let outstanding = 0;
    let failed = false;
    const fail = (e: unknown) => {
      if (failed) return;
      failed = true;
      dest.off('close', onClose);
      reject(e);
    };
    const onClose = () => {
      if (pos <= end || outstanding > 0) fail(new Error('destination closed before the body was sent'));
    };
    dest.on('close', onClose);
    const pump = () => {
      if (failed || reading || waitingDrain) return;
      if (pos > end) {
        if (outstanding === 0) {
          dest.off('close', onClose);
          resolve();
        }
        return;
      }
      const buf = free.pop();
      if (!buf) return;
      reading = true;
      const len = Math.min(buf.length, end - pos + 1);
      fsRead(fd, buf, 0, len, pos, (err, n) => {
        reading = false;
        if (err || n === 0) {
          fail(err ?? new Error('object shorter than its record'));
          return;
        }
        pos += n;
        outstanding++;
        const more = dest.write(buf.subarray(0, n), (e?: Error | null) => {
          outstanding--;
          free.push(buf);
          if (e) fail(e);
          else pump();
        });
        if (!more) {
          waitingDrain = true;
          dest.once('drain', () => {
            waitingDrain = false;
            pump();
          });
        }
        pump();
      });
    };
    pump();
  });
}
