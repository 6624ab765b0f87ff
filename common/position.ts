/** Where something is in a document: every diagnostic, block and finding carries one. */

/** 1-based line and column, as unist and every editor count them. */
export interface Point {
  line: number;
  column: number;
  offset?: number;
}

export interface Span {
  start: Point;
  end: Point;
}
