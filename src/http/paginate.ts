// Page iteration apart from page collection: a platform supplies how to fetch one page and where the
// next one starts; callers take pages as they come and may stop early.

export interface Page<T> {
	items: T[];
	/** Where the next page starts; absent on the last page. */
	next?: string;
}

export async function* paginate<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>): AsyncGenerator<T[]> {
	let cursor: string | undefined;
	const seen = new Set<string>();
	for (;;) {
		const page = await fetchPage(cursor);
		if (page.items.length > 0) yield page.items;
		if (page.next === undefined || page.next === '') return;
		// A platform that hands back a cursor it gave before would loop forever.
		if (seen.has(page.next)) throw new Error(`pagination repeated the cursor ${page.next}`);
		seen.add(page.next);
		cursor = page.next;
	}
}

/** Collects up to `limit` items (all when absent) from an iteration of pages. */
export async function collect<T>(pages: AsyncIterable<T[]>, limit?: number): Promise<T[]> {
	const items: T[] = [];
	for await (const page of pages) {
		for (const item of page) {
			if (limit !== undefined && items.length >= limit) return items;
			items.push(item);
		}
		if (limit !== undefined && items.length >= limit) return items;
	}
	return items;
}
