// A suite that needs something from outside the repository (Postfix, Chromium, the shared corpus or
// API descriptions). Without it the suite reports itself skipped, naming what is missing, except in
// CI (CI=true), where it fails: CI must run every suite.

export type Availability = { ok: true } | { ok: false; reason: string };

/** Runs `body` (which declares the suite) when `availability` holds; otherwise skips or fails it. */
export function whenAvailable(suite: string, availability: Availability, body: () => void): void {
	if (availability.ok) {
		body();
		return;
	}
	const { reason } = availability;
	if (process.env.CI === 'true') {
		test(`${suite}: what it needs is there`, () => {
			throw new Error(`The ${suite} cannot run in CI: ${reason}.`);
		});
	} else {
		test.skip(`${suite}: skipped, ${reason}`, () => undefined);
	}
}
