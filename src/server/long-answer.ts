import type { Socket } from "node:net";
import type { FastifyRequest } from "fastify";
import type { ServerConfig } from "../config/schema.js";

/**
 * An authenticated report whose answer needs a full catalog read (`GET /plan?refresh=1`,
 * `GET /access`) can take minutes at 100k tables, far longer than the idle-socket timeout
 * (`server.connectionTimeoutMs`) that cuts slow clients off, which closed the connection before
 * the answer (issue 11). While the work runs, the socket's idle timeout is
 * `server.reportTimeoutMs`; then it is back to the usual one. Only reached after authentication.
 */
export async function whileComputing<T>(request: FastifyRequest, server: ServerConfig, work: () => Promise<T>): Promise<T> {
  const socket = request.raw.socket as Partial<Socket> | undefined;
  // An injected request (fastify.inject, tests) has a stand-in socket without timers.
  if (typeof socket?.setTimeout !== "function") return work();
  socket.setTimeout(server.reportTimeoutMs);
  try {
    return await work();
  } finally {
    if (socket.destroyed !== true) socket.setTimeout(server.connectionTimeoutMs);
  }
}
