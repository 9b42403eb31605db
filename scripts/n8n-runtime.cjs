// A real n8n for `npm start` and the e2e tests: pinned n8n versions installed once into a cache
// folder, this package packed and installed into an n8n user folder the way n8n's own community
// package installer does it, workflows imported and run headlessly with `n8n execute`.
// Everything here is asynchronous (spawn, never the *Sync process functions): the tests keep serving
// a loopback DNS server from the same process while n8n runs.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const fsp = require('node:fs/promises');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

/** The n8n versions this package is tested against. */
const N8N_VERSIONS = Object.freeze(['1.123.50', '2.8.4']);
/** The version `npm start` runs unless LIST_HYGIENE_N8N_VERSION says otherwise. */
const DEFAULT_N8N_VERSION = process.env.LIST_HYGIENE_N8N_VERSION || '1.123.50';
const REPO_ROOT = path.resolve(__dirname, '..');
const PACKAGE_NAME = require('../package.json').name;

// n8n's dependency tree names xlsx by a URL that is not reachable from everywhere: pin the
// registry release instead.
const RUNTIME_OVERRIDES = Object.freeze({ xlsx: '0.18.5' });
const INSTALL_MARKER = '.installed';
const LOCK_HEARTBEAT_MS = 15_000;
const LOCK_STALE_MS = 3 * 60_000;

/** Where installed n8n versions live: LIST_HYGIENE_CACHE or ~/.cache/n8n-nodes-list-hygiene. */
function cacheRoot() {
	return path.resolve(process.env.LIST_HYGIENE_CACHE || path.join(os.homedir(), '.cache', 'n8n-nodes-list-hygiene'));
}

function runtimeDir(version) {
	return path.join(cacheRoot(), 'n8n', version);
}

function runtimeFor(version) {
	const dir = runtimeDir(version);
	return { version, dir, bin: path.join(dir, 'node_modules', 'n8n', 'bin', 'n8n') };
}

// ---------------------------------------------------------------------------------------------
// Child processes

/** The last `lines` lines of a process's output, for error messages. */
function tail(text, lines = 40) {
	const all = String(text ?? '').replace(/\s+$/, '').split(/\r?\n/);
	const kept = all.slice(-lines).join('\n');
	return all.length > lines ? `[... ${all.length - lines} earlier lines]\n${kept}` : kept;
}

/**
 * Runs a command without a shell and collects its output.
 * Resolves with the exit code whatever it is; rejects only when the process could not start.
 */
function run(command, args, options = {}) {
	const { cwd, env, timeoutMs = 0, onOutput, logFile } = options;
	return new Promise((resolve, reject) => {
		const started = Date.now();
		const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
		const stdout = [];
		const stderr = [];
		const log = logFile ? fs.createWriteStream(logFile, { flags: 'a' }) : undefined;
		let timedOut = false;
		let killTimer;
		const timer =
			timeoutMs > 0
				? setTimeout(() => {
						timedOut = true;
						child.kill('SIGTERM');
						killTimer = setTimeout(() => child.kill('SIGKILL'), 10_000);
					}, timeoutMs)
				: undefined;
		const collect = (sink, stream) => (chunk) => {
			sink.push(chunk);
			if (log) log.write(chunk);
			if (onOutput) onOutput(chunk.toString(), stream);
		};
		child.stdout.on('data', collect(stdout, 'stdout'));
		child.stderr.on('data', collect(stderr, 'stderr'));
		child.once('error', (error) => {
			clearTimeout(timer);
			clearTimeout(killTimer);
			if (log) log.end();
			reject(new Error(`Could not start ${command}: ${error.message}`));
		});
		child.once('close', (code, signal) => {
			clearTimeout(timer);
			clearTimeout(killTimer);
			const result = {
				code: code ?? -1,
				signal,
				timedOut,
				durationMs: Date.now() - started,
				stdout: Buffer.concat(stdout).toString(),
				stderr: Buffer.concat(stderr).toString(),
			};
			if (log) log.end(`\nrc=${result.code}${signal ? ` signal=${signal}` : ''}${timedOut ? ' (timed out)' : ''}\n`, () => resolve(result));
			else resolve(result);
		});
	});
}

function describeFailure(what, result) {
	const how = result.timedOut
		? `timed out after ${Math.round(result.durationMs / 1000)} s`
		: `exited with ${result.signal ? `signal ${result.signal}` : `code ${result.code}`}`;
	const output = [
		result.stderr.trim() ? `--- stderr (tail) ---\n${tail(result.stderr)}` : '',
		result.stdout.trim() ? `--- stdout (tail) ---\n${tail(result.stdout)}` : '',
	]
		.filter(Boolean)
		.join('\n');
	return `${what} ${how}${output ? `\n${output}` : ' without output'}`;
}

/** npm as [command, ...leading args]: the npm that runs us when there is one, else `npm` on PATH. */
function npmCommand() {
	const execPath = process.env.npm_execpath;
	if (execPath && /npm-cli\.c?js$/.test(execPath) && fs.existsSync(execPath)) return [process.execPath, execPath];
	return [process.platform === 'win32' ? 'npm.cmd' : 'npm'];
}

/** The environment for a child npm: ours without what an outer `npm run` put there about our repo. */
function npmEnv() {
	const env = { ...process.env };
	for (const key of Object.keys(env)) {
		if (/^npm_(package_|lifecycle_|config_local_prefix$)/i.test(key) || key === 'INIT_CWD') delete env[key];
	}
	return env;
}

function runNpm(args, options = {}) {
	const [command, ...lead] = npmCommand();
	return run(command, [...lead, ...args], { env: npmEnv(), ...options });
}

// ---------------------------------------------------------------------------------------------
// Installing n8n

async function exists(file) {
	try {
		await fsp.access(file);
		return true;
	} catch {
		return false;
	}
}

async function isInstalled(runtime) {
	if (!(await exists(runtime.bin))) return false;
	if (await exists(path.join(runtime.dir, INSTALL_MARKER))) return true;
	// An install made by hand (or by an earlier layout) that logged its exit code.
	try {
		const log = await fsp.readFile(path.join(runtime.dir, 'install.log'), 'utf8');
		if (/(^|\n)rc=0\s*$/.test(log)) {
			await fsp.writeFile(path.join(runtime.dir, INSTALL_MARKER), `${JSON.stringify({ version: runtime.version, adopted: new Date().toISOString() })}\n`);
			return true;
		}
	} catch {
		// no log: not installed
	}
	return false;
}

function pidAlive(pid) {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return error.code === 'EPERM';
	}
}

/** Why a lock directory is stale, or undefined when its owner still looks alive. */
async function staleReason(lockDir) {
	let stat;
	try {
		stat = await fsp.stat(lockDir);
	} catch {
		return undefined; // gone: not stale, just free
	}
	let owner;
	try {
		owner = JSON.parse(await fsp.readFile(path.join(lockDir, 'owner.json'), 'utf8'));
	} catch {
		owner = undefined;
	}
	if (owner && owner.hostname === os.hostname() && !pidAlive(owner.pid)) return `its owner (pid ${owner.pid}) is gone`;
	const age = Date.now() - stat.mtimeMs;
	if (age > LOCK_STALE_MS) return `no heartbeat for ${Math.round(age / 1000)} s`;
	return undefined;
}

/**
 * A lock directory next to the install folder: mkdir is atomic, the owner refreshes its mtime as a
 * heartbeat, and a lock whose owner died (or stopped beating) is taken over.
 */
async function acquireLock(lockDir, { log, what, waitMs = 60 * 60_000 } = {}) {
	const deadline = Date.now() + waitMs;
	let told = false;
	for (;;) {
		try {
			await fsp.mkdir(lockDir);
			await fsp.writeFile(
				path.join(lockDir, 'owner.json'),
				JSON.stringify({ pid: process.pid, hostname: os.hostname(), since: new Date().toISOString() }),
			);
			const heartbeat = setInterval(() => {
				const now = new Date();
				fsp.utimes(lockDir, now, now).catch(() => undefined);
			}, LOCK_HEARTBEAT_MS);
			heartbeat.unref();
			return async () => {
				clearInterval(heartbeat);
				await fsp.rm(lockDir, { recursive: true, force: true });
			};
		} catch (error) {
			if (error.code !== 'EEXIST') throw error;
		}
		const stale = await staleReason(lockDir);
		if (stale) {
			log(`Taking over the stale lock ${lockDir}: ${stale}`);
			// Rename first so that two waiters cannot both delete and re-create it.
			const aside = `${lockDir}.stale-${process.pid}-${Date.now()}`;
			try {
				await fsp.rename(lockDir, aside);
				await fsp.rm(aside, { recursive: true, force: true });
			} catch {
				// someone else took it over first
			}
			continue;
		}
		if (Date.now() > deadline) throw new Error(`Gave up waiting for the lock ${lockDir} after ${Math.round(waitMs / 60_000)} min`);
		if (!told) {
			log(`Another process is ${what}; waiting for it to finish (lock ${lockDir})`);
			told = true;
		}
		await new Promise((resolve) => setTimeout(resolve, 1000));
	}
}

const pendingInstalls = new Map();

/**
 * Makes sure n8n `version` is installed in the cache and returns where. The first install takes
 * minutes (about 2.3 GB); later calls return at once. Safe to call from several processes at once.
 */
function ensureN8n(version, options = {}) {
	if (!/^\d+\.\d+\.\d+$/.test(String(version))) return Promise.reject(new Error(`Not an n8n version: ${JSON.stringify(version)}`));
	if (!pendingInstalls.has(version)) {
		const pending = installN8n(version, options);
		pendingInstalls.set(version, pending);
		pending.catch(() => pendingInstalls.delete(version));
	}
	return pendingInstalls.get(version);
}

async function installN8n(version, { log = (message) => process.stderr.write(`${message}\n`), timeoutMs = 30 * 60_000 } = {}) {
	const runtime = runtimeFor(version);
	if (await isInstalled(runtime)) return runtime;

	await fsp.mkdir(path.dirname(runtime.dir), { recursive: true });
	const release = await acquireLock(`${runtime.dir}.lock`, { log, what: `installing n8n ${version} into ${runtime.dir}` });
	try {
		if (await isInstalled(runtime)) return runtime; // done by whoever held the lock

		await fsp.mkdir(runtime.dir, { recursive: true });
		const manifest = { name: 'n8n-runtime', private: true, dependencies: { n8n: version }, overrides: RUNTIME_OVERRIDES };
		await fsp.writeFile(path.join(runtime.dir, 'package.json'), `${JSON.stringify(manifest)}\n`);
		await fsp.rm(path.join(runtime.dir, INSTALL_MARKER), { force: true });
		const logFile = path.join(runtime.dir, 'install.log');
		await fsp.writeFile(logFile, `npm install n8n@${version} (${new Date().toISOString()})\n`);
		log(`Installing n8n ${version} into ${runtime.dir} (first time only: a few minutes, about 2.3 GB; log: ${logFile})`);

		const result = await runNpm(['install', '--no-audit', '--no-fund', '--loglevel=warn'], {
			cwd: runtime.dir,
			timeoutMs,
			logFile,
		});
		if (result.code !== 0 || !(await exists(runtime.bin))) {
			throw new Error(describeFailure(`npm install of n8n ${version} in ${runtime.dir}`, result));
		}
		await fsp.writeFile(
			path.join(runtime.dir, INSTALL_MARKER),
			`${JSON.stringify({ version, installedAt: new Date().toISOString(), node: process.version })}\n`,
		);
		log(`Installed n8n ${version} in ${Math.round(result.durationMs / 1000)} s`);
		return runtime;
	} finally {
		await release();
	}
}

// ---------------------------------------------------------------------------------------------
// Packing and installing this package

/**
 * `npm pack` of the built repository into a new temporary folder; returns the .tgz path.
 * Fails with a clear message when the build output the package names is missing.
 */
async function packPackage({ repoRoot = REPO_ROOT, destination } = {}) {
	const manifest = JSON.parse(await fsp.readFile(path.join(repoRoot, 'package.json'), 'utf8'));
	const declared = [...(manifest.n8n?.nodes ?? []), ...(manifest.n8n?.credentials ?? [])];
	const missing = [];
	for (const file of declared) if (!(await exists(path.join(repoRoot, file)))) missing.push(file);
	if (!(await exists(path.join(repoRoot, 'dist'))) || missing.length > 0) {
		throw new Error(
			`The package is not built: ${missing.length ? `missing ${missing.join(', ')}` : 'no dist/ folder'} in ${repoRoot}. ` +
				'Run `npm run build` first (`npm test` and `npm start` do).',
		);
	}
	const outDir = destination ?? (await fsp.mkdtemp(path.join(os.tmpdir(), `${manifest.name}-pack-`)));
	await fsp.mkdir(outDir, { recursive: true });
	const result = await runNpm(['pack', '--json', '--ignore-scripts', '--pack-destination', outDir], {
		cwd: repoRoot,
		timeoutMs: 5 * 60_000,
	});
	if (result.code !== 0) throw new Error(describeFailure(`npm pack in ${repoRoot}`, result));
	let filename;
	try {
		filename = JSON.parse(result.stdout)[0].filename;
	} catch {
		throw new Error(`Could not read the output of npm pack:\n${tail(result.stdout)}`);
	}
	const tgz = path.join(outDir, path.basename(filename));
	if (!(await exists(tgz))) throw new Error(`npm pack said it wrote ${filename}, but ${tgz} does not exist`);
	return tgz;
}

/** $N8N_USER_FOLDER/.n8n/nodes: where n8n keeps community packages. */
function nodesDir(userFolder) {
	return path.join(userFolder, '.n8n', 'nodes');
}

/**
 * Installs a packed community package into an n8n user folder the way n8n's own installer does
 * (Settings > Community nodes, same code in 1.x and 2.x): unpack into
 * .n8n/nodes/node_modules/<name>, drop dev, peer and optional dependencies from its package.json,
 * `npm install` its own dependencies there, and record it in .n8n/nodes/package.json.
 * Replaces an earlier copy of the same package.
 */
async function installPackage(userFolder, tgz) {
	const root = nodesDir(userFolder);
	await fsp.mkdir(path.join(root, 'node_modules'), { recursive: true });
	const rootManifest = path.join(root, 'package.json');
	if (!(await exists(rootManifest))) {
		await fsp.writeFile(rootManifest, `${JSON.stringify({ name: 'installed-nodes', private: true, dependencies: {} }, null, 2)}\n`);
	}

	// Unpack into a sibling folder, then swap it in, so a failed install never leaves half a package.
	const staging = await fsp.mkdtemp(path.join(root, '.staging-'));
	try {
		const untar = await run('tar', ['-xzf', path.resolve(tgz), '-C', staging, '--strip-components=1'], { timeoutMs: 60_000 });
		if (untar.code !== 0) throw new Error(describeFailure(`tar -xzf ${tgz}`, untar));
		const manifestPath = path.join(staging, 'package.json');
		// eslint-disable-next-line no-unused-vars
		const { devDependencies, peerDependencies, optionalDependencies, ...manifest } = JSON.parse(await fsp.readFile(manifestPath, 'utf8'));
		await fsp.writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
		if (Object.keys(manifest.dependencies ?? {}).length > 0) {
			const install = await runNpm(
				['install', '--audit=false', '--fund=false', '--bin-links=false', '--install-strategy=shallow', '--ignore-scripts=true', '--package-lock=false', '--omit=dev'],
				{ cwd: staging, timeoutMs: 10 * 60_000 },
			);
			if (install.code !== 0) throw new Error(describeFailure(`npm install of ${manifest.name}'s dependencies`, install));
		}

		const packageDir = path.join(root, 'node_modules', manifest.name);
		await fsp.mkdir(path.dirname(packageDir), { recursive: true });
		await fsp.rm(packageDir, { recursive: true, force: true });
		await fsp.rename(staging, packageDir);

		const installed = JSON.parse(await fsp.readFile(rootManifest, 'utf8'));
		installed.dependencies = { ...(installed.dependencies ?? {}), [manifest.name]: manifest.version };
		await fsp.writeFile(rootManifest, `${JSON.stringify(installed, null, 2)}\n`);
		return { name: manifest.name, version: manifest.version, packageDir };
	} finally {
		await fsp.rm(staging, { recursive: true, force: true });
	}
}

// ---------------------------------------------------------------------------------------------
// Running n8n

/** A TCP port that was free a moment ago on 127.0.0.1. */
function freePort() {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.unref();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address();
			server.close(() => resolve(port));
		});
	});
}

// Quiet, offline, local: no telemetry, no version or template look-ups, sqlite in the user folder.
const N8N_DEFAULT_ENV = Object.freeze({
	DB_TYPE: 'sqlite',
	N8N_DIAGNOSTICS_ENABLED: 'false',
	N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
	N8N_TEMPLATES_ENABLED: 'false',
	N8N_PERSONALIZATION_ENABLED: 'false',
	N8N_HIRING_BANNER_ENABLED: 'false',
	// n8n 1.x warns that the settings file is world-readable; 2.x fixes the mode itself.
	N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
	// Plain http on localhost: a secure cookie would need https.
	N8N_SECURE_COOKIE: 'false',
	N8N_COMMUNITY_PACKAGES_ENABLED: 'true',
	N8N_LOG_FORMAT: 'text',
});

// For `npm start` on n8n 1.x: the settings its deprecation warnings ask for, which are n8n 2.x's
// defaults (task runners for the Code node, a sqlite read pool, no env access from expressions, no
// bare git repositories). n8n 2.x warns about N8N_RUNNERS_ENABLED instead, so it gets none. The
// tests keep each version's own defaults.
function startEnvDefaults(version) {
	if (Number(String(version).split('.')[0]) >= 2) return {};
	return {
		N8N_RUNNERS_ENABLED: 'true',
		DB_SQLITE_POOL_SIZE: '3',
		N8N_BLOCK_ENV_ACCESS_IN_NODE: 'true',
		N8N_GIT_NODE_DISABLE_BARE_REPOS: 'true',
	};
}

// Inherited variables that would point a test's n8n somewhere else (another database, queue mode...).
const FOREIGN_ENV = /^(N8N_|DB_|EXECUTIONS_|QUEUE_|WEBHOOK_URL$|GENERIC_TIMEZONE$|NODE_FUNCTION_ALLOW_)/;

/**
 * The environment for an n8n process using `userFolder`. `isolated` (tests) drops inherited n8n
 * settings so the developer's shell cannot change the result; otherwise (start) the caller's
 * environment wins over the defaults (ours, then `defaults`). `extra` always wins.
 */
function n8nEnv(userFolder, { isolated = true, defaults = {}, extra = {} } = {}) {
	const inherited = { ...process.env };
	if (isolated) for (const key of Object.keys(inherited)) if (FOREIGN_ENV.test(key)) delete inherited[key];
	// Jest sets NODE_ENV=test, and n8n then believes it is inside its own unit tests: it logs nothing
	// and refuses to load nodes.
	if (inherited.NODE_ENV === 'test') delete inherited.NODE_ENV;
	return { ...N8N_DEFAULT_ENV, ...defaults, ...inherited, ...extra, N8N_USER_FOLDER: path.resolve(userFolder) };
}

/** Arguments to run `n8n` with the node that runs us: [execPath, [bin, ...args]]. */
function n8nCommand(runtime, args) {
	return [process.execPath, [runtime.bin, ...args]];
}

/**
 * Runs one n8n CLI command against `userFolder` and collects its output. Each call gets its own task
 * broker port, so several n8n processes (tests in parallel, `npm start`) never collide on 5679.
 */
async function runN8n(runtime, userFolder, args, { env, defaults, isolated = true, timeoutMs = 5 * 60_000 } = {}) {
	await fsp.mkdir(userFolder, { recursive: true });
	const brokerPort = String(await freePort());
	const [command, argv] = n8nCommand(runtime, args);
	return run(command, argv, {
		cwd: userFolder, // n8n reads a .env from its working directory: keep it to the user folder
		env: n8nEnv(userFolder, { isolated, defaults, extra: { N8N_RUNNERS_BROKER_PORT: brokerPort, ...env } }),
		timeoutMs,
	});
}

/**
 * Imports workflows into `userFolder` with one `n8n import:workflow`: a workflow object, a JSON file
 * (one workflow or an array, as n8n exports them), or a list of those. Every workflow needs an `id`
 * (and a `versionId`) for `n8n execute --id`. Importing an id again replaces that workflow.
 */
async function importWorkflow(runtime, userFolder, workflows, options = {}) {
	const list = [];
	for (const entry of Array.isArray(workflows) ? workflows : [workflows]) {
		const loaded = typeof entry === 'string' ? JSON.parse(await fsp.readFile(entry, 'utf8')) : entry;
		for (const workflow of Array.isArray(loaded) ? loaded : [loaded]) {
			if (!workflow || !workflow.id || !workflow.versionId) {
				const name = typeof entry === 'string' ? entry : `"${workflow && workflow.name}"`;
				throw new Error(`The workflow ${name} needs an "id" and a "versionId" to be imported and run headlessly`);
			}
			list.push(workflow);
		}
	}
	if (list.length === 0) throw new Error('No workflow to import');
	await fsp.mkdir(userFolder, { recursive: true });
	const folder = await fsp.mkdtemp(path.join(userFolder, 'import-'));
	try {
		const file = path.join(folder, 'workflows.json');
		await fsp.writeFile(file, JSON.stringify(list, null, 2));
		const result = await runN8n(runtime, userFolder, ['import:workflow', `--input=${file}`], options);
		if (result.code !== 0 || !/Successfully imported/i.test(result.stdout + result.stderr)) {
			const names = list.map((workflow) => `"${workflow.name}"`).join(', ');
			throw new Error(describeFailure(`n8n ${runtime.version} import:workflow of ${names}`, result));
		}
		return { ids: list.map((workflow) => workflow.id), durationMs: result.durationMs };
	} finally {
		await fsp.rm(folder, { recursive: true, force: true });
	}
}

/**
 * Imports credentials into `userFolder` with one `n8n import:credentials`: a credential object or a
 * list of them, each `{ id, name, type, data }` with `data` a plain object (n8n encrypts it with
 * the user folder's key on import). Importing an id again replaces that credential. The plain data
 * lives in a temporary file inside the user folder only while n8n reads it; errors name the
 * credentials, never their data.
 */
async function importCredentials(runtime, userFolder, credentials, options = {}) {
	const list = Array.isArray(credentials) ? credentials : [credentials];
	if (list.length === 0) throw new Error('No credential to import');
	for (const credential of list) {
		if (!credential || !credential.id || !credential.name || !credential.type || !credential.data || typeof credential.data !== 'object') {
			const name = credential && credential.name ? `"${credential.name}"` : JSON.stringify(credential && credential.id);
			throw new Error(`The credential ${name} needs an "id", a "name", a "type" and its "data" as an object to be imported`);
		}
	}
	await fsp.mkdir(userFolder, { recursive: true });
	const folder = await fsp.mkdtemp(path.join(userFolder, 'import-'));
	try {
		const file = path.join(folder, 'credentials.json');
		await fsp.writeFile(file, JSON.stringify(list), { mode: 0o600 });
		const result = await runN8n(runtime, userFolder, ['import:credentials', `--input=${file}`], options);
		if (result.code !== 0 || !/Successfully imported/i.test(result.stdout + result.stderr)) {
			const names = list.map((credential) => `"${credential.name}" (${credential.type})`).join(', ');
			throw new Error(describeFailure(`n8n ${runtime.version} import:credentials of ${names}`, result));
		}
		return { ids: list.map((credential) => credential.id), durationMs: result.durationMs };
	} finally {
		await fsp.rm(folder, { recursive: true, force: true });
	}
}

/**
 * The run record (`{ data: { resultData: { runData, error?, lastNodeExecuted } }, status, ... }`)
 * in the output of `n8n execute --rawOutput`. n8n prints it with JSON.stringify(data, null, 2),
 * possibly after log lines (task broker, warnings) and, on failure, before the error message; the
 * record is the block from a line that is exactly "{" to a line that is exactly "}".
 */
function locateRecord(stdout) {
	const lines = String(stdout).split(/\r?\n/);
	const opens = [];
	const closes = [];
	lines.forEach((line, index) => {
		if (line === '{') opens.push(index);
		else if (line === '}') closes.push(index);
	});
	for (const open of opens) {
		for (let c = closes.length - 1; c >= 0 && closes[c] > open; c--) {
			try {
				const record = JSON.parse(lines.slice(open, closes[c] + 1).join('\n'));
				if (record && record.data && record.data.resultData) {
					// What n8n printed around the record: log lines, the error message and its stack.
					const rest = [...lines.slice(0, open), '[run data]', ...lines.slice(closes[c] + 1)].join('\n');
					return { record, rest };
				}
			} catch {
				// not this pair
			}
		}
	}
	return { record: undefined, rest: String(stdout) };
}

function parseExecuteOutput(stdout) {
	return locateRecord(stdout).record;
}

function errorSummary(error) {
	if (!error) return undefined;
	const where = error.node && error.node.name ? ` (node "${error.node.name}")` : '';
	const description = error.description ? `: ${error.description}` : '';
	return `${error.message || error.name || 'unknown error'}${where}${description}`;
}

/**
 * Runs an imported workflow with `n8n execute --id=... --rawOutput` and returns its run data.
 * Rejects when n8n prints no run record, and (unless `allowFailure`) when the run failed.
 */
async function executeWorkflow(runtime, userFolder, id, { allowFailure = false, ...options } = {}) {
	const result = await runN8n(runtime, userFolder, ['execute', `--id=${id}`, '--rawOutput'], options);
	const { record, rest } = locateRecord(result.stdout);
	if (!record) throw new Error(describeFailure(`n8n ${runtime.version} execute --id=${id} printed no run data and`, result));
	const resultData = record.data.resultData;
	const execution = {
		status: record.status ?? (resultData.error ? 'error' : 'success'),
		error: resultData.error,
		lastNodeExecuted: resultData.lastNodeExecuted,
		runData: resultData.runData ?? {},
		record,
		exitCode: result.code,
		durationMs: result.durationMs,
		stdout: result.stdout,
		stderr: result.stderr,
	};
	if (!allowFailure && (execution.status !== 'success' || execution.error || result.code !== 0)) {
		const what =
			execution.status === 'success' && !execution.error
				? `n8n ${runtime.version} execute --id=${id}: the run succeeded but n8n`
				: `n8n ${runtime.version} execute --id=${id}: the run failed (${errorSummary(execution.error) ?? execution.status}); n8n`;
		throw new Error(describeFailure(what, { ...result, stdout: rest }));
	}
	return execution;
}

/** The item JSON a node put on one output in its last run (output 0 unless told). */
function nodeItems(execution, nodeName, outputIndex = 0) {
	const runs = execution.runData[nodeName];
	if (!runs || runs.length === 0) {
		throw new Error(`Node "${nodeName}" did not run; nodes that ran: ${Object.keys(execution.runData).join(', ') || 'none'}`);
	}
	const last = runs[runs.length - 1];
	if (last.error) throw new Error(`Node "${nodeName}" failed: ${errorSummary(last.error)}`);
	const outputs = (last.data && last.data.main) || [];
	return (outputs[outputIndex] || []).map((item) => item.json);
}

module.exports = {
	N8N_VERSIONS,
	DEFAULT_N8N_VERSION,
	REPO_ROOT,
	PACKAGE_NAME,
	N8N_DEFAULT_ENV,
	startEnvDefaults,
	cacheRoot,
	runtimeDir,
	ensureN8n,
	packPackage,
	nodesDir,
	installPackage,
	freePort,
	n8nEnv,
	n8nCommand,
	runN8n,
	importWorkflow,
	importCredentials,
	parseExecuteOutput,
	executeWorkflow,
	nodeItems,
	tail,
};
