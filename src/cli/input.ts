// Reads the addresses to verify from a file or stdin: either one address per line, or a CSV file
// (comma, semicolon, tab or pipe separated) with a header row naming an email column.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { TextDecoder } from 'node:util';

import { CliError } from './errors';
import { CsvParser, CsvSyntaxError, readCsvRecords } from '../util/csv';

export interface AddressRecord {
	email: string;
	/** Physical line of the input the record starts on (1-based). */
	line: number;
	/** Every field of the CSV row, as read (CSV input only). */
	fields?: string[];
}

export interface AddressInput {
	/** Where the addresses came from, for messages ("stdin" or the file name). */
	source: string;
	/** The email column's header, or undefined for a plain list. */
	column?: string;
	/** The CSV header row and field delimiter (CSV input only). */
	header?: string[];
	delimiter?: string;
	records: AddressRecord[];
}

/** Header names recognised as the email column, compared lower-case without punctuation. */
const EMAIL_HEADERS = [
	'email', 'emailaddress', 'emails', 'mail', 'emailid', 'mailaddress',
	'useremail', 'contactemail', 'primaryemail', 'workemail', 'subscriberemail', 'courriel',
];

const squash = (header: string) => header.toLowerCase().replace(/[^a-z0-9]/g, '');

function findEmailColumn(header: string[], wanted: string | undefined): number {
	if (wanted !== undefined) {
		const exact = header.findIndex((h) => h.trim() === wanted);
		return exact >= 0 ? exact : header.findIndex((h) => h.trim().toLowerCase() === wanted.trim().toLowerCase());
	}
	for (const name of EMAIL_HEADERS) {
		const index = header.findIndex((h) => squash(h) === name);
		if (index >= 0) return index;
	}
	return -1;
}

async function openInput(file: string, stdin: NodeJS.ReadableStream): Promise<AsyncIterable<string | Buffer>> {
	if (file === '-') return stdin as AsyncIterable<Buffer>;
	try {
		const info = await stat(file);
		if (info.isDirectory()) throw new CliError(`${file} is a folder, not a file. Give a CSV or text file, or - for stdin.`);
	} catch (error) {
		if (error instanceof CliError) throw error;
		const code = (error as NodeJS.ErrnoException).code;
		const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
		throw new CliError(`Cannot read ${file}: ${why}.`);
	}
	return createReadStream(file);
}

/** All of a stream as text: UTF-8 decoded across chunk boundaries, without a leading BOM. */
export async function readText(input: AsyncIterable<string | Buffer> | NodeJS.ReadableStream): Promise<string> {
	const decoder = new TextDecoder('utf-8');
	let text = '';
	for await (const chunk of input as AsyncIterable<string | Buffer>) text += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
	return (text + decoder.decode()).replace(/^\uFEFF/, '');
}

/** A first line with an "@" that is not several CSV fields is an address: the input is a plain list. */
function isPlainList(firstLine: string): boolean {
	if (!firstLine.includes('@')) return false;
	try {
		const records = new CsvParser().push(`${firstLine}\n`);
		return records.length === 1 && records[0].length === 1;
	} catch (error) {
		if (error instanceof CsvSyntaxError) return true; // e.g. "a, b"@x.test: not CSV, an address
		throw error;
	}
}

export async function readAddresses(
	file: string,
	stdin: NodeJS.ReadableStream,
	options: { column?: string } = {},
): Promise<AddressInput> {
	const source = file === '-' ? 'stdin' : file;
	const text = await readText(await openInput(file, stdin));
	const lines = text.split(/\r\n|\n|\r/);
	const first = lines.findIndex((line) => line.trim() !== '');
	if (first < 0) throw new CliError(`${source} is empty: there are no addresses to verify.`);

	if (options.column === undefined && isPlainList(lines[first])) {
		const records: AddressRecord[] = [];
		lines.forEach((email, index) => {
			if (email.trim() !== '') records.push({ email, line: index + 1 });
		});
		return { source, records };
	}

	const records: AddressRecord[] = [];
	let emailIndex = -1;
	let column: string | undefined;
	let header: string[] | undefined;
	// The delimiter of the header line, to write the file back in it (bulk-file output).
	const detector = new CsvParser();
	try {
		detector.push(`${lines[first]}\n`);
	} catch (error) {
		if (!(error instanceof CsvSyntaxError)) throw error; // the full read below reports it, with its line
	}
	try {
		for await (const { record, line } of readCsvRecords(Readable.from([text]))) {
			if (column === undefined) {
				emailIndex = findEmailColumn(record, options.column);
				if (emailIndex < 0) {
					const seen = record.map((h) => JSON.stringify(h)).join(', ');
					throw new CliError(
						options.column !== undefined
							? `${source} has no column named "${options.column}". Columns seen: ${seen}.`
							: `${source} has no recognisable email column. Columns seen: ${seen}. ` +
									'Name the column with --column NAME, or give one address per line.',
					);
				}
				column = record[emailIndex];
				header = record;
				continue;
			}
			records.push({ email: record[emailIndex] ?? '', line, fields: record });
		}
	} catch (error) {
		if (error instanceof CsvSyntaxError) throw new CliError(`${source}: ${error.message}`);
		throw error;
	}
	return { source, column, header, delimiter: detector.delimiter ?? ',', records };
}
