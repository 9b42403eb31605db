// A progress bar on stderr, drawn only when stderr is a terminal (never into a log or a pipe).
export interface Progress {
	update(done: number, total: number): void;
	/** Shows a phase with no count. */
	phase(message: string): void;
	/** Clears the line. */
	clear(): void;
}

const WIDTH = 24;

export function progressBar(stream: NodeJS.WritableStream, label: string, now: () => number = Date.now): Progress {
	const tty = (stream as NodeJS.WriteStream).isTTY === true;
	let last = Number.NEGATIVE_INFINITY;
	const draw = (text: string) => {
		if (tty) stream.write(`\r\x1b[2K${text}`);
	};
	return {
		update(done, total) {
			// At most ten redraws a second, and always the last one.
			if (!tty || (done < total && now() - last < 100)) return;
			last = now();
			const share = total === 0 ? 1 : done / total;
			const filled = Math.round(share * WIDTH);
			draw(`${label} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${Math.floor(share * 100)}% ${done.toLocaleString('en')}/${total.toLocaleString('en')}`);
		},
		phase(message) {
			draw(message);
		},
		clear() {
			draw('');
		},
	};
}
