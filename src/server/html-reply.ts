import { Readable } from "node:stream";
import type { FastifyReply } from "fastify";

/**
 * An HTML report streamed with the page's own Content-Security-Policy, never framed and never
 * content-sniffed: the security headers of every HTML page, in one place.
 */
export function sendHtml(reply: FastifyReply, csp: string, chunks: Iterable<string> | AsyncIterable<string>): FastifyReply {
  return reply
    .type("text/html; charset=utf-8")
    .header("content-security-policy", `${csp}; frame-ancestors 'none'`)
    .header("x-content-type-options", "nosniff")
    .send(Readable.from(chunks));
}
