/**
 * Messages between the lab and a handler's worker thread (one execution environment). A
 * discriminated union on `type`, so both sides `switch` exhaustively.
 */
export const Msg = {
  invoke: 'invoke',
  ready: 'ready',
  initError: 'init-error',
  result: 'result',
  error: 'error',
} as const;

export interface InvokeContextData {
  awsRequestId: string;
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  logGroupName: string;
  logStreamName: string;
}

/**
 * Lab -> worker. `deadline` is wall-clock epoch ms; `event` is structured-cloned. The context
 * fields that do not change between invocations travel once, in `WorkerBoot.context`.
 */
export interface InvokeMessage {
  type: typeof Msg.invoke;
  id: number;
  event: unknown;
  requestId: string;
  deadline: number;
}

export interface ReadyMessage {
  type: typeof Msg.ready;
}

export interface InitErrorMessage {
  type: typeof Msg.initError;
  errorType: string;
  errorMessage: string;
}

/** The handler returned: `payload` is the JSON text Lambda would return (`null` for undefined). */
export interface ResultMessage {
  type: typeof Msg.result;
  id: number;
  payload: string;
}

/** The handler threw or rejected. */
export interface ErrorMessage {
  type: typeof Msg.error;
  id: number;
  errorType: string;
  errorMessage: string;
  trace: string[];
}

export type WorkerToLab = ReadyMessage | InitErrorMessage | ResultMessage | ErrorMessage;

/** What the worker receives as `workerData`. */
export interface WorkerBoot {
  /** file: URL of the handler module. */
  url: string;
  exportName: string;
  /** `file.export`, for Lambda's error messages. */
  handlerName: string;
  timeScale: number;
  /** file: URL of tsx's ESM API, to load TypeScript handlers; undefined for JavaScript. */
  tsxApi?: string | undefined;
  /**
   * The invocation context without its per-invocation fields (`awsRequestId`, and
   * `logStreamName`, which the worker derives from it as `lab/[$LATEST]<id without dashes>`).
   */
  context: Omit<InvokeContextData, 'awsRequestId' | 'logStreamName'>;
}
