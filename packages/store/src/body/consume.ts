/**
 * Feeds every chunk of a readable to `onChunk`, pausing the source while the promise it returns
 * (the writer's backpressure) is pending. Plain 'data' events: no per-chunk promise as with
 * `for await`, which matters at 16k chunks per GiB.
 */
export function consume(
  src: NodeJS.ReadableStream & { readableEnded?: boolean },
  onChunk: (b: Buffer) => Promise<void> | undefined,
): Promise<void> {
  return new Promise((resolve, reject) => {
    // A source that failed before it was handed here (a POST form's file found malformed while
    // the policy was being checked) emits nothing more: its state is all there is to go on.
    const state = src as NodeJS.ReadableStream & { errored?: unknown; destroyed?: boolean };
    if (state.errored) return reject(state.errored);
    if (state.destroyed && !src.readableEnded)
      return reject(new Error('request closed before its body ended'));
    let done = false;
    let waiting = 0;
    let ended = false;
    const finish = (e?: unknown) => {
      if (done) return;
      done = true;
      src.off('data', onData);
      src.off('end', onEnd);
      src.off('error', finish);
      src.off('close', onClose);
      if (e !== undefined) {
        // Whoever takes over (a drain, the server's cleanup) finds the rest of the body unread.
        src.pause();
        reject(e);
      } else resolve();
    };
    const onData = (chunk: Buffer) => {
      let p: Promise<void> | undefined;
      try {
        p = onChunk(chunk);
      } catch (e) {
        finish(e);
        return;
      }
      if (!p) return;
      waiting++;
      src.pause();
      p.then(
        () => {
          waiting--;
          if (done) return;
          if (ended && waiting === 0) finish();
          else if (waiting === 0) src.resume();
        },
        (e) => finish(e),
      );
    };
    const onEnd = () => {
      ended = true;
      if (waiting === 0) finish();
    };
    const onClose = () => {
      if (!ended) finish(new Error('request closed before its body ended'));
    };
    src.on('data', onData);
    src.on('end', onEnd);
    src.on('error', finish);
    src.on('close', onClose);
  });
}
