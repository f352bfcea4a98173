// A client for the REST API that checks every answer against the server's own
// OpenAPI document: the route and status must be documented, the content type
// must be one the document gives for it, and the body must match its schema
// (ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses it). The document itself is
// checked with @seriousme/openapi-schema-validator, an ES module loaded in a
// child Node process (jest's CommonJS runtime cannot import it).
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import type { TestApp } from "./test-app";

export interface RestResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
  contentType: string;
}

export interface RestRequestOptions {
  token?: string;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is, with `contentType`. */
  raw?: string | Buffer;
  contentType?: string;
  query?: Record<string, string | number | boolean>;
  /** More request headers, such as accept-language. */
  headers?: Record<string, string>;
}

type OpenApiDocument = { openapi: string; paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>> };

/** Validates an OpenAPI document with @seriousme/openapi-schema-validator; returns its verdict. */
export async function validateOpenApiDocument(document: unknown): Promise<{ valid: boolean; errors?: unknown }> {
  const directory = mkdtempSync(join(tmpdir(), "mailadmin-openapi-"));
  const file = join(directory, "openapi.json");
  writeFileSync(file, JSON.stringify(document));
  const script = `
    const { Validator } = await import("@seriousme/openapi-schema-validator");
    const result = await new Validator().validate(process.argv[1]);
    process.stdout.write(JSON.stringify({ valid: result.valid, errors: result.errors, version: new Validator().version }));`;
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script, file], { cwd: join(__dirname, "..", "..") });
    return JSON.parse(stdout) as { valid: boolean; errors?: unknown };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** A JSON pointer into the document as a URI fragment (path templates hold / and braces). */
function fragment(...segments: string[]): string {
  return `#/${segments.map((segment) => encodeURIComponent(segment.replace(/~/g, "~0").replace(/\//g, "~1"))).join("/")}`;
}

export class RestClient {
  private readonly ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }));
  private readonly templates: { template: string; pattern: RegExp }[];
  /** Every (method path status) checked against the document, for the test's own bookkeeping. */
  readonly checked: string[] = [];

  private constructor(
    private readonly app: TestApp,
    readonly document: OpenApiDocument,
  ) {
    this.ajv.addSchema(document, "openapi.json");
    this.templates = Object.keys(document.paths).map((template) => ({
      template,
      pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`),
    }));
  }

  static async connect(app: TestApp): Promise<RestClient> {
    const response = await fetch(`${app.url}/api/v1/openapi.json`);
    if (response.status !== 200) throw new Error(`GET /api/v1/openapi.json answered ${response.status}`);
    return new RestClient(app, (await response.json()) as OpenApiDocument);
  }

  async request<T = any>(method: string, path: string, options: RestRequestOptions = {}): Promise<RestResponse<T>> {
    const url = new URL(`${this.app.url}${path}`);
    for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, String(value));
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | Buffer | undefined;
    if (options.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.json);
    } else if (options.raw !== undefined) {
      headers["content-type"] = options.contentType ?? "application/json";
      body = options.raw;
    }
    const response = await fetch(url, { method, headers, body });
    const contentType = (response.headers.get("content-type") ?? "").split(";")[0]!.trim();
    const text = await response.text();
    const parsed = text.length > 0 && contentType.endsWith("json") ? (JSON.parse(text) as T) : (text as T);
    this.check(method, url.pathname, response.status, contentType, parsed);
    return { status: response.status, body: parsed, headers: response.headers, contentType };
  }

  /** Throws unless the answer is what the document says this route answers with this status. */
  private check(method: string, pathname: string, status: number, contentType: string, body: unknown): void {
    const template = this.templates.find((candidate) => candidate.pattern.test(pathname))?.template;
    const operation = template ? this.document.paths[template]?.[method.toLowerCase()] : undefined;
    if (!template || !operation) {
      // Only routes the API does not have may be undocumented, and they answer a problem.
      if (status !== 404 || contentType !== "application/problem+json") throw new Error(`${method} ${pathname} is not in the OpenAPI document but answered ${status}`);
      this.validate(fragment("components", "schemas", "Problem"), body, `${method} ${pathname} ${status}`);
      this.checked.push(`${method} (undocumented) ${status}`);
      return;
    }
    const key = [String(status), `${String(status)[0]}XX`, "default"].find((candidate) => operation.responses[candidate]);
    if (!key) throw new Error(`${method} ${template} answered ${status}, which the document does not list`);
    const content = operation.responses[key]!.content ?? {};
    if (!(contentType in content)) throw new Error(`${method} ${template} ${status} answered ${contentType}; the document says ${Object.keys(content).join(", ")}`);
    this.validate(fragment("paths", template, method.toLowerCase(), "responses", key, "content", contentType, "schema"), body, `${method} ${template} ${status}`);
    this.checked.push(`${method} ${template} ${status}`);
  }

  private validate(pointer: string, body: unknown, what: string): void {
    const validate = this.ajv.getSchema(`openapi.json${pointer}`);
    if (!validate) throw new Error(`no schema at ${pointer}`);
    if (!validate(body)) throw new Error(`${what}: the body does not match the OpenAPI document: ${this.ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 2000)}`);
  }
}
