// What every e2e suite does around real n8n: pack the built package once, time each phase for the
// record (printed after the suite), and give each pinned n8n version a fresh user folder with the
// package installed the way n8n installs community packages.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import * as runtime from '../../scripts/n8n-runtime.cjs';
import type { N8nRuntime } from '../../scripts/n8n-runtime.cjs';

/** A first install of n8n takes minutes; later runs find it in the cache. */
export const SETUP_TIMEOUT_MS = 20 * 60_000;
export const RUN_TIMEOUT_MS = 3 * 60_000;

export interface E2eSuite {
	/** Runs `fn`, recording its wall time under `label`. */
	timed<T>(label: string, fn: () => Promise<T>): Promise<T>;
	/** n8n of `version` and a new user folder with the packed package installed. */
	prepare(version: string, name: string): Promise<{ n8n: N8nRuntime; userFolder: string }>;
}

/** Registers the suite-wide hooks (call at module level) and returns the helpers. */
export function e2eSuite(): E2eSuite {
	const timings: string[] = [];
	const folders: string[] = [];
	let tgz: string | undefined;

	const timed = async <T>(label: string, fn: () => Promise<T>): Promise<T> => {
		const started = Date.now();
		try {
			return await fn();
		} finally {
			timings.push(`${label} ${((Date.now() - started) / 1000).toFixed(1)} s`);
		}
	};

	// The built package, packed once for every n8n version (fails at once when dist/ is missing).
	beforeAll(async () => {
		tgz = await timed('pack', () => runtime.packPackage());
	}, RUN_TIMEOUT_MS);

	afterAll(async () => {
		if (tgz) await rm(dirname(tgz), { recursive: true, force: true });
		await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
		if (timings.length > 0) process.stderr.write(`e2e timings: ${timings.join(', ')}\n`);
	});

	return {
		timed,
		async prepare(version, name) {
			const [n8n, userFolder] = await Promise.all([
				timed(`[${version}] ensure n8n`, () => runtime.ensureN8n(version)),
				mkdtemp(join(tmpdir(), `list-hygiene-e2e-${name}-${version}-`)),
			]);
			folders.push(userFolder);
			if (!tgz) throw new Error('the package was not packed: is dist/ built (npm run build)?');
			const packed = tgz;
			await timed(`[${version}] install package`, () => runtime.installPackage(userFolder, packed));
			return { n8n, userFolder };
		},
	};
}
