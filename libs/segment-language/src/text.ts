// The text form of a definition: parseSegment and printSegment map it to and from the AST.
export type { ParseError, ParseResult } from './text-tokens';
export { parseSegment } from './text-parser';
export { printSegment, quote } from './text-printer';
