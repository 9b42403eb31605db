// Conformance of the requests an adapter sends with the platform's official API description in
// ../shared/specs (read at test time, never copied): the path and method exist, required query
// parameters are present, and the JSON body fits the documented schema.
//
// Specs are OpenAPI 3 (Mailchimp, HubSpot, SendGrid) or Swagger 2 (Constant Contact). Request
// bodies are validated with Ajv against the spec's own schemas, $refs resolved inside the document.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';

import type { HttpRequest, HttpResponse, Transport } from '../../src/http/types';
import { whenAvailable } from './requirement';

export const SPECS_DIR = resolve(__dirname, '../../../shared/specs');

/** A request as the adapter sent it (recorded at the Transport seam). */
export interface SentRequest {
	method: string;
	url: string;
	query: Record<string, string | string[]>;
	body: unknown;
}

/** Wraps a transport and records every request that passes through it. */
export class RecordingTransport implements Transport {
	readonly sent: SentRequest[] = [];

	constructor(private readonly inner: Transport) {}

	async request(request: HttpRequest): Promise<HttpResponse> {
		const query: Record<string, string | string[]> = {};
		for (const [key, value] of Object.entries(request.query ?? {})) {
			if (value === undefined) continue;
			query[key] = Array.isArray(value) ? value.filter((v) => v !== undefined).map(String) : String(value);
		}
		this.sent.push({ method: request.method, url: request.url, query, body: request.body });
		return this.inner.request(request);
	}
}

interface Operation {
	parameters?: Parameter[];
	requestBody?: { content?: Record<string, { schema?: unknown }>; required?: boolean } | { $ref: string };
}

interface Parameter {
	name: string;
	in: string;
	required?: boolean;
	schema?: unknown;
	$ref?: string;
}

interface Route {
	method: string;
	template: string;
	pattern: RegExp;
	operation: Operation;
	pathParameters: Parameter[];
}

type Document = Record<string, unknown>;

function pointer(doc: Document, ref: string): unknown {
	if (!ref.startsWith('#/')) throw new Error(`external $ref not supported: ${ref}`);
	return ref
		.slice(2)
		.split('/')
		.map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
		.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc);
}

function deref<T>(doc: Document, node: T | { $ref: string }): T {
	let current: unknown = node;
	for (let i = 0; i < 20 && current && typeof current === 'object' && '$ref' in current; i++) {
		current = pointer(doc, (current as { $ref: string }).$ref);
	}
	return current as T;
}

/** OpenAPI 3.0 schema keywords that JSON Schema lacks, rewritten so Ajv validates what they mean. */
function toJsonSchema(node: unknown): unknown {
	if (Array.isArray(node)) return node.map(toJsonSchema);
	if (!node || typeof node !== 'object') return node;
	const out: Record<string, unknown> = {};
	for (const [key, value] of Object.entries(node)) {
		if (key === 'nullable' || key === 'discriminator' || key === 'xml' || key === 'externalDocs' || key.startsWith('x-')) continue;
		out[key] = toJsonSchema(value);
	}
	if ((node as { nullable?: boolean }).nullable && typeof out.type === 'string') out.type = [out.type, 'null'];
	return out;
}

export class ApiSpec {
	private readonly routes: Route[] = [];
	private readonly ajv: Ajv;
	private readonly validators = new Map<string, ValidateFunction>();
	readonly basePath: string;

	constructor(
		readonly name: string,
		private readonly doc: Document,
	) {
		const servers = doc.servers as Array<{ url: string }> | undefined;
		this.basePath = servers?.[0] ? new URL(servers[0].url).pathname.replace(/\/$/, '') : String(doc.basePath ?? '').replace(/\/$/, '');
		for (const [template, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
			const shared = ((item.parameters as Parameter[]) ?? []).map((p) => deref<Parameter>(doc, p));
			for (const [method, operation] of Object.entries(item)) {
				if (!['get', 'put', 'post', 'patch', 'delete'].includes(method)) continue;
				const own = (((operation as Operation).parameters as Parameter[]) ?? []).map((p) => deref<Parameter>(doc, p));
				const parameters = [...shared.filter((s) => !own.some((o) => o.name === s.name && o.in === s.in)), ...own];
				const source = template.replace(/[.*+?^${}()|[\]\\]/g, (c) => (c === '{' || c === '}' ? c : `\\${c}`));
				const pattern = new RegExp(`^${source.replace(/\{[^}]+\}/g, '[^/]+')}/?$`);
				this.routes.push({
					method: method.toUpperCase(),
					template,
					pattern,
					operation: { ...(operation as Operation), parameters },
					pathParameters: parameters.filter((p) => p.in === 'path'),
				});
			}
		}
		// More specific templates first: /lists/{id}/members before /lists/{id}/{other}.
		this.routes.sort((a, b) => b.template.split('{').length - a.template.split('{').length || b.template.length - a.template.length);
		this.routes.sort((a, b) => Number(a.template.includes('{')) - Number(b.template.includes('{')));
		this.ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
		addFormats(this.ajv);
		this.ajv.addSchema(toJsonSchema(doc) as object, 'spec');
	}

	/** What is wrong with a request according to this description (empty when it conforms). */
	check(request: SentRequest): string[] {
		const url = new URL(request.url);
		const path = decodeURIComponent(url.pathname);
		if (this.basePath && !path.startsWith(this.basePath)) return [`${request.method} ${path}: outside the API's base path ${this.basePath}`];
		const relative = path.slice(this.basePath.length) || '/';
		const candidates = this.routes.filter((r) => r.pattern.test(relative));
		if (candidates.length === 0) return [`${request.method} ${relative}: no such path in ${this.name}`];
		const route = candidates.find((r) => r.method === request.method);
		if (!route) return [`${request.method} ${relative}: the path exists (${candidates[0].template}) but not with ${request.method}`];

		const problems: string[] = [];
		const query = { ...Object.fromEntries(url.searchParams), ...request.query };
		for (const parameter of route.operation.parameters ?? []) {
			if (parameter.in === 'query' && parameter.required && !(parameter.name in query)) {
				problems.push(`${request.method} ${route.template}: required query parameter "${parameter.name}" is missing`);
			}
		}
		const body = this.bodySchema(route);
		if (request.body !== undefined) {
			if (!body) problems.push(`${request.method} ${route.template}: sends a body the description does not define`);
			else {
				const validate = this.validator(route, body.pointer);
				if (!validate(request.body)) {
					for (const error of validate.errors ?? []) {
						problems.push(`${request.method} ${route.template}: body${error.instancePath} ${error.message ?? 'is invalid'} (${JSON.stringify(error.params)})`);
					}
				}
			}
		} else if (body?.required) {
			problems.push(`${request.method} ${route.template}: the description requires a body`);
		}
		return problems;
	}

	/** The JSON pointer of the route's JSON body schema inside the document. */
	private bodySchema(route: Route): { pointer: string; required: boolean } | undefined {
		const escaped = route.template.replace(/~/g, '~0').replace(/\//g, '~1');
		const base = `#/paths/${escaped}/${route.method.toLowerCase()}`;
		const operation = route.operation;
		if (operation.requestBody) {
			const requestBody = deref<{ content?: Record<string, { schema?: unknown }>; required?: boolean }>(this.doc, operation.requestBody);
			const type = Object.keys(requestBody.content ?? {}).find((t) => t.includes('json'));
			if (!type) return undefined;
			const refBase = '$ref' in operation.requestBody ? (operation.requestBody as { $ref: string }).$ref : `${base}/requestBody`;
			return { pointer: `${refBase}/content/${type.replace(/\//g, '~1')}/schema`, required: requestBody.required === true };
		}
		const parameters = operation.parameters ?? [];
		const index = parameters.findIndex((p) => p.in === 'body');
		if (index < 0) return undefined;
		// Swagger 2: the body parameter may sit on the path item or the operation; find it in the document.
		const own = ((pointer(this.doc, base) as Operation).parameters ?? []).findIndex((p) => deref<Parameter>(this.doc, p).in === 'body');
		const where = own >= 0 ? `${base}/parameters/${own}` : `#/paths/${escaped}/parameters/${((pointer(this.doc, `#/paths/${escaped}`) as { parameters: Parameter[] }).parameters ?? []).findIndex((p) => deref<Parameter>(this.doc, p).in === 'body')}`;
		return { pointer: `${where}/schema`, required: parameters[index].required === true };
	}

	private validator(route: Route, schemaPointer: string): ValidateFunction {
		const key = `${route.method} ${route.template}`;
		let validate = this.validators.get(key);
		if (!validate) {
			validate = this.ajv.compile({ $ref: `spec${schemaPointer}` });
			this.validators.set(key, validate);
		}
		return validate;
	}
}

function readDocument(file: string): Document {
	const text = readFileSync(file, 'utf8');
	return (file.endsWith('.json') ? JSON.parse(text) : parseYaml(text, { maxAliasCount: -1 })) as Document;
}

/** The specs named, or a reason why they cannot be had. */
export function loadSpecs(files: readonly string[]): ApiSpec[] | { missing: string[] } {
	const paths = files.map((f) => resolve(SPECS_DIR, f));
	const missing = paths.filter((p) => !existsSync(p));
	if (missing.length > 0) return { missing };
	return paths.map((p, i) => new ApiSpec(files[i], readDocument(p)));
}

/**
 * A conformance suite over the given spec files. Without them it reports itself skipped; with
 * CI=true it fails, because CI must check conformance.
 */
export function describeConformance(title: string, files: readonly string[], body: (specs: () => ApiSpec[]) => void): void {
	const loaded = loadSpecs(files);
	if ('missing' in loaded) {
		whenAvailable(title, { ok: false, reason: `the shared API descriptions are missing: ${loaded.missing.join(', ')}` }, () => undefined);
		return;
	}
	describe(title, () => body(() => loaded));
}

/** Problems of every request against the first spec whose base path and paths know it. */
export function conformanceProblems(specs: readonly ApiSpec[], requests: readonly SentRequest[]): string[] {
	const problems: string[] = [];
	for (const request of requests) {
		const results = specs.map((spec) => spec.check(request));
		const ok = results.find((r) => r.length === 0);
		if (ok) continue;
		// Report the most specific complaint: a spec that knows the path beats "no such path".
		const known = results.find((r) => !r.some((p) => p.includes('no such path') || p.includes('outside the API')));
		problems.push(...(known ?? results[0]));
	}
	return problems;
}
