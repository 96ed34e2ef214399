import {
  CloudWatchClient,
  GetMetricDataCommand,
  ListMetricsCommand,
  type MetricDataQuery,
  paginateGetMetricData,
  paginateListMetrics,
} from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseQueryParams } from '../../../src/lab/aws-api/query.js';
import { type AwsEndpoint, startAwsEndpoint } from '../../../src/lab/aws-api/server.js';
import { caught, createMemoryBackend, type MemoryBackend, REGION } from '../../helpers/memory-backend.js';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const THROTTLES = {
  namespace: 'AWS/Lambda',
  metricName: 'Throttles',
  dimensions: [{ name: 'FunctionName', value: 'api' }],
};
const INVOCATIONS = {
  namespace: 'AWS/Lambda',
  metricName: 'Invocations',
  dimensions: [{ name: 'FunctionName', value: 'api' }],
};
const ELB_5XX = {
  namespace: 'AWS/ApplicationELB',
  metricName: 'HTTPCode_ELB_502_Count',
  dimensions: [{ name: 'LoadBalancer', value: 'app/lab-alb/abc' }],
};

let backend: MemoryBackend;
let endpoint: AwsEndpoint;
let cw: CloudWatchClient;

beforeAll(async () => {
  backend = createMemoryBackend();
  for (let m = 0; m < 10; m++) {
    backend.addDatapoint(THROTTLES, T0 + m * 60_000, m);
    backend.addDatapoint(THROTTLES, T0 + m * 60_000 + 1_000, 1);
    backend.addDatapoint(INVOCATIONS, T0 + m * 60_000, 100);
  }
  backend.addDatapoint(ELB_5XX, T0, 3);
  for (let i = 0; i < 520; i++) {
    backend.addDatapoint(
      { namespace: 'Lab/Many', metricName: 'M', dimensions: [{ name: 'Index', value: String(i) }] },
      T0,
      i,
    );
  }
  endpoint = await startAwsEndpoint(backend, { port: 0 });
  cw = new CloudWatchClient({
    endpoint: endpoint.url,
    region: REGION,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  cw.destroy();
  await endpoint.close();
});

function statQuery(id: string, metric: typeof THROTTLES, stat: string, period = 60): MetricDataQuery {
  return {
    Id: id,
    MetricStat: {
      Metric: {
        Namespace: metric.namespace,
        MetricName: metric.metricName,
        Dimensions: metric.dimensions.map((d) => ({ Name: d.name, Value: d.value })),
      },
      Period: period,
      Stat: stat,
    },
    ReturnData: true,
  };
}

describe('CloudWatch API (JSON 1.0, as the SDK sends it)', () => {
  it('gets metric data newest first by default', async () => {
    const out = await cw.send(
      new GetMetricDataCommand({
        MetricDataQueries: [
          statQuery('throttles', THROTTLES, 'Sum'),
          { ...statQuery('inv', INVOCATIONS, 'Average'), Label: 'Invocations avg' },
        ],
        StartTime: new Date(T0),
        EndTime: new Date(T0 + 5 * 60_000),
      }),
    );
    const [t, inv] = out.MetricDataResults!;
    expect(t!.Id).toBe('throttles');
    expect(t!.Label).toBe('Throttles');
    expect(t!.StatusCode).toBe('Complete');
    expect(t!.Values).toEqual([5, 4, 3, 2, 1]);
    expect(t!.Timestamps).toEqual([4, 3, 2, 1, 0].map((m) => new Date(T0 + m * 60_000)));
    expect(inv!.Label).toBe('Invocations avg');
    expect(inv!.Values).toEqual([100, 100, 100, 100, 100]);
    expect(out.NextToken).toBeUndefined();
  });

  it('scans ascending when asked and skips ReturnData=false', async () => {
    const out = await cw.send(
      new GetMetricDataCommand({
        MetricDataQueries: [
          statQuery('max', THROTTLES, 'Maximum', 120),
          { ...statQuery('hidden', INVOCATIONS, 'Sum'), ReturnData: false },
        ],
        StartTime: new Date(T0),
        EndTime: new Date(T0 + 6 * 60_000),
        ScanBy: 'TimestampAscending',
      }),
    );
    expect(out.MetricDataResults).toHaveLength(1);
    expect(out.MetricDataResults![0]!.Values).toEqual([1, 3, 5]);
    expect(out.MetricDataResults![0]!.Timestamps![0]).toEqual(new Date(T0));
  });

  it('pages with MaxDatapoints and NextToken', async () => {
    const input = {
      MetricDataQueries: [statQuery('a', THROTTLES, 'Sum'), statQuery('b', INVOCATIONS, 'SampleCount')],
      StartTime: new Date(T0),
      EndTime: new Date(T0 + 10 * 60_000),
      MaxDatapoints: 7,
    };
    const first = await cw.send(new GetMetricDataCommand(input));
    expect(first.NextToken).toBeTruthy();
    expect(first.MetricDataResults!.map((r) => [r.Id, r.Values!.length, r.StatusCode])).toEqual([
      ['a', 7, 'PartialData'],
      ['b', 0, 'PartialData'],
    ]);
    const byId = new Map<string, number[]>();
    for await (const page of paginateGetMetricData({ client: cw }, input)) {
      for (const r of page.MetricDataResults ?? [])
        byId.set(r.Id!, [...(byId.get(r.Id!) ?? []), ...r.Values!]);
    }
    expect(byId.get('a')).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(byId.get('b')).toEqual(Array(10).fill(1));
    const err = await caught(cw.send(new GetMetricDataCommand({ ...input, NextToken: 'bogus' })));
    expect(err.name).toBe('InvalidNextToken');
  });

  it('refuses more than 500 queries with ValidationError', async () => {
    const queries = Array.from({ length: 501 }, (_, i) => statQuery(`q${i}`, THROTTLES, 'Sum'));
    const err = await caught(
      cw.send(
        new GetMetricDataCommand({
          MetricDataQueries: queries,
          StartTime: new Date(T0),
          EndTime: new Date(T0 + 60_000),
        }),
      ),
    );
    expect(err.name).toBe('ValidationException');
    expect(err.Code).toBe('ValidationError');
    expect(err.message).toContain('500');
    const ok = await cw.send(
      new GetMetricDataCommand({
        MetricDataQueries: queries.slice(0, 500),
        StartTime: new Date(T0),
        EndTime: new Date(T0 + 60_000),
      }),
    );
    expect(ok.MetricDataResults).toHaveLength(500);
  });

  it('says metric math is not supported by the lab', async () => {
    const err = await caught(
      cw.send(
        new GetMetricDataCommand({
          MetricDataQueries: [statQuery('a', THROTTLES, 'Sum'), { Id: 'e1', Expression: 'a * 2' }],
          StartTime: new Date(T0),
          EndTime: new Date(T0 + 60_000),
        }),
      ),
    );
    expect(err.name).toBe('ValidationException');
    expect(err.message).toContain('not supported by the lab');
  });

  it('validates periods, statistics, ids and the time range', async () => {
    const range = { StartTime: new Date(T0), EndTime: new Date(T0 + 60_000) };
    const period = await caught(
      cw.send(
        new GetMetricDataCommand({ MetricDataQueries: [statQuery('a', THROTTLES, 'Sum', 61)], ...range }),
      ),
    );
    expect(period.name).toBe('InvalidParameterValueException');
    const stat = await caught(
      cw.send(new GetMetricDataCommand({ MetricDataQueries: [statQuery('a', THROTTLES, 'tm99')], ...range })),
    );
    expect(stat.name).toBe('InvalidParameterValueException');
    const dup = await caught(
      cw.send(
        new GetMetricDataCommand({
          MetricDataQueries: [statQuery('a', THROTTLES, 'Sum'), statQuery('a', THROTTLES, 'Sum')],
          ...range,
        }),
      ),
    );
    expect(dup.name).toBe('ValidationException');
    const id = await caught(
      cw.send(
        new GetMetricDataCommand({ MetricDataQueries: [statQuery('A-1', THROTTLES, 'Sum')], ...range }),
      ),
    );
    expect(id.name).toBe('ValidationException');
    const times = await caught(
      cw.send(
        new GetMetricDataCommand({
          MetricDataQueries: [statQuery('a', THROTTLES, 'Sum')],
          StartTime: range.EndTime,
          EndTime: range.StartTime,
        }),
      ),
    );
    expect(times.name).toBe('ValidationException');
  });

  it('computes percentiles', async () => {
    const out = await cw.send(
      new GetMetricDataCommand({
        MetricDataQueries: [statQuery('p', THROTTLES, 'p99', 600)],
        StartTime: new Date(T0),
        EndTime: new Date(T0 + 10 * 60_000),
      }),
    );
    expect(out.MetricDataResults![0]!.Values).toEqual([9]);
  });

  it('lists metrics with filters', async () => {
    const lambda = await cw.send(new ListMetricsCommand({ Namespace: 'AWS/Lambda' }));
    expect(lambda.Metrics?.map((m) => m.MetricName).sort()).toEqual(['Invocations', 'Throttles']);
    const byName = await cw.send(new ListMetricsCommand({ MetricName: 'HTTPCode_ELB_502_Count' }));
    expect(byName.Metrics).toEqual([
      {
        Namespace: 'AWS/ApplicationELB',
        MetricName: 'HTTPCode_ELB_502_Count',
        Dimensions: [{ Name: 'LoadBalancer', Value: 'app/lab-alb/abc' }],
      },
    ]);
    const byDim = await cw.send(
      new ListMetricsCommand({ Dimensions: [{ Name: 'FunctionName', Value: 'api' }] }),
    );
    expect(byDim.Metrics).toHaveLength(2);
    const byDimName = await cw.send(new ListMetricsCommand({ Dimensions: [{ Name: 'LoadBalancer' }] }));
    expect(byDimName.Metrics).toHaveLength(1);
  });

  it('pages ListMetrics 500 at a time', async () => {
    const first = await cw.send(new ListMetricsCommand({ Namespace: 'Lab/Many' }));
    expect(first.Metrics).toHaveLength(500);
    expect(first.NextToken).toBeTruthy();
    let total = 0;
    for await (const page of paginateListMetrics({ client: cw }, { Namespace: 'Lab/Many' }))
      total += page.Metrics!.length;
    expect(total).toBe(520);
  });

  it('names an unknown operation', async () => {
    const res = await fetch(endpoint.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'GraniteServiceVersion20100801.DescribeAlarms',
      },
      body: '{}',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-query-error')).toBe('InvalidAction;Sender');
    const body = (await res.json()) as { message: string };
    expect(body.message).toContain('DescribeAlarms');
  });
});

describe('CloudWatch API (AWS Query, as the CLI sends it)', () => {
  async function query(params: Record<string, string>): Promise<{ status: number; text: string }> {
    const res = await fetch(endpoint.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: new URLSearchParams({ Version: '2010-08-01', ...params }).toString(),
    });
    return { status: res.status, text: await res.text() };
  }

  it('parses member lists', () => {
    const p = parseQueryParams(
      new URLSearchParams('A.member.2.B=y&A.member.1.B=x&A.member.1.C.member.1.N=n&E=&S=1'),
    );
    expect(p).toEqual({ A: [{ B: 'x', C: [{ N: 'n' }] }, { B: 'y' }], E: '', S: '1' });
  });

  it('gets metric data as XML', async () => {
    const { status, text } = await query({
      Action: 'GetMetricData',
      'MetricDataQueries.member.1.Id': 'm1',
      'MetricDataQueries.member.1.MetricStat.Metric.Namespace': 'AWS/Lambda',
      'MetricDataQueries.member.1.MetricStat.Metric.MetricName': 'Throttles',
      'MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name': 'FunctionName',
      'MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Value': 'api',
      'MetricDataQueries.member.1.MetricStat.Period': '60',
      'MetricDataQueries.member.1.MetricStat.Stat': 'Sum',
      StartTime: new Date(T0).toISOString(),
      EndTime: new Date(T0 + 2 * 60_000).toISOString(),
    });
    expect(status).toBe(200);
    expect(text).toContain('<GetMetricDataResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/">');
    expect(text).toContain(
      '<member><Id>m1</Id><Label>Throttles</Label><Timestamps><member>2024-05-01T12:01:00.000Z</member><member>2024-05-01T12:00:00.000Z</member></Timestamps><Values><member>2</member><member>1</member></Values><StatusCode>Complete</StatusCode></member>',
    );
  });

  it('lists metrics as XML and answers errors in the Query shape', async () => {
    const { text } = await query({ Action: 'ListMetrics', Namespace: 'AWS/ApplicationELB' });
    expect(text).toContain(
      '<Metrics><member><Namespace>AWS/ApplicationELB</Namespace><MetricName>HTTPCode_ELB_502_Count</MetricName><Dimensions><member><Name>LoadBalancer</Name><Value>app/lab-alb/abc</Value></member></Dimensions></member></Metrics>',
    );
    const bad = await query({ Action: 'PutMetricData', Namespace: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('<Code>InvalidAction</Code>');
    expect(bad.text).toContain('PutMetricData');
  });
});
