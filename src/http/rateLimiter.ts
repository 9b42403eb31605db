// Stays under a platform's documented rate before the server complains: at most `requests`
// request starts in any window of `perMs` milliseconds.
export interface RateLimit {
	requests: number;
	perMs: number;
}

export class RateLimiter {
	private readonly starts: number[] = [];
	private chain: Promise<void> = Promise.resolve();

	constructor(
		private readonly limit: RateLimit,
		private readonly now: () => number = Date.now,
		private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
	) {
		if (!(limit.requests >= 1) || !(limit.perMs > 0)) {
			throw new RangeError(`a rate limit needs at least 1 request per positive time, got ${limit.requests}/${limit.perMs}ms`);
		}
	}

	/** Resolves when one more request may start; callers are served in order. */
	acquire(): Promise<void> {
		const turn = this.chain.then(() => this.waitForSlot());
		this.chain = turn;
		return turn;
	}

	private async waitForSlot(): Promise<void> {
		for (;;) {
			const now = this.now();
			while (this.starts.length > 0 && this.starts[0] <= now - this.limit.perMs) this.starts.shift();
			if (this.starts.length < this.limit.requests) {
				this.starts.push(now);
				return;
			}
			await this.sleep(this.starts[0] + this.limit.perMs - now);
		}
	}
}
