import { PassThrough } from 'node:stream';

import { progressBar } from '../../src/cli/progress';

function stream(tty: boolean) {
	const s = new PassThrough() as PassThrough & { isTTY?: boolean };
	s.isTTY = tty;
	let text = '';
	s.on('data', (c: Buffer) => (text += c.toString('utf8')));
	return { s, text: () => text };
}

describe('progressBar', () => {
	it('draws a bar on a terminal, throttled, always drawing the last step', () => {
		let now = 0;
		const out = stream(true);
		const bar = progressBar(out.s, 'verifying', () => now);
		bar.update(0, 200);
		now = 50;
		bar.update(50, 200); // throttled
		now = 150;
		bar.update(100, 200);
		bar.update(200, 200); // the last one is always drawn
		bar.clear();
		const frames = out.text().split('\r\x1b[2K').filter(Boolean);
		expect(frames).toEqual([
			'verifying [------------------------] 0% 0/200',
			'verifying [############------------] 50% 100/200',
			'verifying [########################] 100% 200/200',
		]);
	});

	it('writes nothing when stderr is not a terminal (a log, a pipe)', () => {
		const out = stream(false);
		const bar = progressBar(out.s, 'verifying');
		bar.update(1, 2);
		bar.phase('planning…');
		bar.clear();
		expect(out.text()).toBe('');
	});
});
