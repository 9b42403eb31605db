import { maskSecrets, maskUrl } from '../../../src/http/mask';
import { collect, paginate } from '../../../src/http/paginate';

describe('paginate and collect', () => {
	const pages: Record<string, { items: number[]; next?: string }> = {
		start: { items: [1, 2], next: 'b' },
		b: { items: [3, 4], next: 'c' },
		c: { items: [5] },
	};
	const fetchPage = jest.fn(async (cursor: string | undefined) => pages[cursor ?? 'start']);

	beforeEach(() => fetchPage.mockClear());

	it('follows cursors to the last page', async () => {
		await expect(collect(paginate(fetchPage))).resolves.toEqual([1, 2, 3, 4, 5]);
		expect(fetchPage.mock.calls.map(([c]) => c)).toEqual([undefined, 'b', 'c']);
	});

	it('stops fetching once the limit is reached', async () => {
		await expect(collect(paginate(fetchPage), 2)).resolves.toEqual([1, 2]);
		expect(fetchPage).toHaveBeenCalledTimes(1);
	});

	it('handles an empty first page', async () => {
		await expect(collect(paginate(async () => ({ items: [] as number[] })))).resolves.toEqual([]);
	});

	it('refuses a cursor the platform already gave', async () => {
		await expect(collect(paginate(async (c) => ({ items: [1], next: c === undefined ? 'x' : 'x' })))).rejects.toThrow(/repeated the cursor x/);
	});
});

describe('masking', () => {
	it('masks secret query parameters and credentials in URLs', () => {
		expect(maskUrl('https://u:p@api.test/v1/x?api_key=abc123&limit=5&token=zz')).toBe('https://***:***@api.test/v1/x?api_key=***&limit=5&token=***');
		expect(maskUrl('not a url')).toBe('not a url');
		expect(maskUrl('https://s3.test/f.gz?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=abc&X-Amz-Expires=600')).toBe(
			'https://s3.test/f.gz?X-Amz-Credential=***&X-Amz-Signature=***&X-Amz-Expires=600',
		);
	});

	it('masks every occurrence of each secret in text', () => {
		expect(maskSecrets('key 0123abcd-us6 rejected (0123abcd-us6)', ['0123abcd-us6', undefined, 'ab'])).toBe('key *** rejected (***)');
	});
});
