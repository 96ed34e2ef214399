import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CloudFrontEdge, type EdgeResponse, type ViewerRequest } from '../../../src/lab/cloudfront/edge.js';
import { HttpOrigin } from '../../../src/lab/cloudfront/origin.js';
import { parseAlbLine } from '../../../src/logs/parse-line.js';
import type { AlbLogRecord } from '../../../src/logs/record.js';
import { fixed, handler, scenarioWith, sleep, type TestLab, testLab } from '../helpers.js';

/**
 * The lab's edge calls its ALB in process (InProcessOrigin). The same edge core with the HTTP
 * origin over loopback is the reference: both must give the ALB the same request (its access log
 * and the function's event) and the viewer the same answer. Lab time runs 10x.
 */
function scenario() {
  return scenarioWith([handler('echo', 'echo.mjs'), handler('multi', 'echo.mjs'), fixed('slow', 5000)], {
    timeScale: 10,
    multiValueHeaders: ['multi'],
    cloudfront: {
      origin: { responseTimeout: 2, connectionAttempts: 1, keepaliveTimeout: 5 },
      defaultCacheBehavior: { cachePolicy: { minTTL: 0, defaultTTL: 0 } },
    },
  });
}

const viewer = (over: Partial<ViewerRequest> = {}): ViewerRequest => ({
  method: 'GET',
  url: '/echo/a?b=1',
  headers: [
    ['Host', 'shop.example.com'],
    ['User-Agent', 'probe/1.0'],
    ['Accept', 'application/json'],
    ['Cookie', 'session=1'],
    ['X-Forwarded-For', '203.0.113.9'],
    ['Via', '1.1 proxy.example'],
    ['X-Custom', 'kept'],
  ].flat(),
  body: Buffer.alloc(0),
  clientIp: '198.51.100.7',
  ...over,
});

/** What differs per request by design: ids, dates, times. */
const PER_REQUEST_HEADERS = new Set(['date', 'x-amz-cf-id', 'x-amzn-trace-id']);
const stable = (r: EdgeResponse) => ({
  status: r.status,
  headers: r.headers.filter(([n]) => !PER_REQUEST_HEADERS.has(n.toLowerCase())).map(([n, v]) => `${n}: ${v}`),
  resultType: r.resultType,
  detailedResultType: r.detailedResultType,
  originStatus: r.originStatus,
});
/** The function's event as the echo handler returns it, without what differs per request. */
const eventOf = (r: EdgeResponse) => {
  const event = JSON.parse(r.body.toString('utf8'));
  for (const h of PER_REQUEST_HEADERS) {
    delete event.headers?.[h];
    delete event.multiValueHeaders?.[h];
  }
  return event;
};

describe('the edge and its in-process ALB', () => {
  let lab: TestLab;
  let httpEdge: CloudFrontEdge;
  let httpOrigin: HttpOrigin;
  beforeAll(async () => {
    lab = await testLab(scenario());
    const cf = lab.cloudfront!;
    httpOrigin = new HttpOrigin(lab.albUrl, {
      keepaliveMs: cf.spec.origin.keepaliveTimeout,
      connectionTimeoutMs: cf.spec.origin.connectionTimeout,
      timeScale: 10,
    });
    httpEdge = new CloudFrontEdge({
      spec: cf.spec,
      ids: cf.ids,
      clock: lab.clock,
      origin: httpOrigin,
      originHost: new URL(lab.albUrl).host,
    });
  });
  afterAll(async () => {
    await httpOrigin?.close();
    await lab?.close();
  });

  /** Access-log entries of the ALB whose request line contains `marker`. */
  const albEntries = async (marker: string): Promise<AlbLogRecord[]> => {
    await lab.flush();
    return lab.objects
      .list('lab-alb-access-logs', '')
      .flatMap((o) =>
        gunzipSync(lab.objects.get('lab-alb-access-logs', o.key)!.body).toString().trim().split('\n'),
      )
      .map((l) => parseAlbLine(l))
      .filter((e) => e.request?.includes(marker));
  };

  test('the same requests reach the function and the access log; the same answers reach the viewer', async () => {
    const requests = [
      viewer({ url: '/echo/get?via=X' }),
      viewer({ method: 'HEAD', url: '/echo/head?via=X' }),
      viewer({ method: 'POST', url: '/echo/post?via=X', body: Buffer.from('{"order":1}') }),
      viewer({ method: 'DELETE', url: '/echo/delete?via=X' }),
      viewer({ url: '/multi/get?via=X' }),
    ];
    for (const r of requests) {
      const viaHttp = await httpEdge.handle({ ...r, url: r.url.replace('via=X', 'via=h') });
      const inProcess = await lab.cloudfront!.edge.handle({ ...r, url: r.url.replace('via=X', 'via=i') });
      expect(stable(inProcess), `${r.method} ${r.url}`).toEqual(stable(viaHttp));
      if (r.method === 'HEAD') expect(inProcess.body.length).toBe(0);
      else {
        const event = eventOf(inProcess);
        expect(event.queryStringParameters ?? event.multiValueQueryStringParameters).toBeDefined();
        delete event.queryStringParameters;
        delete event.multiValueQueryStringParameters;
        const reference = eventOf(viaHttp);
        delete reference.queryStringParameters;
        delete reference.multiValueQueryStringParameters;
        expect(event).toEqual(reference);
      }
    }
    const { headers } = eventOf(await lab.cloudfront!.edge.handle(viewer()));
    expect(headers).toMatchObject({
      'user-agent': 'Amazon CloudFront',
      via: `1.1 proxy.example, 1.1 ${lab.cloudfront!.ids.viaHost} (CloudFront)`,
      // The edge appends the viewer; the ALB appends the edge.
      'x-forwarded-for': '203.0.113.9,198.51.100.7, 127.0.0.1',
      'x-custom': 'kept',
    });
    expect(headers.cookie).toBeUndefined();

    const http = await albEntries('via=h');
    const inProcess = await albEntries('via=i');
    expect(inProcess).toHaveLength(requests.length);
    const same = (e: AlbLogRecord) => ({
      request: e.request?.replace('via=i', 'via=h'),
      client: e.client,
      elbStatusCode: e.elbStatusCode,
      targetStatusCode: e.targetStatusCode,
      receivedBytes: e.receivedBytes,
      sentBytes: e.sentBytes,
      userAgent: e.userAgent,
      targetGroupArn: e.targetGroupArn,
      matchedRulePriority: e.matchedRulePriority,
    });
    expect(inProcess.map(same)).toEqual(http.map(same));
    expect(inProcess.every((e) => e.client === '127.0.0.1' && e.userAgent === 'Amazon CloudFront')).toBe(
      true,
    );
  });

  test('a connection is reused while idle for less than the keep-alive timeout, then replaced', async () => {
    await lab.cloudfront!.edge.handle(viewer({ url: '/echo/keep?n=1' }));
    await lab.cloudfront!.edge.handle(viewer({ url: '/echo/keep?n=2' }));
    // 5 s of lab time is 0.5 s of wall time.
    await sleep(700);
    await lab.cloudfront!.edge.handle(viewer({ url: '/echo/keep?n=3' }));
    const [a, b, c] = await albEntries('/echo/keep');
    expect(a!.connTraceId).toMatch(/^TID_[0-9a-f]{32}$/);
    expect(b!.connTraceId).toBe(a!.connTraceId);
    expect(b!.clientPort).toBe(a!.clientPort);
    expect(c!.connTraceId).not.toBe(a!.connTraceId);
  });

  test('an origin slower than the response timeout: 504 to the viewer, the ALB logs the edge gone (460)', async () => {
    const r = await lab.cloudfront!.edge.handle(viewer({ url: '/slow/late' }));
    expect(r.status).toBe(504);
    expect(r.detailedResultType).toBe('OriginCommError');
    // The function finishes 0.5 s of wall time after it started; the ALB logs when the edge goes.
    const [entry] = await albEntries('/slow/late');
    expect(entry).toMatchObject({ elbStatusCode: 460, targetStatusCode: null });
  });

  test('after the ALB closed: 502 OriginConnectError, as over HTTP', async () => {
    await lab.close();
    const inProcess = await lab.cloudfront!.edge.handle(viewer({ url: '/echo/closed' }));
    const viaHttp = await httpEdge.handle(viewer({ url: '/echo/closed' }));
    for (const r of [inProcess, viaHttp]) {
      expect(r.status).toBe(502);
      expect(r.detailedResultType).toBe('OriginConnectError');
    }
  });
});
