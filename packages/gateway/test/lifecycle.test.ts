import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);

test('createGateway → listen → close settles in a process with nothing else to do, and leaves no handles', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chute-lifecycle-'));
  const app = new URL('../src/gateway.ts', import.meta.url).href;
  const parse = new URL('../src/config/parse.ts', import.meta.url).href;
  const dev = new URL('../src/config/dev.ts', import.meta.url).href;
  const code = `
    import { createGateway } from ${JSON.stringify(app)};
    import { parseConfig } from ${JSON.stringify(parse)};
    import { DEMO_ROUTES } from ${JSON.stringify(dev)};
    const config = parseConfig({
      listen: { port: 0 },
      storage: { endpoint: 'http://127.0.0.1:9', bucket: 'bucket1', accessKeyId: 'k', secretAccessKey: 's' },
      database: { url: ${JSON.stringify(`sqlite:${join(dir, 'chute.db')}`)} },
      auth: { jwt: { secret: 'lifecycle-secret-lifecycle-secret-00000' } },
      routes: DEMO_ROUTES,
    });
    const gw = await createGateway(config, { logger: (await import('pino')).pino({ level: 'silent' }) });
    await gw.listen();
    await gw.close();
    console.log('closed');
  `;
  try {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], {
      timeout: 20_000,
      cwd: new URL('..', import.meta.url).pathname,
    });
    assert.equal(stdout.trim(), 'closed');
    // The WAL and shared-memory files are gone: every connection (checkpointer included) closed.
    assert.deepEqual(readdirSync(dir), ['chute.db']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
