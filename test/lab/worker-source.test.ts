import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { WORKER_SOURCE } from '../../src/lab/lambda/worker-source.js';

/** The first message a handler worker sends for a module it is to load. */
function firstMessage(
  url: string,
  tsxApi: string | undefined,
): Promise<{ type: string; errorMessage?: string }> {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      url,
      exportName: 'handler',
      handlerName: 'typed.handler',
      timeScale: 1,
      tsxApi,
      context: {},
    },
  });
  return new Promise((resolve, reject) => {
    worker.once('message', (m) => {
      void worker.terminate();
      resolve(m);
    });
    worker.once('error', reject);
  });
}

describe('handler worker: tsx is an optional peer dependency', () => {
  const typed = pathToFileURL(fileURLToPath(new URL('../fixtures/handlers/typed.ts', import.meta.url))).href;

  it('a .ts handler without tsx fails its init with a message naming tsx', async () => {
    const m = await firstMessage(typed, undefined);
    expect(m.type).toBe('init-error');
    expect(m.errorMessage).toMatch(
      /TypeScript handler needs the optional peer dependency tsx \(npm install tsx\)/,
    );
    expect(m.errorMessage).not.toContain('\n');
  });

  it('a .ts handler with tsx loads', async () => {
    const m = await firstMessage(typed, import.meta.resolve('tsx/esm/api'));
    expect(m.type).toBe('ready');
  });
});
