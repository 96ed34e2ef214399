/**
 * The program each handler worker thread runs (the lab's stand-in for Lambda's Node.js runtime
 * interface client). Kept as plain JavaScript text and started with `eval: true`, so it runs the
 * same from the TypeScript sources (tests, tsx) and from the compiled package, without a loader.
 * It imports the handler once (the "init" phase), then runs one invocation at a time.
 * Message shapes: ./protocol.ts.
 */
export const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
let handler;

function errorOf(e) {
  if (e instanceof Error) {
    return {
      errorType: e.name || 'Error',
      errorMessage: e.message,
      trace: typeof e.stack === 'string' ? e.stack.split('\n') : [],
    };
  }
  // Lambda reports a thrown non-Error value by its JSON text.
  let text;
  try { text = JSON.stringify(e); } catch { text = String(e); }
  return { errorType: 'Error', errorMessage: text === undefined ? String(e) : text, trace: [] };
}

(async () => {
  let mod;
  if (/\.(c|m)?tsx?$/.test(workerData.url) && !workerData.tsxApi) {
    // tsx is an optional peer dependency: only TypeScript handlers need it.
    parentPort.postMessage({
      type: 'init-error',
      errorType: 'Runtime.ImportModuleError',
      errorMessage: 'Error: Cannot load handler module ' + workerData.url + ': a TypeScript handler needs the optional peer dependency tsx (npm install tsx), which is not installed; or give the handler as JavaScript',
    });
    return;
  }
  try {
    if (workerData.tsxApi) {
      const api = await import(workerData.tsxApi);
      api.register();
    }
    mod = await import(workerData.url);
  } catch (e) {
    parentPort.postMessage({
      type: 'init-error',
      errorType: 'Runtime.ImportModuleError',
      errorMessage: 'Error: Cannot load handler module ' + workerData.url + ': ' + (e && e.message ? e.message : String(e)),
    });
    return;
  }
  let h = mod[workerData.exportName];
  if (h === undefined && mod.default && typeof mod.default === 'object') h = mod.default[workerData.exportName];
  if (typeof h !== 'function') {
    parentPort.postMessage({
      type: 'init-error',
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: workerData.handlerName + ' is undefined or not exported',
    });
    return;
  }
  handler = h;
  parentPort.postMessage({ type: 'ready' });
})();

parentPort.on('message', async (msg) => {
  if (!msg || msg.type !== 'invoke') return;
  const deadline = msg.deadline;
  const c = workerData.context;
  const context = {
    awsRequestId: msg.requestId,
    functionName: c.functionName,
    functionVersion: c.functionVersion,
    invokedFunctionArn: c.invokedFunctionArn,
    memoryLimitInMB: c.memoryLimitInMB,
    logGroupName: c.logGroupName,
    logStreamName: 'lab/[$LATEST]' + msg.requestId.replace(/-/g, ''),
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, Math.round((deadline - Date.now()) * workerData.timeScale)),
  };
  try {
    let result;
    if (handler.length >= 3) {
      result = await new Promise((resolve, reject) => {
        const r = handler(msg.event, context, (err, value) => (err ? reject(err) : resolve(value)));
        if (r && typeof r.then === 'function') r.then(resolve, reject);
      });
    } else {
      result = await handler(msg.event, context);
    }
    let payload;
    try {
      payload = JSON.stringify(result === undefined ? null : result);
    } catch (e) {
      parentPort.postMessage({
        type: 'error',
        id: msg.id,
        errorType: 'Runtime.MarshalError',
        errorMessage: 'Unable to stringify response body: ' + (e && e.message),
        trace: [],
      });
      return;
    }
    parentPort.postMessage({ type: 'result', id: msg.id, payload: payload === undefined ? 'null' : payload });
  } catch (e) {
    parentPort.postMessage(Object.assign({ type: 'error', id: msg.id }, errorOf(e)));
  }
});
`;
