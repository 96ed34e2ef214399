// An ALB-backed handler: answers GET /orders with a small JSON list, POST /orders with 201.
// Multi-value headers are enabled on its target group, so it reads and writes multiValue* fields.
const orders = [
  { id: 'o-1', status: 'open', total: 42.5 },
  { id: 'o-2', status: 'shipped', total: 18 },
];

export const handler = async (event, context) => {
  await new Promise((r) => setTimeout(r, 20 + Math.random() * 60));
  const query = event.multiValueQueryStringParameters ?? {};
  if (event.httpMethod === 'POST') {
    return {
      statusCode: 201,
      statusDescription: '201 Created',
      multiValueHeaders: { 'content-type': ['application/json'] },
      body: JSON.stringify({ created: true, requestId: context.awsRequestId }),
    };
  }
  const status = query.status?.at(-1);
  const list = status ? orders.filter((o) => o.status === status) : orders;
  return {
    statusCode: 200,
    statusDescription: '200 OK',
    multiValueHeaders: { 'content-type': ['application/json'], 'cache-control': ['no-store'] },
    body: JSON.stringify({ orders: list, trace: event.multiValueHeaders?.['x-amzn-trace-id']?.[0] }),
    isBase64Encoded: false,
  };
};
