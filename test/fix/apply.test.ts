/** fix --apply against the lab's Lambda API: applied live, refused as AWS refuses, rolled back. */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyChanges, rollbackChanges } from '../../src/fix/apply.js';
import { startAwsEndpoint } from '../../src/lab/aws-api/server.js';
import { createMemoryBackend, type MemoryBackend, REGION } from '../helpers/memory-backend.js';

let backend: MemoryBackend;
let endpoint: { url: string; close(): Promise<void> };
beforeAll(async () => {
  backend = createMemoryBackend(); // account limit 50, unreserved minimum 10
  backend.addFunction('reports-worker');
  backend.addFunction('api', 5);
  endpoint = await startAwsEndpoint(backend, { port: 0 });
});
afterAll(async () => endpoint?.close());

describe('applyChanges / rollbackChanges', () => {
  it('is a dry run unless asked, reading the live values', async () => {
    const r = await applyChanges([{ function: 'reports-worker', before: null, after: 12 }], {
      endpointUrl: endpoint.url,
      region: REGION,
      apply: false,
    });
    expect(r).toEqual({ dryRun: true, changes: [{ function: 'reports-worker', before: null, after: 12 }] });
    expect(backend.pool.reservedOf('reports-worker')).toBeUndefined();
  });

  it('applies, records the previous values, and rolls back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ts-fix-'));
    const rollbackPath = join(dir, 'rollback.json');
    const r = await applyChanges(
      [
        { function: 'reports-worker', before: null, after: 12 },
        { function: 'api', before: 5, after: 8 },
      ],
      { endpointUrl: endpoint.url, region: REGION, apply: true, rollbackPath },
    );
    expect(r.dryRun).toBe(false);
    expect(backend.pool.reservedOf('reports-worker')).toBe(12);
    expect(backend.pool.reservedOf('api')).toBe(8);
    const file = JSON.parse(await readFile(rollbackPath, 'utf8'));
    expect(file.functions).toEqual([
      { name: 'reports-worker', previous: null, applied: 12 },
      { name: 'api', previous: 5, applied: 8 },
    ]);
    const restored = await rollbackChanges(rollbackPath, { endpointUrl: endpoint.url, region: REGION });
    expect(restored.map((c) => [c.function, c.after])).toEqual([
      ['reports-worker', null],
      ['api', 5],
    ]);
    expect(backend.pool.reservedOf('reports-worker')).toBeUndefined();
    expect(backend.pool.reservedOf('api')).toBe(5);
  });

  it('refuses what AWS refuses, and undoes what that run already changed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ts-fix-'));
    await expect(
      applyChanges(
        [
          { function: 'api', before: 5, after: 6 },
          // 6 + 40 would leave 4 unreserved, below the minimum of 10.
          { function: 'reports-worker', before: null, after: 40 },
        ],
        { endpointUrl: endpoint.url, region: REGION, apply: true, rollbackPath: join(dir, 'r.json') },
      ),
    ).rejects.toMatchObject({
      code: 'TS_FIX_REFUSED',
      message: expect.stringMatching(/below its minimum value of \[10\]/),
    });
    expect(backend.pool.reservedOf('api')).toBe(5);
    expect(backend.pool.reservedOf('reports-worker')).toBeUndefined();
  });
});
