/**
 * A bare HTTP endpoint on 127.0.0.1 for the few tests that must go through the SDK's own middleware
 * (retry, error parsing): aws-sdk-client-mock replaces `send`, so no retry ever runs under it.
 * Answers Lake Formation (restJson1, `POST /<Operation>`) and Glue (awsJson1_1,
 * `X-Amz-Target: AWSGlue.<Operation>`) with whatever the test's handler returns.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeAwsReply {
  readonly status: number;
  readonly body: unknown;
  /** restJson1 carries the error code in this header; awsJson1_1 in the body's `__type`. */
  readonly errorType?: string;
}

/** What a request was signed with: the access key id of its SigV4 Authorization header, and its session token. */
export interface RequestSigner {
  readonly operation: string;
  readonly accessKeyId: string | undefined;
  readonly sessionToken: string | undefined;
}

export interface FakeAwsEndpoint {
  readonly url: string;
  /** Operation names in the order they were received. */
  readonly calls: string[];
  /** Who signed each call, in the same order. */
  readonly signers: RequestSigner[];
  close(): Promise<void>;
}

/** `reply` may answer later (a Promise): tests of concurrency hold calls in flight. */
export async function startFakeAwsEndpoint(reply: (operation: string, body: unknown) => FakeAwsReply | Promise<FakeAwsReply>): Promise<FakeAwsEndpoint> {
  const calls: string[] = [];
  const signers: RequestSigner[] = [];
  const server = createServer((req, res) => {
    void readBody(req).then(async (text) => {
      const target = req.headers["x-amz-target"];
      const operation = typeof target === "string" ? (target.split(".").pop() ?? "") : (req.url ?? "/").slice(1).split("?")[0] ?? "";
      calls.push(operation);
      signers.push(requestSigner(operation, req));
      const answer = await reply(operation, text === "" ? {} : JSON.parse(text));
      const headers: Record<string, string> = { "content-type": typeof target === "string" ? "application/x-amz-json-1.1" : "application/json" };
      if (answer.errorType !== undefined) headers["x-amzn-errortype"] = answer.errorType;
      res.writeHead(answer.status, headers).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    signers,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // The SDK keeps connections alive; close() alone would wait for them.
        server.closeAllConnections();
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export function requestSigner(operation: string, req: IncomingMessage): RequestSigner {
  const auth = req.headers.authorization;
  const token = req.headers["x-amz-security-token"];
  return {
    operation,
    accessKeyId: typeof auth === "string" ? /Credential=([^/]+)\//.exec(auth)?.[1] : undefined,
    sessionToken: typeof token === "string" ? token : undefined,
  };
}

export async function readRequestBody(req: IncomingMessage): Promise<string> {
  return readBody(req);
}
