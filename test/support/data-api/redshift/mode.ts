/**
 * Redshift on top of PostgreSQL: each statement is tokenized with Redshift's lexical rules, refused
 * when it uses PostgreSQL-only syntax (reject.ts), translated where Redshift differs (identities,
 * grants, DDL), and its system views are read from the shim (catalog.ts).
 */
import type { Backend, Outcome, Session } from "../backends.js";
import type { SqlMode, StatementContext } from "../mode.js";
import { SHIM, SHIM_VIEWS, shimStatements } from "./catalog.js";
import { ddlStatements } from "./ddl.js";
import { grantStatements } from "./grants.js";
import { identityStatement } from "./identities.js";
import { postgresOnly } from "./reject.js";
import { noteStatement } from "./rule-facts.js";
import { isOp, isWord, render, solid, tokenize, type Token } from "./tokens.js";

export interface RedshiftOptions {
  /** Database user an IAM identity (cluster + database, or workgroup + database) maps to; default the backend's superuser. */
  readonly iamUser?: string;
  /** SecretArn -> database user; default: any secret is the backend's superuser. */
  readonly secrets?: Readonly<Record<string, string>>;
  /** GetStatementResult page size in bytes of records (not documented by AWS); default 1 MB. */
  readonly pageBytes?: number;
  /** Result size limit; default 100 MB (aws-facts §5.3). */
  readonly maxResultBytes?: number;
  /** Total SQL bytes of one BatchExecuteStatement; default none (AWS documents 100 KB per statement). */
  readonly maxBatchBytes?: number;
  /** describe_field_name_in_uppercase: result column names in upper case. */
  readonly describeFieldNameInUppercase?: boolean;
}

export function redshiftMode(_options: RedshiftOptions): SqlMode {
  return {
    name: "redshift",
    async install(backend: Backend) {
      await backend.session(true, async (session) => {
        for (const sql of shimStatements()) await session.query(sql);
      });
    },
    async run(session, sql, context) {
      const tokens = tokenize(sql);
      const rejected = postgresOnly(tokens);
      if (rejected !== null) throw new Error(rejected);
      const shimmed = withShimNames(tokens);
      const t = solid(shimmed);
      if (isOp(t[t.length - 1], ";")) t.pop();
      if (t.some((token) => isOp(token, ";"))) throw new Error("cannot insert multiple commands into a prepared statement");
      const statements = await translate(session, shimmed, t, context);
      let first: Outcome | null = null;
      for (const statement of statements) {
        const outcome = await session.query(statement);
        first ??= outcome;
      }
      return first ?? { result: null, affected: 0 };
    },
  };
}

async function translate(session: Session, tokens: readonly Token[], t: readonly Token[], context: StatementContext): Promise<string[]> {
  if (isWord(t[0], "grant", "revoke")) return grantStatements(session, t, context);
  noteStatement(context, t);
  const identity = await identityStatement(session, t);
  if (identity !== null) return identity;
  return ddlStatements(tokens, t, context) ?? [render(tokens)];
}

/** `svv_columns` or `pg_catalog.svv_columns` -> `pg_redshift.svv_columns` (and the other shim views). */
function withShimNames(tokens: readonly Token[]): Token[] {
  const out = [...tokens];
  const previousSolid = (i: number): number => {
    let k = i - 1;
    while (k >= 0 && out[k]!.kind === "space") k--;
    return k;
  };
  for (let i = 0; i < out.length; i++) {
    const token = out[i]!;
    if (token.kind !== "word" || !SHIM_VIEWS.has(token.value)) continue;
    const dot = previousSolid(i);
    if (dot >= 0 && isOp(out[dot], ".")) {
      const schema = previousSolid(dot);
      if (schema >= 0 && isWord(out[schema], "pg_catalog")) out[schema] = { kind: "word", text: SHIM, value: SHIM };
      continue;
    }
    out[i] = { kind: "word", text: `${SHIM}.${token.value}`, value: token.value };
  }
  return out;
}
