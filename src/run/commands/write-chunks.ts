import { once } from "node:events";
import type { Writable } from "node:stream";

/** Writes chunks in order, waiting for the stream to drain: a large plan is never held as one string. */
export async function writeChunks(stream: Writable, chunks: Iterable<string>): Promise<void> {
  for (const chunk of chunks) {
    if (!stream.write(chunk)) await once(stream, "drain");
  }
}
