import { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import {
	CsvParser,
	CsvSyntaxError,
	formatCsvRow,
	readCsvRecords,
	type CsvOptions,
} from '../../src/util/csv';

/** Parses chunks with a fresh parser; returns the records and the delimiter it used. */
function parseChunks(
	chunks: readonly string[],
	options?: CsvOptions,
): { records: string[][]; delimiter: string | undefined } {
	const parser = new CsvParser(options);
	const records: string[][] = [];
	for (const chunk of chunks) records.push(...parser.push(chunk));
	records.push(...parser.end());
	return { records, delimiter: parser.delimiter };
}

function parseText(text: string, options?: CsvOptions): string[][] {
	return parseChunks([text], options).records;
}

/** The text whole, split in two at every position, and cut into 1-character chunks. */
function chunkings(text: string): string[][] {
	const result: string[][] = [[text]];
	for (let at = 0; at <= text.length; at++) result.push([text.slice(0, at), text.slice(at)]);
	result.push(text.split(''));
	return result;
}

/** The error a parse throws, or a failure when it throws none. */
function parseError(chunks: readonly string[], options?: CsvOptions): CsvSyntaxError {
	try {
		parseChunks(chunks, options);
	} catch (error) {
		if (error instanceof CsvSyntaxError) return error;
		throw error;
	}
	throw new Error(`expected a CsvSyntaxError for ${JSON.stringify(chunks.join(''))}`);
}

/**
 * csv-parse options that read CSV the way our parser does:
 * - relax_column_count: records may have different field counts (our parser leaves that to the caller).
 * - skip_empty_lines: we skip empty physical lines.
 * - bom: we drop a leading byte order mark.
 * - record_delimiter: csv-parse otherwise picks ONE line ending (the first it meets) for the whole input
 *   and keeps the others as data; we end records at any of LF, CRLF and lone CR, even mixed.
 *   CRLF is listed first so it is taken as one line ending rather than a CR and then an empty line.
 * - relax_quotes: a quote inside an unquoted field is an ordinary character for us; without this option
 *   csv-parse throws "Invalid Opening Quote".
 * csv-parse's values are strings already (no cast option), like ours.
 */
function csvParseOptions(delimiter: string) {
	return {
		delimiter,
		relax_column_count: true,
		skip_empty_lines: true,
		bom: true,
		record_delimiter: ['\r\n', '\n', '\r'],
		relax_quotes: true,
	};
}

interface Case {
	name: string;
	input: string;
	options?: CsvOptions;
	expected: string[][];
	/** The delimiter the parser should use (detected unless given in options); ',' when absent. */
	delimiter?: string;
}

const cases: Case[] = [
	{ name: 'plain commas', input: 'a,b,c\n1,2,3\n', expected: [['a', 'b', 'c'], ['1', '2', '3']] },
	{ name: 'last record without a line break', input: 'a,b\nc,d', expected: [['a', 'b'], ['c', 'd']] },
	{ name: 'a delimiter inside quotes', input: '"a,b",c\n', expected: [['a,b', 'c']] },
	{ name: 'doubled quotes', input: '"say ""hi""",x\n', expected: [['say "hi"', 'x']] },
	{ name: 'a field that is one quote', input: '"""",""""""\n', expected: [['"', '""']] },
	{ name: 'LF inside a quoted field', input: '"line1\nline2",b\nc,d\n', expected: [['line1\nline2', 'b'], ['c', 'd']] },
	{ name: 'CRLF inside a quoted field and between records', input: '"l1\r\nl2",b\r\nc,d\r\n', expected: [['l1\r\nl2', 'b'], ['c', 'd']] },
	{ name: 'lone CR inside a quoted field and between records', input: '"l1\rl2",b\rc,d\r', expected: [['l1\rl2', 'b'], ['c', 'd']] },
	{ name: 'mixed line endings', input: 'a\nb\r\nc\rd', expected: [['a'], ['b'], ['c'], ['d']] },
	{ name: 'empty fields', input: 'a,,c\n,,\n', expected: [['a', '', 'c'], ['', '', '']] },
	{ name: 'empty quoted fields', input: '"",x,""\n""\n', expected: [['', 'x', ''], ['']] },
	{ name: 'trailing delimiter', input: 'a,b,\nc,d,', expected: [['a', 'b', ''], ['c', 'd', '']] },
	{ name: 'quoted field at the very end', input: 'a,"b\nc"', expected: [['a', 'b\nc']] },
	{ name: 'byte order mark', input: '\uFEFFname,email\nx,y\n', expected: [['name', 'email'], ['x', 'y']] },
	{ name: 'byte order mark before a quoted field', input: '\uFEFF"a",b\n', expected: [['a', 'b']] },
	{ name: 'blank lines are skipped', input: '\n\na\n\r\n\rb\n\n\r\n', expected: [['a'], ['b']] },
	{ name: 'spaces are kept', input: ' a , b \n  \n', expected: [[' a ', ' b '], ['  ']] },
	{ name: 'a quote inside an unquoted field is literal', input: 'a,5" disk,c"d"\nx"\n', expected: [['a', '5" disk', 'c"d"'], ['x"']] },
	{ name: 'non-ASCII text', input: 'é,😀\n"😀,é",ü\n', expected: [['é', '😀'], ['😀,é', 'ü']] },
	{ name: 'ragged records', input: 'a\nb,c,d\ne,f\n', expected: [['a'], ['b', 'c', 'd'], ['e', 'f']] },
	{
		name: 'semicolon detected',
		input: 'name;email;note\n"a;b";c,d;e\n',
		expected: [['name', 'email', 'note'], ['a;b', 'c,d', 'e']],
		delimiter: ';',
	},
	{
		name: 'tab detected',
		input: 'name\temail\tnote, more\nx\ty\t"z\tw"\n',
		expected: [['name', 'email', 'note, more'], ['x', 'y', 'z\tw']],
		delimiter: '\t',
	},
	{ name: 'pipe detected', input: 'a|b|c,d\n1|2|3\n', expected: [['a', 'b', 'c,d'], ['1', '2', '3']], delimiter: '|' },
	{ name: 'detection after blank lines', input: '\r\n\na;b\n', expected: [['a', 'b']], delimiter: ';' },
	{ name: 'detection ignores quoted delimiters', input: '"a;b;c",d\n', expected: [['a;b;c', 'd']], delimiter: ',' },
	{
		name: 'detection ignores a quoted line break',
		input: '"x\ny;z;w",a,b\n',
		expected: [['x\ny;z;w', 'a', 'b']],
		delimiter: ',',
	},
	{ name: 'detection tie gives a comma', input: 'a;b,c\n', expected: [['a;b', 'c']], delimiter: ',' },
	{ name: 'detection tie between others gives a comma', input: 'a;b|c\n', expected: [['a;b|c']], delimiter: ',' },
	{ name: 'no delimiter at all gives a comma', input: 'email\nx@example.com\n', expected: [['email'], ['x@example.com']], delimiter: ',' },
	{ name: 'given delimiter is not detected', input: 'a;b;c,d\n', options: { delimiter: ',' }, expected: [['a;b;c', 'd']] },
	{ name: 'given semicolon', input: 'a;"b;c";\n', options: { delimiter: ';' }, expected: [['a', 'b;c', '']], delimiter: ';' },
	{ name: 'empty input', input: '', expected: [] },
	{ name: 'only line breaks', input: '\r\n\n\r', expected: [] },
];

describe('CsvParser: focused cases', () => {
	it.each(cases)('$name', ({ input, options, expected, delimiter }) => {
		const result = parseChunks([input], options);
		expect(result.records).toEqual(expected);
		expect(result.delimiter).toBe(delimiter ?? options?.delimiter ?? ',');
	});

	it.each(cases)('$name: same records for every way of cutting the input', ({ input, options, expected }) => {
		for (const chunks of chunkings(input)) {
			expect({ chunks, records: parseChunks(chunks, options).records }).toEqual({ chunks, records: expected });
		}
	});

	it.each(cases)('$name: csv-parse agrees', ({ input, options, expected, delimiter }) => {
		const used = delimiter ?? options?.delimiter ?? ',';
		expect(parse(input, csvParseOptions(used))).toEqual(expected);
	});

	it('knows the detected delimiter once the first record has ended', () => {
		const parser = new CsvParser();
		expect(parser.delimiter).toBeUndefined();
		expect(parser.push('a;b')).toEqual([]);
		expect(parser.delimiter).toBeUndefined();
		expect(parser.push(';c\r')).toEqual([['a', 'b', 'c']]);
		expect(parser.delimiter).toBe(';');
		expect(parser.push('\nd;e')).toEqual([]);
		expect(parser.end()).toEqual([['d', 'e']]);
	});

	it('returns each record from the push that completes it', () => {
		const parser = new CsvParser({ delimiter: ',' });
		expect(parser.delimiter).toBe(',');
		expect(parser.push('a,"b')).toEqual([]);
		expect(parser.push('\n"\nc,d\ne')).toEqual([['a', 'b\n'], ['c', 'd']]);
		expect(parser.end()).toEqual([['e']]);
		expect(parser.end()).toEqual([]);
		expect(() => parser.push('x')).toThrow('after end()');
	});

	it('rejects a delimiter that cannot work', () => {
		for (const delimiter of ['', ';;', '"', '\n', '\r']) {
			expect(() => new CsvParser({ delimiter })).toThrow(TypeError);
		}
	});
});

interface ErrorCase {
	name: string;
	input: string;
	line: number;
	message: RegExp;
}

const errorCases: ErrorCase[] = [
	{
		name: 'unterminated quote',
		input: 'a,b\nc,"d\ne\nf',
		line: 2,
		message: /^line 2: a quoted field is not closed before the end of the file$/,
	},
	{
		name: 'unterminated quote after CRLF lines and blank lines',
		input: 'a\r\n\r\nb\r\n"',
		line: 4,
		message: /^line 4: a quoted field is not closed/,
	},
	{
		name: 'unterminated quote ending in a doubled quote',
		input: 'x\n"abc""',
		line: 2,
		message: /^line 2: a quoted field is not closed/,
	},
	{
		name: 'garbage after a closing quote',
		input: 'a,b\n"c"d,e\n',
		line: 2,
		message: /^line 2: unexpected character "d" after the closing quote/,
	},
	{
		name: 'garbage after a multi-line quoted field',
		input: 'a\n"x\r\ny\rz" ,w\n',
		line: 4,
		message: /^line 4: unexpected character " " after the closing quote/,
	},
];

describe('CsvParser: syntax errors', () => {
	it.each(errorCases)('$name', ({ input, line, message }) => {
		for (const chunks of chunkings(input)) {
			const error = parseError(chunks, { delimiter: ',' });
			expect({ chunks, line: error.line }).toEqual({ chunks, line });
			expect(error.message).toMatch(message);
			expect(error.name).toBe('CsvSyntaxError');
		}
		// Also when the delimiter is detected. csv-parse rejects the input too, without relax_quotes (with it,
		// csv-parse reads `"c"d` as the literal text `"c"d`, more lenient than ours).
		expect(parseError([input]).line).toBe(line);
		expect(() => parse(input, { ...csvParseOptions(','), relax_quotes: false })).toThrow();
	});

	it('keeps failing after an error', () => {
		const parser = new CsvParser({ delimiter: ',' });
		expect(() => parser.push('"a"b')).toThrow(CsvSyntaxError);
		expect(() => parser.push('c\n')).toThrow(CsvSyntaxError);
		expect(() => parser.end()).toThrow(CsvSyntaxError);
	});
});

describe('formatCsvRow', () => {
	it('quotes only what needs quoting and does not alter data', () => {
		expect(formatCsvRow(['a', 'b c', 'x@example.com'])).toBe('a,b c,x@example.com');
		expect(formatCsvRow(['a,b', 'say "hi"', 'l1\nl2', 'l1\r\nl2', 'cr\r'])).toBe(
			'"a,b","say ""hi""","l1\nl2","l1\r\nl2","cr\r"',
		);
		expect(formatCsvRow([' lead', 'trail ', '\ttab', 'in side'])).toBe('" lead","trail ","\ttab",in side');
		expect(formatCsvRow(['=1+1', '+x', '-y', '@z', 'é😀'])).toBe('=1+1,+x,-y,@z,é😀');
		expect(formatCsvRow(['a;b', 'c|d'])).toBe('a;b,c|d');
	});

	it('writes null and undefined as empty fields, and numbers and booleans as text', () => {
		expect(formatCsvRow([null, undefined, '', 0, -1.5, true, false])).toBe(',,,0,-1.5,true,false');
	});

	it('writes a row of one empty field as "" so that it does not read back as a blank line', () => {
		expect(formatCsvRow([''])).toBe('""');
		expect(formatCsvRow([null])).toBe('""');
		expect(parseText(`a\n${formatCsvRow([''])}\nb`)).toEqual([['a'], [''], ['b']]);
		expect(formatCsvRow([])).toBe('');
	});

	it('quotes for another delimiter when given one', () => {
		expect(formatCsvRow(['a;b', 'c,d', 'e'], ';')).toBe('"a;b";c,d;e');
		expect(formatCsvRow(['a\tb', 'c'], '\t')).toBe('"a\tb"\tc');
	});
});

/** A small deterministic pseudo-random generator (xorshift32), so that failures can be reproduced. */
class Random {
	private state: number;

	constructor(seed: number) {
		this.state = seed >>> 0 || 1;
	}

	/** A float in [0, 1). */
	next(): number {
		let x = this.state;
		x ^= x << 13;
		x >>>= 0;
		x ^= x >>> 17;
		x ^= x << 5;
		x >>>= 0;
		this.state = x;
		return x / 0x1_0000_0000;
	}

	/** An integer in [min, max]. */
	int(min: number, max: number): number {
		return min + Math.floor(this.next() * (max - min + 1));
	}

	pick<T>(items: readonly T[]): T {
		return items[Math.floor(this.next() * items.length)];
	}
}

const ALPHABET = ['a', 'b', 'Z', '0', '@', '.', ' ', ',', '"', '\r', '\n', ';', '\t', '|', 'é', '😀', '=', '-'];

function randomField(random: Random): string {
	const length = random.pick([0, 0, 1, 2, 3, 5, 8, 13]);
	let field = '';
	for (let i = 0; i < length; i++) field += random.pick(ALPHABET);
	return field;
}

function randomTable(random: Random): string[][] {
	const rows = random.int(1, 8);
	const columns = random.int(1, 5);
	const ragged = random.next() < 0.3;
	const table: string[][] = [];
	for (let r = 0; r < rows; r++) {
		const count = ragged ? random.int(1, 6) : columns;
		const row: string[] = [];
		for (let c = 0; c < count; c++) row.push(randomField(random));
		table.push(row);
	}
	return table;
}

/** Cuts text at a few random places. */
function randomChunks(random: Random, text: string): string[] {
	const chunks: string[] = [];
	let at = 0;
	while (at < text.length) {
		const size = random.int(1, Math.max(1, Math.ceil(text.length / random.int(1, 6))));
		chunks.push(text.slice(at, at + size));
		at += size;
	}
	return chunks;
}

describe('CsvParser against csv-parse (random tables)', () => {
	const random = new Random(0x5eed_c5f);
	const trials = Array.from({ length: 400 }, (_, i) => {
		const table = randomTable(random);
		const delimiter = random.pick([',', ',', ';', '\t', '|']);
		let text = random.next() < 0.1 ? '\uFEFF' : '';
		table.forEach((row, index) => {
			if (index > 0) text += random.pick(['\n', '\r\n']);
			text += formatCsvRow(row, delimiter);
		});
		if (random.next() < 0.5) text += random.pick(['\n', '\r\n']);
		return { i, table, delimiter, text, chunks: randomChunks(random, text) };
	});

	it.each(trials)('table $i', ({ table, delimiter, text, chunks }) => {
		const ours = parseText(text, { delimiter });
		expect(ours).toEqual(table);
		expect(parseChunks(chunks, { delimiter }).records).toEqual(table);
		expect(parse(text, csvParseOptions(delimiter))).toEqual(ours);
	});
});

describe('CsvParser against csv-parse (random raw text)', () => {
	// Text that is often malformed. Where our parser accepts it, csv-parse (relax_quotes) must return the
	// same records; where ours rejects it, csv-parse without relax_quotes must reject it too. (csv-parse's
	// relax_quotes goes further than ours: it also reads `"a"b` as the literal text `"a"b`.)
	const TOKENS = ['a', 'é', ',', '"', '"', '""', '\n', '\r\n', '\r', ' '];
	const random = new Random(20240611);
	const options = csvParseOptions(',');
	const strictOptions = { ...options, relax_quotes: false };

	it('agrees on 3000 random inputs', () => {
		let accepted = 0;
		for (let n = 0; n < 3000; n++) {
			let text = '';
			const length = random.int(1, 12);
			for (let i = 0; i < length; i++) text += random.pick(TOKENS);
			let ours: string[][] | undefined;
			try {
				ours = parseText(text, { delimiter: ',' });
			} catch (error) {
				expect(error).toBeInstanceOf(CsvSyntaxError);
			}
			if (ours) {
				accepted++;
				expect({ text, records: parse(text, options) }).toEqual({ text, records: ours });
			} else {
				expect(() => parse(text, strictOptions)).toThrow();
			}
		}
		expect(accepted).toBeGreaterThan(1000);
	});
});

describe('CsvParser on large input', () => {
	it('parses a multi-megabyte quoted field fed in small chunks', () => {
		const big = 'x"y,\n'.repeat(400_000); // 2,000,000 characters
		const text = `a,"${big.replace(/"/g, '""')}",b\n`;
		const chunks: string[] = [];
		for (let at = 0; at < text.length; at += 7) chunks.push(text.slice(at, at + 7));
		const { records } = parseChunks(chunks, { delimiter: ',' });
		expect(records.length).toBe(1);
		expect(records[0][0]).toBe('a');
		expect(records[0][1] === big).toBe(true);
		expect(records[0][2]).toBe('b');
	});
});

async function collect(input: AsyncIterable<string | Buffer>, options?: CsvOptions) {
	const out: { record: string[]; line: number }[] = [];
	for await (const item of readCsvRecords(input, options)) out.push(item);
	return out;
}

describe('readCsvRecords', () => {
	it('decodes a UTF-8 character split across two Buffers', async () => {
		const bytes = Buffer.from('name,note\nAndré,😀\n', 'utf8');
		const e = bytes.indexOf(0xc3); // the first byte of é
		const smiley = bytes.indexOf(0xf0); // the first byte of 😀
		const input = Readable.from([
			bytes.subarray(0, e + 1),
			bytes.subarray(e + 1, smiley + 2),
			bytes.subarray(smiley + 2),
		]);
		expect(await collect(input)).toEqual([
			{ record: ['name', 'note'], line: 1 },
			{ record: ['André', '😀'], line: 2 },
		]);
	});

	it('decodes every byte-by-byte split and drops a BOM split across Buffers', async () => {
		const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('é;"ü\n😀";x\r\n', 'utf8')]);
		const expected = [{ record: ['é', 'ü\n😀', 'x'], line: 1 }];
		for (let at = 0; at <= bytes.length; at++) {
			const input = Readable.from([bytes.subarray(0, at), bytes.subarray(at)]);
			expect(await collect(input)).toEqual(expected);
		}
		const oneByte = Readable.from(Array.from(bytes, (byte) => Buffer.from([byte])));
		expect(await collect(oneByte)).toEqual(expected);
	});

	it('gives the physical line each record starts on', async () => {
		const text = 'a,b\n\n"multi\r\nline",c\r\nd\r\re\n"x\ry",z';
		const input = Readable.from(text.split(''), { objectMode: true });
		expect(await collect(input)).toEqual([
			{ record: ['a', 'b'], line: 1 },
			{ record: ['multi\r\nline', 'c'], line: 3 },
			{ record: ['d'], line: 5 },
			{ record: ['e'], line: 7 },
			{ record: ['x\ry', 'z'], line: 8 },
		]);
	});

	it('keeps a BOM that is not at the start and drops one at the start of string input', async () => {
		const input = Readable.from(['\uFEFFa,\uFEFFb\n'], { objectMode: true });
		expect(await collect(input)).toEqual([{ record: ['a', '\uFEFFb'], line: 1 }]);
	});

	it('drops exactly one BOM from byte input, like csv-parse', async () => {
		const text = '\uFEFF\uFEFFa,b\n';
		const input = Readable.from([Buffer.from(text, 'utf8')]);
		expect(await collect(input)).toEqual([{ record: ['\uFEFFa', 'b'], line: 1 }]);
		expect(parse(text, csvParseOptions(','))).toEqual([['\uFEFFa', 'b']]);
	});

	it('throws CsvSyntaxError for an unterminated quote', async () => {
		const input = Readable.from([Buffer.from('a\nb\n"c\nd')]);
		await expect(collect(input)).rejects.toMatchObject({ name: 'CsvSyntaxError', line: 3 });
	});

	it('passes the delimiter option on', async () => {
		const input = Readable.from([Buffer.from('a;b,c\n')]);
		expect(await collect(input, { delimiter: ',' })).toEqual([{ record: ['a;b', 'c'], line: 1 }]);
	});
});
