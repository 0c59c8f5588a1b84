/**
 * A local STS endpoint on 127.0.0.1 for the real @aws-sdk/client-sts: the awsQuery protocol
 * (form-encoded `Action=...` POST, XML answers) for AssumeRole and GetCallerIdentity. Each
 * AssumeRole hands out a new key pair (ASIA..., token `session-N`) valid for `sessionSeconds`.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { readRequestBody, requestSigner, type RequestSigner } from "./aws-endpoint.js";

export interface StsRequest extends RequestSigner {
  readonly params: Readonly<Record<string, string>>;
}

export interface LocalStsEndpoint {
  readonly url: string;
  readonly requests: StsRequest[];
  /** Lifetime of the next sessions handed out. */
  sessionSeconds: number;
  /** When set, AssumeRole answers AccessDenied with this message. */
  denyAssumeRole: string | undefined;
  /** What GetCallerIdentity answers for a caller that is not a session of this endpoint (the default chain's identity). */
  callerArn: string;
  close(): Promise<void>;
}

const NS = "https://sts.amazonaws.com/doc/2011-06-15/";

export async function startLocalSts(account = "210987654321"): Promise<LocalStsEndpoint> {
  let sessions = 0;
  const endpoint: LocalStsEndpoint = {
    url: "",
    requests: [],
    sessionSeconds: 3600,
    denyAssumeRole: undefined,
    callerArn: `arn:aws:iam::${account}:role/caller`,
    close: () => Promise.resolve(),
  };
  // GetCallerIdentity signed with an AssumeRole session names that session, as STS does.
  const assumed = new Map<string, string>();
  const server = createServer((req, res) => {
    void readRequestBody(req).then((text) => {
      const params = Object.fromEntries(new URLSearchParams(text));
      const action = params.Action ?? "";
      endpoint.requests.push({ ...requestSigner(action, req), params });
      const reply = (status: number, xml: string) => res.writeHead(status, { "content-type": "text/xml" }).end(xml);
      if (action === "AssumeRole" && endpoint.denyAssumeRole !== undefined) {
        reply(403, `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>${endpoint.denyAssumeRole}</Message></Error><RequestId>r-${endpoint.requests.length}</RequestId></ErrorResponse>`);
      } else if (action === "AssumeRole") {
        const n = ++sessions;
        const role = (params.RoleArn ?? "").split("/").pop() ?? "";
        const expiration = new Date(Date.now() + endpoint.sessionSeconds * 1000).toISOString();
        assumed.set(`ASIAASSUMED${n}`, `arn:aws:sts::${account}:assumed-role/${role}/${params.RoleSessionName ?? ""}`);
        reply(
          200,
          `<AssumeRoleResponse xmlns="${NS}"><AssumeRoleResult><Credentials><AccessKeyId>ASIAASSUMED${n}</AccessKeyId>` +
            `<SecretAccessKey>secret-${n}</SecretAccessKey><SessionToken>session-${n}</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
            `<AssumedRoleUser><AssumedRoleId>AROAEXAMPLE:${params.RoleSessionName ?? ""}</AssumedRoleId><Arn>arn:aws:sts::${account}:assumed-role/${role}/${params.RoleSessionName ?? ""}</Arn></AssumedRoleUser>` +
            `</AssumeRoleResult><ResponseMetadata><RequestId>r-${n}</RequestId></ResponseMetadata></AssumeRoleResponse>`,
        );
      } else if (action === "GetCallerIdentity") {
        const arn = assumed.get(endpoint.requests.at(-1)?.accessKeyId ?? "") ?? endpoint.callerArn;
        reply(200, `<GetCallerIdentityResponse xmlns="${NS}"><GetCallerIdentityResult><Arn>${arn}</Arn><UserId>AROACALLER</UserId><Account>${account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>c</RequestId></ResponseMetadata></GetCallerIdentityResponse>`);
      } else {
        reply(400, `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>${action}</Message></Error><RequestId>x</RequestId></ErrorResponse>`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(endpoint, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  });
}
