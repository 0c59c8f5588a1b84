import { once } from "node:events";

/** Writes a report chunk by chunk, waiting for `drain`: a report of any size, without building one string. */
export async function writeChunks(out: NodeJS.WritableStream, chunks: Iterable<string>): Promise<void> {
  for (const chunk of chunks) {
    if (!out.write(chunk)) await once(out, "drain");
  }
}
