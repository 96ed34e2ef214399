import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { albErrorPage } from '../../src/lab/alb/errors.js';
import { fixed, handler, scenarioWith, type TestLab, testLab } from './helpers.js';

const BAD_GATEWAY =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n';

describe('ALB error mapping with real handler modules', () => {
  let lab: TestLab;
  beforeAll(async () => {
    lab = await testLab(
      scenarioWith([
        handler('ok', 'ok.mjs'),
        handler('throws', 'throws.mjs'),
        handler('hangs', 'hangs.mjs', { timeout: 1 }),
        handler('garbage', 'garbage.mjs'),
        handler('huge', 'huge.mjs'),
        handler('exits', 'exits.mjs'),
        handler('oom', 'oom.mjs', { memoryMb: 128 }),
        handler('callback', 'callback.mjs'),
        handler('binary', 'binary.mjs'),
        fixed('zero', 10, { reservedConcurrency: 0 }),
      ]),
    );
  });
  afterAll(async () => {
    await lab?.close();
  });

  async function expectAlbError(path: string, status: number, reason: string) {
    const before = lab.snapshot().alb.byErrorReason[reason] ?? 0;
    const r = await lab.get(path);
    expect(r.status).toBe(status);
    expect(r.headers.server).toBe('awselb/2.0');
    expect(r.headers['content-type']).toBe('text/html');
    expect(r.text).toBe(albErrorPage(status));
    expect(lab.snapshot().alb.byErrorReason[reason]).toBe(before + 1);
    // The lab keeps serving after each failure.
    const ok = await lab.get('/ok');
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.text)).toEqual({ ok: true, path: '/ok' });
  }

  test('a valid response passes through with its status, headers and body', async () => {
    const r = await lab.get('/ok/x?y=1');
    expect(r.status).toBe(200);
    expect(r.headers['x-handler']).toBe('ok');
    expect(r.headers.server).toBeUndefined();
    expect(JSON.parse(r.text)).toEqual({ ok: true, path: '/ok/x' });
  });

  test('the 502 page is byte for byte the ALB one', () => {
    expect(albErrorPage(502)).toBe(BAD_GATEWAY);
  });

  test('a handler that throws -> 502 LambdaUnhandled', () =>
    expectAlbError('/throws', 502, 'LambdaUnhandled'));
  test('a handler that hangs past its timeout -> 502 LambdaUnhandled, worker killed', async () => {
    const t0 = Date.now();
    await expectAlbError('/hangs', 502, 'LambdaUnhandled');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(lab.snapshot().functions.find((f) => f.name === 'hangs')!.workers).toBe(0);
  });
  test('a handler that returns garbage -> 502 LambdaInvalidResponse', () =>
    expectAlbError('/garbage', 502, 'LambdaInvalidResponse'));
  test('a response over 1 MB -> 502 LambdaResponseTooLarge', () =>
    expectAlbError('/huge', 502, 'LambdaResponseTooLarge'));
  test('a handler that exits its worker -> 502 LambdaUnhandled, then a fresh worker', async () => {
    await expectAlbError('/exits', 502, 'LambdaUnhandled');
    await expectAlbError('/exits', 502, 'LambdaUnhandled');
    expect(lab.snapshot().functions.find((f) => f.name === 'exits')!.coldStarts).toBe(2);
  });
  test('a handler that allocates without bound -> 502 LambdaUnhandled (out of memory)', () =>
    expectAlbError('/oom', 502, 'LambdaUnhandled'));
  test('reserved concurrency 0 -> 502 LambdaThrottling', () =>
    expectAlbError('/zero', 502, 'LambdaThrottling'));
  test('a request body over 1 MB -> 413 LambdaRequestTooLarge', async () => {
    const r = await lab.request({ path: '/ok', method: 'POST', body: Buffer.alloc(1_048_577, 97) });
    expect(r.status).toBe(413);
    expect(r.headers.server).toBe('awselb/2.0');
    expect(r.text).toContain('413 Request Entity Too Large');
    expect(lab.snapshot().alb.byErrorReason.LambdaRequestTooLarge).toBe(1);
    const atLimit = await lab.request({ path: '/ok', method: 'POST', body: Buffer.alloc(1_048_576, 97) });
    expect(atLimit.status).toBe(200);
  });
  test('request headers that are not UTF-8 -> 400 LambdaBadRequest', async () => {
    const port = Number(new URL(lab.albUrl).port);
    const raw = await new Promise<string>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => {
        s.write(
          Buffer.concat([
            Buffer.from('GET /ok HTTP/1.1\r\nHost: x\r\nX-Bad: '),
            Buffer.from([0xc3, 0x28]),
            Buffer.from('\r\nConnection: close\r\n\r\n'),
          ]),
        );
      });
      let out = '';
      s.on('data', (d) => {
        out += d.toString('latin1');
      });
      s.on('end', () => resolve(out));
      s.on('error', reject);
    });
    expect(raw.startsWith('HTTP/1.1 400')).toBe(true);
    expect(raw).toContain('Server: awselb/2.0');
    expect(lab.snapshot().alb.byErrorReason.LambdaBadRequest).toBe(1);
  });
  test('callback-style handlers and base64 responses work', async () => {
    const c = await lab.get('/callback');
    expect(c.status).toBe(201);
    expect(c.text).toBe('callback');
    const b = await lab.get('/binary');
    expect([...b.body]).toEqual([0, 1, 254, 255]);
  });
});

describe('ALB with a missing function', () => {
  test('a target group whose function does not exist -> 502 LambdaResourceNotFound', async () => {
    const scenario = scenarioWith([fixed('a', 1)]);
    scenario.loadBalancer.targetGroups.push({ name: 'gone-tg', function: 'gone', multiValueHeaders: false });
    scenario.loadBalancer.rules.push({ priority: 99, path: '/gone', targetGroup: 'gone-tg' });
    const lab = await testLab(scenario);
    try {
      const r = await lab.get('/gone');
      expect(r.status).toBe(502);
      expect(r.text).toBe(BAD_GATEWAY);
      expect(lab.snapshot().alb.byErrorReason.LambdaResourceNotFound).toBe(1);
    } finally {
      await lab.close();
    }
  });
});
