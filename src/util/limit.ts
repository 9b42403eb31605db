// A concurrency limiter: at most `concurrency` of the wrapped calls run at once, the rest queue
// in call order.
export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

export function createLimiter(concurrency: number): Limiter {
	if (!Number.isInteger(concurrency) || concurrency < 1) {
		throw new RangeError(`concurrency must be a whole number of at least 1, got ${concurrency}`);
	}
	let active = 0;
	const waiting: Array<() => void> = [];
	const release = () => {
		active--;
		waiting.shift()?.();
	};
	return async (task) => {
		if (active >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
		active++;
		try {
			return await task();
		} finally {
			release();
		}
	};
}
