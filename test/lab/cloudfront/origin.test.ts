import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HttpOrigin } from '../../../src/lab/cloudfront/origin.js';

/** An origin that answers /fast at once, /slow after 300 ms, and breaks /broken mid-body. */
let server: Server;
let url: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/slow') setTimeout(() => res.end('late'), 300);
    else if (req.url === '/broken') {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      setTimeout(() => res.destroy(), 20);
    } else {
      res.writeHead(502, { server: 'awselb/2.0', 'set-cookie': ['a=1', 'b=2'] });
      res.end(`seen ${req.headers['x-amz-cf-id']}`);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const req = (path: string) => ({
  method: 'GET',
  url: path,
  headers: ['X-Amz-Cf-Id', 'abc'],
  body: undefined,
});

describe('HttpOrigin', () => {
  test('a response comes back whole, repeated headers kept', async () => {
    const origin = new HttpOrigin(url, { keepaliveMs: 5000, connectionTimeoutMs: 10_000, timeScale: 1 });
    const out = await origin.send(req('/fast'), 5000);
    expect(out.kind).toBe('response');
    if (out.kind !== 'response') return;
    expect(out.status).toBe(502);
    expect(out.body.toString()).toBe('seen abc');
    expect(out.headers.filter(([n]) => n === 'set-cookie').map(([, v]) => v)).toEqual(['a=1', 'b=2']);
    await origin.close();
  });

  test('the response timeout is lab time divided by the time scale', async () => {
    const scaled = new HttpOrigin(url, { keepaliveMs: 5000, connectionTimeoutMs: 10_000, timeScale: 10 });
    // 1 s of lab time = 100 ms of wall time < 300 ms.
    expect((await scaled.send(req('/slow'), 1000)).kind).toBe('timeout');
    // 5 s of lab time = 500 ms > 300 ms.
    expect((await scaled.send(req('/slow'), 5000)).kind).toBe('response');
    await scaled.close();
  });

  test('nothing listening is a connection error; a response cut short is a read error', async () => {
    const closed = new HttpOrigin('http://127.0.0.1:1', {
      keepaliveMs: 5000,
      connectionTimeoutMs: 10_000,
      timeScale: 1,
    });
    expect((await closed.send(req('/fast'), 5000)).kind).toBe('connect-error');
    await closed.close();
    const origin = new HttpOrigin(url, { keepaliveMs: 5000, connectionTimeoutMs: 10_000, timeScale: 1 });
    expect((await origin.send(req('/broken'), 5000)).kind).toBe('read-error');
    await origin.close();
  });
});
