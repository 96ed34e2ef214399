/**
 * The lab's Athena engine is an optional dependency: without @duckdb/node-api, an Athena call is
 * refused with Athena's InvalidRequestException naming the package, and nothing else breaks.
 */
import { describe, expect, it, vi } from 'vitest';

vi.mock('@duckdb/node-api', () => {
  throw new Error("Cannot find package '@duckdb/node-api'");
});

describe('without @duckdb/node-api', () => {
  it('StartQueryExecution answers InvalidRequestException saying what to install', async () => {
    const { handleAthena } = await import('../../../src/lab/aws-api/athena.js');
    const { createMemoryBackend } = await import('../../helpers/memory-backend.js');
    const response = await handleAthena(createMemoryBackend(), {
      method: 'POST',
      rawPath: '/',
      query: new URLSearchParams(),
      headers: { 'x-amz-target': 'AmazonAthena.StartQueryExecution' },
      body: Buffer.from(
        JSON.stringify({ QueryString: 'SELECT 1', ResultConfiguration: { OutputLocation: 's3://r/' } }),
      ),
      hostname: 'localhost',
      requestId: 'r1',
    });
    expect(response.status).toBe(400);
    const body = JSON.parse(String(response.body));
    expect(body.__type).toBe('InvalidRequestException');
    expect(body.Message).toMatch(/optional dependency @duckdb\/node-api.*npm install @duckdb\/node-api/);
  });
});
