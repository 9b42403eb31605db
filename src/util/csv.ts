/**
 * A small, dependency-free RFC 4180 CSV reader and writer for the CLI.
 *
 * The package may not have runtime dependencies, so this is its own parser. It is incremental: text
 * can arrive in chunks split anywhere (inside a quoted field, between the CR and LF of a CRLF, between
 * the two quotes of a doubled quote) and the records come out the same as if the text had arrived whole.
 *
 * Reading rules:
 * - A record ends at LF, CRLF or a lone CR outside quotes. Empty physical lines are skipped.
 * - A field that starts with a double quote is quoted: it may hold delimiters, line breaks (kept as they
 *   are) and doubled quotes (`""` stands for one `"`). After its closing quote only a delimiter, a line
 *   break or the end of the input may follow; anything else is a {@link CsvSyntaxError}.
 * - A quote inside an unquoted field is an ordinary character (lenient, like csv-parse's relax_quotes).
 * - Records may have different numbers of fields; the caller decides what to do with that.
 * - A leading byte order mark (U+FEFF) is dropped.
 *
 * Fields are never trimmed or otherwise altered. The parser works in time linear in its input: field
 * text is collected as slices of the chunks and joined once per field.
 */

import { TextDecoder } from 'node:util';

export interface CsvOptions {
	/**
	 * The field delimiter, a single character other than a quote, CR or LF. When absent it is detected
	 * from the first record: whichever of `,` `;` tab `|` occurs most often outside quotes, `,` when
	 * two of them tie for most or none occurs.
	 */
	delimiter?: string;
}

/** Malformed CSV. `line` is the 1-based physical line of the problem; the message starts with it. */
export class CsvSyntaxError extends Error {
	readonly line: number;

	constructor(line: number, problem: string) {
		super(`line ${line}: ${problem}`);
		this.name = 'CsvSyntaxError';
		this.line = line;
	}
}

/** The delimiters that detection chooses from, the default first. */
const CANDIDATE_DELIMITERS = [',', ';', '\t', '|'] as const;

const QUOTE = 0x22; // "
const LF = 0x0a;
const CR = 0x0d;
const BOM = '\uFEFF';

// Parser states.
/** At the start of a field: nothing of it read yet. */
const FIELD_START = 0;
/** Inside an unquoted field. */
const UNQUOTED = 1;
/** Inside a quoted field. */
const QUOTED = 2;
/** Inside a quoted field, just after a quote: either the closing quote or the first of a doubled pair. */
const QUOTE_IN_QUOTED = 3;
type State = typeof FIELD_START | typeof UNQUOTED | typeof QUOTED | typeof QUOTE_IN_QUOTED;

function checkDelimiter(delimiter: string): string {
	if (
		typeof delimiter !== 'string' ||
		delimiter.length !== 1 ||
		delimiter === '"' ||
		delimiter === '\r' ||
		delimiter === '\n'
	) {
		throw new TypeError(
			`CSV delimiter must be a single character other than a quote, CR or LF, got ${JSON.stringify(delimiter)}`,
		);
	}
	return delimiter;
}

/**
 * Finds the delimiter from the first record, reading as few chunks as it needs. It follows quotes the
 * way the parser does, except that it does not know the delimiter yet, so it takes a quote as opening a
 * quoted field when it starts the line or follows any of the candidate delimiters.
 */
class DelimiterDetector {
	private readonly counts = new Map<string, number>(CANDIDATE_DELIMITERS.map((d) => [d, 0]));
	private contentSeen = false;
	private atFieldStart = true;
	private inQuotes = false;
	private quotePending = false;
	/** True once the first record has ended, so the counts are final. */
	done = false;

	scan(chunk: string): void {
		for (let i = 0; i < chunk.length && !this.done; i++) {
			const ch = chunk[i];
			if (this.inQuotes) {
				if (!this.quotePending) {
					if (ch === '"') this.quotePending = true;
					continue;
				}
				this.quotePending = false;
				if (ch === '"') continue; // a doubled quote
				this.inQuotes = false; // that was the closing quote: read this character outside quotes
			}
			if (ch === '\r' || ch === '\n') {
				// Line breaks before any content are blank lines, which the parser skips.
				if (this.contentSeen) this.done = true;
				continue;
			}
			this.contentSeen = true;
			const count = this.counts.get(ch);
			if (count !== undefined) {
				this.counts.set(ch, count + 1);
				this.atFieldStart = true;
			} else {
				this.inQuotes = ch === '"' && this.atFieldStart;
				this.atFieldStart = false;
			}
		}
	}

	/** The delimiter that occurs most, `,` on a tie for most or when none occurs. */
	result(): string {
		let best: string = ',';
		let bestCount = 0;
		let tie = false;
		for (const [candidate, count] of this.counts) {
			if (count > bestCount) {
				best = candidate;
				bestCount = count;
				tie = false;
			} else if (count === bestCount && count > 0) {
				tie = true;
			}
		}
		return tie ? ',' : best;
	}
}

/**
 * The parsing machine. It collects completed records, each with the physical line it started on, until
 * the caller takes them.
 */
class CsvEngine {
	delimiter: string | undefined;
	private delimiterCode = -1;
	/** Chunks held back until the delimiter is known. */
	private pending: string[] = [];
	private detector: DelimiterDetector | undefined;

	private state: State = FIELD_START;
	/** Whether the current record has begun (so a line break ends it rather than being a blank line). */
	private recordStarted = false;
	private fields: string[] = [];
	/** The text of the current field read from earlier chunks (or, when quoted, between doubled quotes). */
	private parts: string[] = [];
	/** The current physical line, 1-based. */
	private line = 1;
	/** Whether the last character read was a CR, so that an LF after it ends the same line. */
	private previousWasCr = false;
	private recordLine = 1;
	private quoteLine = 1;
	private started = false;
	private ended = false;
	private failure: CsvSyntaxError | undefined;

	records: string[][] = [];
	lines: number[] = [];

	constructor(options: CsvOptions | undefined) {
		if (options?.delimiter !== undefined) {
			this.setDelimiter(checkDelimiter(options.delimiter));
		} else {
			this.detector = new DelimiterDetector();
		}
	}

	private setDelimiter(delimiter: string): void {
		this.delimiter = delimiter;
		this.delimiterCode = delimiter.charCodeAt(0);
	}

	push(chunk: string): void {
		if (this.failure) throw this.failure;
		if (this.ended) throw new Error('CsvParser: push() called after end()');
		if (chunk.length === 0) return;
		if (!this.started) {
			this.started = true;
			if (chunk.startsWith(BOM)) {
				chunk = chunk.slice(1);
				if (chunk.length === 0) return;
			}
		}
		if (this.detector) {
			this.pending.push(chunk);
			this.detector.scan(chunk);
			if (this.detector.done) this.flushPending();
			return;
		}
		this.guarded(chunk);
	}

	end(): void {
		if (this.failure) throw this.failure;
		if (this.ended) return;
		this.ended = true;
		if (this.detector) this.flushPending();
		switch (this.state) {
			case FIELD_START:
				// After a delimiter at the very end of the input the record has one more, empty, field.
				if (this.recordStarted) {
					this.fields.push('');
					this.emit();
				}
				break;
			case UNQUOTED:
			case QUOTE_IN_QUOTED:
				this.fields.push(this.parts.length === 1 ? this.parts[0] : this.parts.join(''));
				this.parts = [];
				this.emit();
				break;
			case QUOTED:
				this.failure = new CsvSyntaxError(
					this.quoteLine,
					'a quoted field is not closed before the end of the file',
				);
				throw this.failure;
		}
		this.state = FIELD_START;
	}

	/** Decides the delimiter and parses the chunks held back for detection. */
	private flushPending(): void {
		this.setDelimiter((this.detector as DelimiterDetector).result());
		this.detector = undefined;
		const chunks = this.pending;
		this.pending = [];
		for (const chunk of chunks) this.guarded(chunk);
	}

	private guarded(chunk: string): void {
		try {
			this.parse(chunk);
		} catch (error) {
			if (error instanceof CsvSyntaxError) this.failure = error;
			throw error;
		}
	}

	private emit(): void {
		this.records.push(this.fields);
		this.lines.push(this.recordLine);
		this.fields = [];
		this.recordStarted = false;
	}

	/** Ends the current field at `end` in `chunk`; its text in this chunk starts at `start`. */
	private endField(chunk: string, start: number, end: number): void {
		if (this.parts.length === 0) {
			this.fields.push(chunk.slice(start, end));
			return;
		}
		if (end > start) this.parts.push(chunk.slice(start, end));
		this.fields.push(this.parts.length === 1 ? this.parts[0] : this.parts.join(''));
		this.parts = [];
	}

	/** Ends a quoted field whose text has all been collected in `parts`. */
	private endQuotedField(): void {
		const parts = this.parts;
		this.fields.push(parts.length === 0 ? '' : parts.length === 1 ? parts[0] : parts.join(''));
		this.parts = [];
	}

	private parse(chunk: string): void {
		const delimiter = this.delimiterCode;
		const length = chunk.length;
		let state = this.state;
		// Where the text of the current field starts in this chunk (unquoted and quoted states).
		let start = 0;
		for (let i = 0; i < length; i++) {
			const code = chunk.charCodeAt(i);
			const isBreak = code === LF || code === CR;
			if (isBreak) {
				if (code === CR || !this.previousWasCr) this.line++;
				this.previousWasCr = code === CR;
			} else {
				this.previousWasCr = false;
			}
			switch (state) {
				case FIELD_START:
					if (isBreak) {
						// A blank line, or the LF of a CRLF that ended the previous record.
						if (!this.recordStarted) continue;
						// The line ends just after a delimiter: the last field is empty.
						this.fields.push('');
						this.emit();
						continue;
					}
					if (!this.recordStarted) {
						this.recordStarted = true;
						this.recordLine = this.line;
					}
					if (code === delimiter) {
						this.fields.push('');
					} else if (code === QUOTE) {
						state = QUOTED;
						this.quoteLine = this.line;
						start = i + 1;
					} else {
						state = UNQUOTED;
						start = i;
					}
					continue;
				case UNQUOTED:
					if (code === delimiter) {
						this.endField(chunk, start, i);
						state = FIELD_START;
					} else if (isBreak) {
						this.endField(chunk, start, i);
						this.emit();
						state = FIELD_START;
					}
					// Any other character, a quote included, is part of the field.
					continue;
				case QUOTED:
					if (code === QUOTE) {
						if (i > start) this.parts.push(chunk.slice(start, i));
						state = QUOTE_IN_QUOTED;
					}
					continue;
				case QUOTE_IN_QUOTED:
					if (code === QUOTE) {
						// A doubled quote: the second one starts the next stretch of the field's text.
						state = QUOTED;
						start = i;
					} else if (code === delimiter) {
						this.endQuotedField();
						state = FIELD_START;
					} else if (isBreak) {
						this.endQuotedField();
						this.emit();
						state = FIELD_START;
					} else {
						this.state = state;
						throw new CsvSyntaxError(
							this.line,
							`unexpected character ${JSON.stringify(chunk[i])} after the closing quote of a quoted field ` +
								'(expected a delimiter or the end of the line; write a quote inside a quoted field as "")',
						);
					}
					continue;
			}
		}
		// Keep the part of an unfinished field that lies in this chunk.
		if ((state === UNQUOTED || state === QUOTED) && length > start) {
			this.parts.push(start === 0 ? chunk : chunk.slice(start));
		}
		this.state = state;
	}

	/** Takes the records completed so far. */
	takeRecords(): string[][] {
		const records = this.records;
		this.records = [];
		this.lines = [];
		return records;
	}
}

/**
 * Incremental CSV parser: feed it string chunks split anywhere and it returns the records each chunk
 * completes. After a {@link CsvSyntaxError} it throws the same error on every further call.
 */
export class CsvParser {
	private readonly engine: CsvEngine;

	constructor(options?: CsvOptions) {
		this.engine = new CsvEngine(options);
	}

	/** The field delimiter: the one given, or the detected one once the first record has been read. */
	get delimiter(): string | undefined {
		return this.engine.delimiter;
	}

	/** Parses a chunk and returns the records it completes. */
	push(chunk: string): string[][] {
		this.engine.push(chunk);
		return this.engine.takeRecords();
	}

	/**
	 * Ends the input and returns the remaining record (a last line without a line break).
	 * Throws {@link CsvSyntaxError} when the input ends inside a quoted field.
	 */
	end(): string[][] {
		this.engine.end();
		return this.engine.takeRecords();
	}
}

/**
 * Reads CSV records from a stream of text or UTF-8 bytes (a character may be split across chunks),
 * dropping a leading byte order mark. Each record comes with the physical line it starts on.
 * Bytes that are not valid UTF-8 become U+FFFD.
 */
export async function* readCsvRecords(
	input: AsyncIterable<string | Buffer>,
	options?: CsvOptions,
): AsyncGenerator<{ record: string[]; line: number }> {
	const engine = new CsvEngine(options);
	// ignoreBOM keeps the BOM in the text so that the engine drops it, whether the input is bytes or text.
	const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
	function* take(): Generator<{ record: string[]; line: number }> {
		const { records, lines } = engine;
		engine.records = [];
		engine.lines = [];
		for (let i = 0; i < records.length; i++) yield { record: records[i], line: lines[i] };
	}
	for await (const chunk of input) {
		engine.push(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
		yield* take();
	}
	engine.push(decoder.decode());
	engine.end();
	yield* take();
}

/**
 * Whether a field must be quoted: it holds the delimiter, a quote or a line break, or starts or ends
 * with a space or tab.
 */
function needsQuotes(text: string, delimiter: string): boolean {
	if (text.length === 0) return false;
	if (
		text.includes(delimiter) ||
		text.includes('"') ||
		text.includes('\n') ||
		text.includes('\r')
	) {
		return true;
	}
	const first = text[0];
	const last = text[text.length - 1];
	return first === ' ' || first === '\t' || last === ' ' || last === '\t';
}

/**
 * Formats one CSV row (RFC 4180), without a line break. A field is quoted when it holds the delimiter,
 * a quote, CR or LF, or starts or ends with a space or tab; quotes inside it are doubled. `null` and
 * `undefined` become empty fields. The data is not otherwise altered. A row of one empty field is
 * written as `""` so that it does not read back as a blank line, which readers skip.
 */
export function formatCsvRow(
	fields: readonly (string | number | boolean | null | undefined)[],
	delimiter: string = ',',
): string {
	checkDelimiter(delimiter);
	const out: string[] = [];
	for (const field of fields) {
		const text = field === null || field === undefined ? '' : String(field);
		out.push(needsQuotes(text, delimiter) ? `"${text.replace(/"/g, '""')}"` : text);
	}
	if (out.length === 1 && out[0] === '') return '""';
	return out.join(delimiter);
}
