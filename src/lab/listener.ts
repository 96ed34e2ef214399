import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on host:port (0 = any free port) and resolves with the port; rejects on EADDRINUSE and the like. */
export async function listenOn(server: Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/**
 * Stops accepting, lets requests in flight finish (up to `graceMs`, `idle` resolving when none
 * is left), runs `beforeCut`, then closes every connection.
 */
export async function closeGracefully(
  server: Server,
  idle: Promise<void>,
  graceMs: number,
  beforeCut: () => void = () => undefined,
): Promise<void> {
  const closed = new Promise<void>((r) => server.close(() => r()));
  server.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    idle,
    new Promise((r) => {
      timer = setTimeout(r, graceMs);
    }),
  ]);
  clearTimeout(timer);
  beforeCut();
  server.closeAllConnections();
  await closed;
}
