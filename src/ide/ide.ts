// The browser IDE for support staff: GET /graphql from a browser opens
// GraphiQL, served entirely by this server (no CDN), so that it works on a
// support desk without internet access. Every other request to /graphql
// (POST, GET with a JSON Accept header) still reaches Apollo.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Config } from "../config";
import { projectRoot } from "../shared/project-root";
import { supportExamples } from "./examples";

/**
 * The policy the IDE page and its assets run under: scripts and styles from
 * this server only (inline styles are GraphiQL's own), nothing framed, no
 * requests anywhere but here. The page sets it itself so that it holds
 * whatever the server's other security headers are.
 */
export const IDE_CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'";

/** Where the page loads its files from, relative to /graphql so that a path prefix added by a proxy keeps working. */
export const IDE_ASSET_PREFIX = "/graphql-ide/";

/** GRAPHQL_IDE, or by default: on outside production. */
export function graphqlIdeEnabled(config: Pick<Config, "GRAPHQL_IDE" | "NODE_ENV">): boolean {
  return config.GRAPHQL_IDE ?? config.NODE_ENV !== "production";
}

function packageDirectory(name: string): string {
  // react and react-dom export no subpaths; their package.json is exported.
  return dirname(require.resolve(`${name}/package.json`, { paths: [projectRoot] }));
}

const publicDirectory = join(projectRoot, "src", "ide", "public");

interface Asset {
  path: string;
  contentType: string;
  cacheControl: string;
}

const JAVASCRIPT = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";

/**
 * The only files served under IDE_ASSET_PREFIX. The library files change only
 * with an npm upgrade; the page's own files are revalidated (ETag) every time.
 */
function assetTable(): Map<string, Asset> {
  const graphiql = packageDirectory("graphiql");
  const library = (path: string, contentType: string): Asset => ({ path, contentType, cacheControl: "public, max-age=3600" });
  const own = (file: string, contentType: string): Asset => ({ path: join(publicDirectory, file), contentType, cacheControl: "no-cache" });
  return new Map<string, Asset>([
    ["graphiql.min.js", library(join(graphiql, "graphiql.min.js"), JAVASCRIPT)],
    ["graphiql.min.css", library(join(graphiql, "graphiql.min.css"), CSS)],
    ["react.production.min.js", library(join(packageDirectory("react"), "umd", "react.production.min.js"), JAVASCRIPT)],
    ["react-dom.production.min.js", library(join(packageDirectory("react-dom"), "umd", "react-dom.production.min.js"), JAVASCRIPT)],
    ["ide.js", own("ide.js", JAVASCRIPT)],
    ["ide.css", own("ide.css", CSS)],
  ]);
}

/** Streams a file with an ETag (size and modification time), answering 304 when the browser has it. */
async function sendAsset(request: FastifyRequest, reply: FastifyReply, asset: Asset) {
  const info = await stat(asset.path);
  const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  reply.header("content-security-policy", IDE_CONTENT_SECURITY_POLICY).header("x-content-type-options", "nosniff").header("etag", etag).header("cache-control", asset.cacheControl);
  if (request.headers["if-none-match"] === etag) return reply.code(304).send();
  return reply.type(asset.contentType).header("content-length", info.size).send(createReadStream(asset.path));
}

/** True when the client asks for a web page (a browser's address bar), not for a GraphQL answer. */
export function wantsHtml(request: Pick<FastifyRequest, "headers">): boolean {
  const accept = request.headers.accept ?? "";
  return /(^|,)\s*text\/html\s*(;|,|$)/i.test(accept);
}

/**
 * Serves the IDE when GRAPHQL_IDE allows it. GET /graphql is Apollo's route
 * too: the page is a second route on the same path, constrained to requests
 * that accept text/html, so Fastify's router picks it before any hook runs and
 * Apollo keeps every other request.
 */
export async function registerGraphqlIde(app: FastifyInstance, config: Config): Promise<void> {
  if (!graphqlIdeEnabled(config)) return;
  const assets = assetTable();
  const page: Asset = { path: join(publicDirectory, "index.html"), contentType: "text/html; charset=utf-8", cacheControl: "no-store" };
  const examplesJson = JSON.stringify(supportExamples);

  app.addConstraintStrategy({
    name: "graphqlIdePage",
    storage() {
      const handlers = new Map<string, unknown>();
      return {
        get: (value: string) => (handlers.get(value) ?? null) as never,
        set: (value: string, handler: unknown) => void handlers.set(value, handler),
      };
    },
    deriveConstraint: (request: FastifyRequest["raw"]) => (wantsHtml({ headers: request.headers }) ? "html" : "other"),
    // Requests that do not accept HTML fall through to the unconstrained (Apollo) route.
    mustMatchWhenDerived: false,
  });

  app.route({
    method: "GET",
    url: "/graphql",
    constraints: { graphqlIdePage: "html" },
    handler: (request, reply) => sendAsset(request, reply, page),
  });
  app.get(`${IDE_ASSET_PREFIX}examples.json`, async (_request, reply) => reply.header("cache-control", "no-cache").type("application/json; charset=utf-8").send(examplesJson));
  app.get<{ Params: { file: string } }>(`${IDE_ASSET_PREFIX}:file`, async (request, reply) => {
    const asset = assets.get(request.params.file);
    if (!asset) return reply.code(404).type("text/plain; charset=utf-8").send("Not found");
    return sendAsset(request, reply, asset);
  });
}

/** What a GET /graphql with no query and no browser gets: how to call the API, instead of Apollo's CSRF refusal. */
export const GRAPHQL_USAGE_HINT = [
  "This is mailadmin's GraphQL API. Send queries as POST /graphql with a JSON body, for example:",
  "",
  "  curl -s http://HOST:PORT/graphql -H 'content-type: application/json' \\",
  '       -d \'{"query":"mutation { login(identifier: \\"support\\", password: \\"...\\") { token } }"}\'',
  "",
  "then send the token as 'Authorization: Bearer <token>'. The schema is schema.graphql; open this address in a",
  "browser for the GraphQL IDE (outside production), or use the REST API described at /api/v1/openapi.json.",
  "",
].join("\n");

/**
 * GET /graphql without a query (and not from a browser, which gets the IDE)
 * is someone finding out what this address is: answer with how to call it.
 * A GET with a query string is GraphQL over GET and stays Apollo's.
 */
export function registerGraphqlUsageHint(app: FastifyInstance): void {
  app.addHook("onRequest", async (request, reply) => {
    if (request.method !== "GET" || wantsHtml(request)) return;
    const [path, search = ""] = request.url.split("?", 2);
    if (path !== "/graphql" || new URLSearchParams(search).has("query")) return;
    return reply.code(400).type("text/plain; charset=utf-8").send(GRAPHQL_USAGE_HINT);
  });
}
