// A running `n8n start` for the browser tests: one user folder prepared by the e2e helpers, a free
// port on loopback, the owner account created through n8n's REST API, and a logged-in REST client.
// n8n runs in its own process group so that stop() ends it with every task runner it spawned.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';

import * as runtime from '../../scripts/n8n-runtime.cjs';
import type { N8nRuntime } from '../../scripts/n8n-runtime.cjs';

export interface Owner {
	email: string;
	firstName: string;
	lastName: string;
	password: string;
}

/**
 * The owner of every test instance in this process (a restart logs in with the same password).
 * The password is made per run and fits n8n's rules: 8 to 64 characters, a digit, a capital.
 */
export const DEFAULT_OWNER: Owner = {
	email: 'owner@list-hygiene.test',
	firstName: 'List',
	lastName: 'Hygiene',
	password: `Lh${randomBytes(12).toString('hex')}7Q`,
};

export interface RestResponse {
	status: number;
	/** Parsed JSON, or the text when the body is not JSON. */
	body: unknown;
}

/** n8n's internal REST API (/rest/...) with the owner's session. */
export interface RestClient {
	/** Any request; never throws on a status. */
	request(method: string, path: string, body?: unknown): Promise<RestResponse>;
	/** GET, expecting 2xx; returns n8n's `data` envelope's content. */
	get<T = unknown>(path: string): Promise<T>;
	/** POST, expecting 2xx; returns n8n's `data` envelope's content. */
	post<T = unknown>(path: string, body?: unknown): Promise<T>;
}

export interface Session {
	/** The `n8n-auth` cookie's value. */
	authCookie: string;
	/**
	 * The browser id the session is bound to: n8n ties its auth cookie to the `browser-id` header,
	 * which the editor sends from localStorage["n8n-browserId"].
	 */
	browserId: string;
}

export interface N8nServer {
	version: string;
	/** http://127.0.0.1:<port> */
	url: string;
	userFolder: string;
	owner: Owner;
	session: Session;
	rest: RestClient;
	/** Everything n8n printed so far. */
	output(): string;
	/** Stops n8n and everything it started; safe to call twice. */
	stop(): Promise<void>;
}

export interface StartOptions {
	/** Until /healthz answers and the REST API is up (default 3 min: a first start migrates the database). */
	startTimeoutMs?: number;
	owner?: Owner;
	/** The user folder has its owner already (a restart): log in without setting one up. */
	ownerExists?: boolean;
	/** Variables on top of the test defaults. */
	env?: Record<string, string>;
	/** A file that gets n8n's output as well. */
	logFile?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts `n8n start` on `userFolder`, creates the owner and logs in. Rejects with n8n's log tail. */
export async function startN8nServer(n8n: N8nRuntime, userFolder: string, options: StartOptions = {}): Promise<N8nServer> {
	const { startTimeoutMs = 3 * 60_000, owner = DEFAULT_OWNER, ownerExists = false, env = {}, logFile } = options;
	const [port, brokerPort] = [await runtime.freePort(), await runtime.freePort()];
	const url = `http://127.0.0.1:${port}`;
	const [command, args] = runtime.n8nCommand(n8n, ['start']);
	const child = spawn(command, args, {
		cwd: userFolder, // n8n reads a .env from its working directory
		env: runtime.n8nEnv(userFolder, {
			extra: {
				N8N_PORT: String(port),
				N8N_LISTEN_ADDRESS: '127.0.0.1',
				N8N_HOST: '127.0.0.1',
				N8N_EDITOR_BASE_URL: url,
				N8N_RUNNERS_BROKER_PORT: String(brokerPort),
				...env,
			},
		}),
		stdio: ['ignore', 'pipe', 'pipe'],
		// Its own process group: stop() signals the group, task runners included.
		detached: true,
	});
	const log = captureOutput(child, logFile);
	const stop = stopper(child, log);
	const fail = async (message: string): Promise<never> => {
		await stop();
		throw new Error(`n8n ${n8n.version} (${url}, user folder ${userFolder}): ${message}\n--- n8n output (tail) ---\n${runtime.tail(log.text(), 60)}`);
	};

	try {
		await waitUntilUp(child, url, startTimeoutMs);
	} catch (error) {
		return fail((error as Error).message);
	}

	let session: Session;
	try {
		if (!ownerExists) await setupOwner(url, owner);
		session = await login(url, owner);
	} catch (error) {
		return fail((error as Error).message);
	}
	return {
		version: n8n.version,
		url,
		userFolder,
		owner,
		session,
		rest: restClient(url, session),
		output: log.text,
		stop,
	};
}

function captureOutput(child: ChildProcess, logFile?: string): { text(): string; close(): Promise<void> } {
	const chunks: Buffer[] = [];
	const file: WriteStream | undefined = logFile ? createWriteStream(logFile, { flags: 'a' }) : undefined;
	const collect = (chunk: Buffer) => {
		chunks.push(chunk);
		file?.write(chunk);
	};
	child.stdout?.on('data', collect);
	child.stderr?.on('data', collect);
	return {
		text: () => Buffer.concat(chunks).toString(),
		close: () => new Promise<void>((resolve) => (file ? file.end(resolve) : resolve())),
	};
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
	try {
		if (child.pid) process.kill(-child.pid, signal);
	} catch {
		// the group is gone already
	}
}

function groupAlive(child: ChildProcess): boolean {
	try {
		if (child.pid) process.kill(-child.pid, 0);
		return true;
	} catch {
		return false;
	}
}

/** SIGTERM to n8n's group (n8n shuts down cleanly on it), SIGKILL to what is left after 20 s. */
function stopper(child: ChildProcess, log: { close(): Promise<void> }): () => Promise<void> {
	let stopping: Promise<void> | undefined;
	return () =>
		(stopping ??= (async () => {
			const gone = exited(child) ? Promise.resolve() : new Promise<void>((resolve) => child.once('exit', () => resolve()));
			signalGroup(child, 'SIGTERM');
			const killed = await Promise.race([gone.then(() => false), sleep(20_000).then(() => true)]);
			if (killed) signalGroup(child, 'SIGKILL');
			await gone;
			// A task runner that outlived n8n's shutdown is still in the group.
			for (let waited = 0; groupAlive(child) && waited < 5000; waited += 100) await sleep(100);
			if (groupAlive(child)) signalGroup(child, 'SIGKILL');
			await log.close();
		})());
}

async function waitUntilUp(child: ChildProcess, url: string, timeoutMs: number): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	// /healthz answers as soon as the HTTP server listens. While n8n is still starting, every other
	// path answers an HTML page ("n8n is starting up", then a 404 before its routes are registered):
	// it is up when /rest/settings answers JSON.
	for (const path of ['/healthz', '/rest/settings']) {
		let last = 'no answer yet';
		for (;;) {
			if (exited(child)) throw new Error(`n8n exited (${child.exitCode ?? child.signalCode}) before ${path} answered 200`);
			if (Date.now() > deadline) throw new Error(`${path} did not answer 200 with JSON within ${Math.round(timeoutMs / 1000)} s (last: ${last})`);
			try {
				const response = await fetch(url + path, { signal: AbortSignal.timeout(5000) });
				const text = await response.text();
				const json = /json/.test(response.headers.get('content-type') ?? '');
				if (response.status === 200 && (json || path === '/healthz')) break;
				last = `HTTP ${response.status} ${json ? '' : `(not JSON: ${text.slice(0, 60).replace(/\s+/g, ' ')})`}`.trim();
			} catch (error) {
				last = (error as Error).message;
			}
			await sleep(250);
		}
	}
}

async function send(url: string, method: string, path: string, body: unknown, headers: Record<string, string>): Promise<{ response: Response; body: unknown }> {
	const response = await fetch(url + path, {
		method,
		headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
		body: body === undefined ? undefined : JSON.stringify(body),
		signal: AbortSignal.timeout(60_000),
	});
	const text = await response.text();
	let parsed: unknown = text;
	try {
		parsed = JSON.parse(text);
	} catch {
		// not JSON: keep the text
	}
	return { response, body: parsed };
}

const excerpt = (body: unknown) => (typeof body === 'string' ? body : JSON.stringify(body)).slice(0, 500);
const unwrap = (body: unknown) => (body && typeof body === 'object' && 'data' in body ? (body as { data: unknown }).data : body);

/** POST /rest/owner/setup: the same in n8n 1.x and 2.x, open only while no owner exists. */
async function setupOwner(url: string, owner: Owner): Promise<void> {
	const { response, body } = await send(url, 'POST', '/rest/owner/setup', owner, {});
	if (!response.ok) throw new Error(`POST /rest/owner/setup answered ${response.status}: ${excerpt(body)}`);
}

/**
 * POST /rest/login under a browser id of our own. n8n 1.x and 2.x name the login field
 * differently (`email`, later `emailOrLdapLoginId`); both are sent, each version reads its own.
 */
async function login(url: string, owner: Owner): Promise<Session> {
	const browserId = randomUUID();
	const { response, body } = await send(
		url,
		'POST',
		'/rest/login',
		{ email: owner.email, emailOrLdapLoginId: owner.email, password: owner.password },
		{ 'browser-id': browserId },
	);
	if (!response.ok) throw new Error(`POST /rest/login answered ${response.status}: ${excerpt(body)}`);
	const cookie = response.headers
		.getSetCookie()
		.map((header) => /^n8n-auth=([^;]+)/.exec(header)?.[1])
		.find(Boolean);
	if (!cookie) throw new Error(`POST /rest/login answered ${response.status} without an n8n-auth cookie: ${excerpt(body)}`);
	return { authCookie: cookie, browserId };
}

function restClient(url: string, session: Session): RestClient {
	const headers = { cookie: `n8n-auth=${session.authCookie}`, 'browser-id': session.browserId };
	const request = async (method: string, path: string, body?: unknown): Promise<RestResponse> => {
		const answer = await send(url, method, path, body, headers);
		return { status: answer.response.status, body: answer.body };
	};
	const expectOk = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
		const answer = await request(method, path, body);
		if (answer.status < 200 || answer.status > 299) throw new Error(`${method} ${path} answered ${answer.status}: ${excerpt(answer.body)}`);
		return unwrap(answer.body) as T;
	};
	return {
		request,
		get: (path) => expectOk('GET', path),
		post: (path, body) => expectOk('POST', path, body),
	};
}
