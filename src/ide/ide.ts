// The browser IDE for support staff: GET /graphql from a browser opens
// GraphiQL, served entirely by this server (no CDN), so that it works on a
// support desk without internet access. Every other request to /graphql
// (POST, GET with a JSON Accept header) still reaches Apollo.
import { createReadStream, readFileSync } from "node:fs";
import { stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Config } from "../config";
import { projectRoot } from "../shared/project-root";
import { LANGUAGES, negotiateLanguage, requestLanguage, type Language } from "../i18n/language";
import { CATALOGUES, translate, type MessageId } from "../i18n/messages";
import { supportExamplesIn, type SupportExample } from "./examples";

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

/** The page's own texts (catalogue ids ide.*, not the tasks'), each with its {value} marks left for the page to fill. */
function pageTexts(language: Language): Record<string, string> {
  const marks = { name: "{name}", role: "{role}", until: "{until}", error: "{error}" };
  const texts: Record<string, string> = {};
  for (const id of Object.keys(CATALOGUES.en) as MessageId[]) {
    if (id.startsWith("ide.") && !id.startsWith("ide.task.")) texts[id.slice("ide.".length)] = translate(language, id, marks);
  }
  return texts;
}

/** What GET /graphql-ide/texts.json answers: the language chosen, why, the page's texts and the support tasks in it. */
export interface IdeTexts {
  language: Language;
  /** "accept-language": the browser's header named a language with a catalogue; "preference": the saved preference the page sent; "default": DEFAULT_LANGUAGE. */
  chosenBy: "accept-language" | "preference" | "default";
  texts: Record<string, string>;
  examples: SupportExample[];
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** index.html with its language and texts put in ({{lang}}, {{title}}, {{loading}}, {{noscript}}). */
function renderPage(template: string, language: Language): string {
  const texts: Record<string, string> = {
    lang: language,
    title: translate(language, "ide.page.title"),
    loading: translate(language, "ide.page.loading"),
    noscript: translate(language, "ide.page.noscript"),
  };
  return template.replace(/\{\{(\w+)\}\}/g, (_match, name: string) => escapeHtml(texts[name] ?? ""));
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
  // The page, the texts and the tasks in each language, written once.
  const template = readFileSync(join(publicDirectory, "index.html"), "utf8");
  const pages = new Map(LANGUAGES.map((language) => [language, renderPage(template, language)]));
  const examplesJson = new Map(LANGUAGES.map((language) => [language, JSON.stringify(supportExamplesIn(language))]));
  const texts = new Map(LANGUAGES.map((language) => [language, { texts: pageTexts(language), examples: supportExamplesIn(language) }]));
  const defaultLanguage = config.DEFAULT_LANGUAGE;

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
    handler: async (request, reply) => {
      const language = requestLanguage(request.headers["accept-language"], undefined, defaultLanguage);
      return reply
        .header("content-security-policy", IDE_CONTENT_SECURITY_POLICY)
        .header("x-content-type-options", "nosniff")
        .header("cache-control", "no-store")
        .header("vary", "Accept, Accept-Language")
        .header("content-language", language)
        .type("text/html; charset=utf-8")
        .send(pages.get(language));
    },
  });
  // The tasks alone, in the browser's language (Accept-Language, else DEFAULT_LANGUAGE).
  app.get(`${IDE_ASSET_PREFIX}examples.json`, async (request, reply) => {
    const language = requestLanguage(request.headers["accept-language"], undefined, defaultLanguage);
    return reply
      .header("cache-control", "no-cache")
      .header("vary", "Accept-Language")
      .header("content-language", language)
      .type("application/json; charset=utf-8")
      .send(examplesJson.get(language));
  });
  // Everything the page writes, in its language: Accept-Language, else the saved preference the page
  // sends after a login (?preference=zh-TW), else DEFAULT_LANGUAGE.
  app.get<{ Querystring: { preference?: string } }>(`${IDE_ASSET_PREFIX}texts.json`, async (request, reply) => {
    const fromHeader = negotiateLanguage(request.headers["accept-language"]);
    const language = requestLanguage(request.headers["accept-language"], request.query.preference, defaultLanguage);
    const chosenBy: IdeTexts["chosenBy"] = fromHeader ? "accept-language" : language === request.query.preference ? "preference" : "default";
    const answer: IdeTexts = { language, chosenBy, ...texts.get(language)! };
    return reply.header("cache-control", "no-cache").header("vary", "Accept-Language").header("content-language", language).type("application/json; charset=utf-8").send(answer);
  });
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
